package servertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The GraphQL-over-WebSocket subprotocols.
const (
	// GraphQLTransportWS is the current protocol (graphql-ws library 5+).
	GraphQLTransportWS = "graphql-transport-ws"
	// GraphQLWS is the legacy protocol of subscriptions-transport-ws.
	GraphQLWS = "graphql-ws"
)

// WSMessage is one message of either subprotocol.
type WSMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// IsNext reports a result of an operation ("next", legacy "data").
func (m WSMessage) IsNext() bool { return m.Type == "next" || m.Type == "data" }

// Response decodes the payload of a result message.
func (m WSMessage) Response() (*Response, error) {
	var r Response
	if err := json.Unmarshal(m.Payload, &r); err != nil {
		return nil, fmt.Errorf("%s message: %w: %s", m.Type, err, m.Payload)
	}
	r.Body = m.Payload
	return &r, nil
}

// Errors decodes the payload of an "error" message (a list of errors).
func (m WSMessage) Errors() ([]Error, error) {
	var errs []Error
	if err := json.Unmarshal(m.Payload, &errs); err != nil {
		return nil, fmt.Errorf("%s message: %w: %s", m.Type, err, m.Payload)
	}
	return errs, nil
}

// WSConn is a GraphQL-over-WebSocket client connection. A goroutine reads
// every message; it answers graphql-transport-ws pings with pongs, and
// counts them and graphql-ws keepalives ("ka") instead of handing them on.
type WSConn struct {
	// Conn is the WebSocket.
	Conn *websocket.Conn
	// Subprotocol is the negotiated subprotocol.
	Subprotocol string

	// Token, when not empty, is sent in connection_init (see Init).
	Token string

	messages   chan WSMessage
	done       chan struct{}
	err        error // why the reader stopped; set before done is closed
	keepAlives atomic.Int64
	writeMu    sync.Mutex
}

// DialWS opens a WebSocket to the server's /query with subprotocol
// (GraphQLTransportWS or GraphQLWS) as Client does: its Init sends a token
// of DefaultIdentity. header (e.g. Origin) is added to the upgrade request.
// On a refused upgrade the HTTP response is returned with the error.
func (s *Server) DialWS(ctx context.Context, subprotocol string, header http.Header) (*WSConn, *http.Response, error) {
	return s.Client().DialWS(ctx, subprotocol, header)
}

// DialWS opens a WebSocket to the client's endpoint with subprotocol; Init
// sends the client's token in connection_init (the upgrade request carries
// only header).
func (c *Client) DialWS(ctx context.Context, subprotocol string, header http.Header) (*WSConn, *http.Response, error) {
	u := "ws" + strings.TrimPrefix(c.URL, "http")
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: []string{subprotocol}, HTTPHeader: header})
	if err != nil {
		return nil, resp, err
	}
	if conn.Subprotocol() != subprotocol {
		_ = conn.CloseNow()
		return nil, resp, fmt.Errorf("negotiated subprotocol %q, want %q", conn.Subprotocol(), subprotocol)
	}
	ws := &WSConn{Conn: conn, Subprotocol: subprotocol, Token: c.Token, messages: make(chan WSMessage, 1024), done: make(chan struct{})}
	go ws.read()
	return ws, resp, nil
}

// MustDialWS is DialWS that fails the test on an error, and closes the
// connection when the test ends.
func (s *Server) MustDialWS(t testing.TB, subprotocol string, header http.Header) *WSConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := s.DialWS(ctx, subprotocol, header)
	if err != nil {
		t.Fatalf("servertest: dial websocket: %v", err)
	}
	t.Cleanup(c.Abort)
	return c
}

func (c *WSConn) read() {
	defer close(c.done)
	defer close(c.messages)
	for {
		_, b, err := c.Conn.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		var m WSMessage
		if err := json.Unmarshal(b, &m); err != nil {
			c.err = fmt.Errorf("undecodable message %q: %w", b, err)
			_ = c.Conn.CloseNow()
			return
		}
		switch {
		case m.Type == "ka":
			c.keepAlives.Add(1)
			continue
		case m.Type == "ping" && c.Subprotocol == GraphQLTransportWS:
			c.keepAlives.Add(1)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = c.Send(ctx, WSMessage{Type: "pong"})
			cancel()
			continue
		}
		select {
		case c.messages <- m:
		default:
			c.err = errors.New("servertest: more than 1024 unread websocket messages")
			_ = c.Conn.CloseNow()
			return
		}
	}
}

// Send writes one message.
func (c *WSConn) Send(ctx context.Context, m WSMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.Conn.Write(ctx, websocket.MessageText, b)
}

// Next returns the next message other than a keepalive. After the last one
// it returns the error the connection ended with (see websocket.CloseStatus).
func (c *WSConn) Next(ctx context.Context) (WSMessage, error) {
	select {
	case m, ok := <-c.messages:
		if !ok {
			return WSMessage{}, c.err
		}
		return m, nil
	case <-ctx.Done():
		return WSMessage{}, fmt.Errorf("no websocket message: %w", ctx.Err())
	}
}

// Init sends connection_init with payload (nil for none) and waits for
// connection_ack. When c.Token is set and payload (a JSON object) carries
// no token of its own ("Authorization", "authorization", "token",
// "authToken"), "Authorization": "Bearer <Token>" is added to it.
func (c *WSConn) Init(ctx context.Context, payload any) error {
	m := WSMessage{Type: "connection_init"}
	fields := map[string]any{}
	if payload != nil {
		b, err := json.Marshal(payload)
		if err != nil {
			return err
		}
		m.Payload = b
		if err := json.Unmarshal(b, &fields); err != nil {
			fields = nil // not an object: sent as is
		}
	}
	if c.Token != "" && fields != nil {
		has := false
		for _, k := range []string{"Authorization", "authorization", "token", "authToken"} {
			_, found := fields[k]
			has = has || found
		}
		if !has {
			fields["Authorization"] = "Bearer " + c.Token
			b, err := json.Marshal(fields)
			if err != nil {
				return err
			}
			m.Payload = b
		}
	}
	if err := c.Send(ctx, m); err != nil {
		return err
	}
	ack, err := c.Next(ctx)
	if err != nil {
		return err
	}
	if ack.Type != "connection_ack" {
		return fmt.Errorf("got %s %s, want connection_ack", ack.Type, ack.Payload)
	}
	return nil
}

// Subscribe starts operation id ("subscribe", legacy "start").
func (c *WSConn) Subscribe(ctx context.Context, id string, req Request) error {
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	typ := "subscribe"
	if c.Subprotocol == GraphQLWS {
		typ = "start"
	}
	return c.Send(ctx, WSMessage{Type: typ, ID: id, Payload: b})
}

// Stop ends operation id ("complete", legacy "stop").
func (c *WSConn) Stop(ctx context.Context, id string) error {
	typ := "complete"
	if c.Subprotocol == GraphQLWS {
		typ = "stop"
	}
	return c.Send(ctx, WSMessage{Type: typ, ID: id})
}

// KeepAlives returns how many keepalives (graphql-transport-ws pings,
// graphql-ws "ka") have arrived.
func (c *WSConn) KeepAlives() int { return int(c.keepAlives.Load()) }

// Done is closed when the connection has ended; Err then says how.
func (c *WSConn) Done() <-chan struct{} { return c.done }

// Err returns the error the connection ended with, once Done is closed.
func (c *WSConn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Close closes the connection normally (close handshake).
func (c *WSConn) Close() error { return c.Conn.Close(websocket.StatusNormalClosure, "") }

// Abort drops the connection without a close handshake.
func (c *WSConn) Abort() { _ = c.Conn.CloseNow() }
