package servertest

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// Feed is one subscription's stream of results, over WebSocket or SSE,
// read with a time limit per result.
type Feed interface {
	// Next returns the data of the subscription's next result, which must
	// come within d and carry no errors.
	Next(t testing.TB, d time.Duration) json.RawMessage
	// Quiet fails t if anything arrives for the subscription within d.
	Quiet(t testing.TB, d time.Duration)
	// Name labels the feed in failures.
	Name() string
}

// WSMux reads one WebSocket's messages per operation id, without a time
// limit of its own.
type WSMux struct {
	c       *WSConn
	pending map[string][]WSMessage
}

// NewWSMux returns a mux reading c.
func NewWSMux(c *WSConn) *WSMux {
	return &WSMux{c: c, pending: map[string][]WSMessage{}}
}

// Next returns the next message of operation id, which must come within d.
func (m *WSMux) Next(t testing.TB, id string, d time.Duration) WSMessage {
	t.Helper()
	if q := m.pending[id]; len(q) > 0 {
		m.pending[id] = q[1:]
		return q[0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		msg, err := m.c.Next(ctx)
		if err != nil {
			t.Fatalf("waiting %v for a message of %s: %v", d, id, err)
		}
		if msg.ID == id {
			return msg
		}
		m.pending[msg.ID] = append(m.pending[msg.ID], msg)
	}
}

// Quiet fails t if a message of operation id arrives within d.
func (m *WSMux) Quiet(t testing.TB, id string, d time.Duration) {
	t.Helper()
	if q := m.pending[id]; len(q) > 0 {
		t.Fatalf("%s: unexpected %s %s", id, q[0].Type, q[0].Payload)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		msg, err := m.c.Next(ctx)
		if err != nil {
			if ctx.Err() == nil {
				t.Fatalf("%s: connection ended: %v", id, err)
			}
			return
		}
		if msg.ID == id {
			t.Fatalf("%s: unexpected %s %s", id, msg.Type, msg.Payload)
		}
		m.pending[msg.ID] = append(m.pending[msg.ID], msg)
	}
}

// Subscribe starts operation id on the mux's connection and returns its
// feed.
func (m *WSMux) Subscribe(t testing.TB, label, id, query string, vars Vars) Feed {
	t.Helper()
	if err := m.c.Subscribe(subscribeCtx(t), id, Request{Query: query, Variables: vars}); err != nil {
		t.Fatalf("%s: subscribe: %v", label, err)
	}
	return &wsFeed{mux: m, id: id, label: label}
}

type wsFeed struct {
	mux   *WSMux
	id    string
	label string
}

func (f *wsFeed) Name() string { return f.label }

func (f *wsFeed) Next(t testing.TB, d time.Duration) json.RawMessage {
	t.Helper()
	m := f.mux.Next(t, f.id, d)
	if !m.IsNext() {
		t.Fatalf("%s: got %s %s, want a result", f.label, m.Type, m.Payload)
	}
	resp, err := m.Response()
	if err != nil {
		t.Fatalf("%s: %v", f.label, err)
	}
	if len(resp.Errors) > 0 || len(resp.Data) == 0 {
		t.Fatalf("%s: result %s", f.label, m.Payload)
	}
	return resp.Data
}

func (f *wsFeed) Quiet(t testing.TB, d time.Duration) {
	t.Helper()
	f.mux.Quiet(t, f.id, d)
}

type sseFeed struct {
	st    *SSEConn
	label string
}

// SSEFeed opens a GraphQL-over-SSE subscription on c, closed when the
// test ends.
func SSEFeed(t testing.TB, c *Client, label, query string, vars Vars) Feed {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := c.SubscribeSSE(ctx, Request{Query: query, Variables: vars})
	if err != nil {
		cancel()
		t.Fatalf("%s: %v", label, err)
	}
	t.Cleanup(func() {
		st.Close()
		cancel()
	})
	return &sseFeed{st: st, label: label}
}

func (f *sseFeed) Name() string { return f.label }

func (f *sseFeed) Next(t testing.TB, d time.Duration) json.RawMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	ev, err := f.st.Next(ctx)
	if err != nil {
		t.Fatalf("%s: waiting %v for an event: %v", f.label, d, err)
	}
	if ev.Event != "next" {
		t.Fatalf("%s: event %q %s, want next", f.label, ev.Event, ev.Data)
	}
	resp, err := ev.Response()
	if err != nil {
		t.Fatalf("%s: %v", f.label, err)
	}
	if len(resp.Errors) > 0 || len(resp.Data) == 0 {
		t.Fatalf("%s: result %s", f.label, ev.Data)
	}
	return resp.Data
}

func (f *sseFeed) Quiet(t testing.TB, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if ev, err := f.st.Next(ctx); err == nil {
		t.Fatalf("%s: unexpected event %q %s", f.label, ev.Event, ev.Data)
	} else if ctx.Err() == nil {
		t.Fatalf("%s: stream ended: %v", f.label, err)
	}
}

// subscribeCtx bounds a subscribe message's send, and ends with the test.
func subscribeCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Conn returns the connection the mux reads.
func (m *WSMux) Conn() *WSConn { return m.c }
