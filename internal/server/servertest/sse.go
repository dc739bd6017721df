package servertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

// SSEEvent is one event of a text/event-stream.
type SSEEvent struct {
	// Event is the event type ("next", "complete").
	Event string
	// Data is the event's data (lines joined with "\n").
	Data string
}

// Response decodes the data of a "next" event.
func (e SSEEvent) Response() (*Response, error) {
	var r Response
	if err := json.Unmarshal([]byte(e.Data), &r); err != nil {
		return nil, fmt.Errorf("%s event: %w: %q", e.Event, err, e.Data)
	}
	r.Body = []byte(e.Data)
	return &r, nil
}

// SSEConn is a GraphQL-over-SSE response being read.
type SSEConn struct {
	// Response is the HTTP response; its body is the stream.
	Response *http.Response

	events   chan SSEEvent
	done     chan struct{}
	err      error
	comments atomic.Int64
}

// Stream posts req with Accept: text/event-stream (GraphQL over SSE) and
// returns the stream of its events. Close it when done.
func (c *Client) SubscribeSSE(ctx context.Context, req Request) (*SSEConn, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "text/event-stream")
	c.setHeaders(hr, req.Header)
	hc := *c.HTTP
	hc.Timeout = 0 // a stream lasts
	resp, err := hc.Do(hr)
	if err != nil {
		return nil, err
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, fmt.Errorf("HTTP %d, Content-Type %q, not an event stream: %s", resp.StatusCode, ct, raw)
	}
	s := &SSEConn{Response: resp, events: make(chan SSEEvent, 1024), done: make(chan struct{})}
	go s.read()
	return s, nil
}

func (s *SSEConn) read() {
	defer close(s.done)
	defer close(s.events)
	sc := bufio.NewScanner(s.Response.Body)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	var (
		ev   SSEEvent
		data []string
	)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.Event == "" && data == nil {
				continue
			}
			ev.Data = strings.Join(data, "\n")
			select {
			case s.events <- ev:
			default:
				s.err = errors.New("servertest: more than 1024 unread SSE events")
				s.Response.Body.Close()
				return
			}
			ev, data = SSEEvent{}, nil
		case strings.HasPrefix(line, ":"):
			s.comments.Add(1)
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				ev.Event = value
			case "data":
				data = append(data, value)
			}
		}
	}
	s.err = sc.Err()
	if s.err == nil {
		s.err = io.EOF
	}
}

// Next returns the next event; io.EOF after the stream has ended.
func (s *SSEConn) Next(ctx context.Context) (SSEEvent, error) {
	select {
	case ev, ok := <-s.events:
		if !ok {
			return SSEEvent{}, s.err
		}
		return ev, nil
	case <-ctx.Done():
		return SSEEvent{}, fmt.Errorf("no SSE event: %w", ctx.Err())
	}
}

// Comments returns how many comment lines (keepalives) have arrived.
func (s *SSEConn) Comments() int { return int(s.comments.Load()) }

// Done is closed when the stream has ended.
func (s *SSEConn) Done() <-chan struct{} { return s.done }

// Close ends the stream from the client's side.
func (s *SSEConn) Close() { _ = s.Response.Body.Close() }
