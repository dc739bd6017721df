// Package gqlws serves GraphQL over WebSocket with the graphql-transport-ws
// protocol (github.com/enisdenjo/graphql-ws, PROTOCOL.md) for gqlgen, over
// github.com/coder/websocket, built for many idle subscriptions and a fast
// fan-out:
//
//   - one goroutine per connection reads it (the HTTP handler's own); a
//     writer goroutine runs only while the connection has frames to send,
//     and keepalive pings and the connection_init deadline are timers, not
//     goroutines;
//   - the connection keeps small read and write buffers instead of
//     net/http's 4 KiB ones, and, when the request's context carries a
//     Detacher, outlives its HTTP handler (net/http's goroutine and request
//     go);
//   - subscribers whose operations give the same results (same document,
//     operation name and variables, same caller: the key that Config.Share
//     gives) share one execution, whose results are
//     encoded once and queued to each of their connections; a slow
//     connection holds back only its own frames, which coalesce (the
//     newest state replaces one not written yet);
//   - every other operation runs on its own and waits, one frame ahead at
//     most, for its connection to take what it produced: an ordered stream
//     is slowed down, never dropped.
//
// Close codes follow the protocol: 4400 invalid message, 4401 subscribe
// before the connection was acknowledged, 4403 connection_init refused,
// 4408 no connection_init in time, 4409 a subscription id already in use,
// 4429 a second connection_init or a subscription past the caps; 1001 when
// the server shuts down (the request's context ends) and 1000 when the
// connection's own context ends (its token expired).
package gqlws

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
)

// Protocol is the WebSocket subprotocol this package serves.
const Protocol = "graphql-transport-ws"

// legacyProtocol is subscriptions-transport-ws's, which gqlgen's own
// transport serves: a client that offers it gets it (as from gqlgen alone).
const legacyProtocol = "graphql-ws"

// Close codes of graphql-transport-ws.
const (
	CloseBadMessage   = 4400 // "Invalid message received": not JSON, no or unknown type, no id, bad payload
	CloseUnauthorized = 4401 // "Unauthorized": subscribe before connection_ack
	CloseForbidden    = 4403 // "Forbidden": connection_init refused
	CloseInitTimeout  = 4408 // "Connection initialisation timeout"
	CloseDuplicateID  = 4409 // "Subscriber for <id> already exists"
	CloseTooMany      = 4429 // "Too many initialisation requests"; also the subscription caps
)

// Defaults of Config's zero fields.
const (
	DefaultInitTimeout = 10 * time.Second
	DefaultReadLimit   = 1 << 20 // bytes of one client message, as gqlgen's transport
)

// Buffer sizes of a connection: client messages are small (a subscribe is
// a few hundred bytes), and a frame that does not fit the write buffer goes
// out in two writes rather than one.
const (
	readBufferSize  = 512
	writeBufferSize = 1024
)

// InitRefusal is implemented by an error of Config.Init that says how to
// close the connection; any other error closes it with 4403 and the error's
// text as the reason.
type InitRefusal interface {
	error
	// CloseCode returns the close code and reason (at most 123 bytes).
	CloseCode() (code int, reason string)
}

// Config configures a Transport.
type Config struct {
	// Init checks connection_init's payload and returns the context of
	// the connection's operations, derived from ctx (the request's); an
	// error refuses the connection (see InitRefusal). nil accepts every
	// connection with the request's context.
	Init transport.WebsocketInitFunc
	// InitTimeout bounds the wait for connection_init (0: DefaultInitTimeout).
	InitTimeout time.Duration
	// KeepAlive is how often the server pings a connection; one that has
	// not answered a ping with a pong within two intervals is dropped. 0
	// sends no pings.
	KeepAlive time.Duration
	// OriginPatterns are the browser origins, besides the server's own,
	// allowed to open a connection (coder/websocket's AcceptOptions).
	OriginPatterns []string
	// Limits caps the subscriptions (every subscribe, until it completes)
	// of a connection and of the instance; nil for no caps.
	Limits *Limits
	// Share returns the sharing key of an operation that may share its
	// execution with others of the same key, or false. Operations of one
	// key must give every subscriber the same results, and only the latest
	// result may matter (a slow subscriber gets the newest one, a late one
	// the last one sent); the key must name everything the results depend
	// on: the document, the operation, the variables and the caller's
	// tenant and identity. nil shares nothing.
	Share func(ctx context.Context, op *graphql.OperationContext) (key string, ok bool)
	// ReadLimit bounds one client message in bytes (0: DefaultReadLimit).
	ReadLimit int64
}

// Transport is a gqlgen transport (graphql.Transport) for graphql-transport-ws.
// Use one per server: it holds the shared executions.
type Transport struct {
	cfg    Config
	shared registry
}

var _ graphql.Transport = (*Transport)(nil)

// New returns a Transport configured by cfg.
func New(cfg Config) *Transport {
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = DefaultInitTimeout
	}
	if cfg.ReadLimit <= 0 {
		cfg.ReadLimit = DefaultReadLimit
	}
	return &Transport{cfg: cfg, shared: registry{m: map[string]*execution{}}}
}

// Supports reports a WebSocket upgrade that negotiates graphql-transport-ws:
// the client offers it and not the legacy graphql-ws (which gqlgen's
// transport prefers when both are offered, and serves when none is).
func (t *Transport) Supports(r *http.Request) bool {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return false
	}
	ours := false
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			switch strings.TrimSpace(p) {
			case Protocol:
				ours = true
			case legacyProtocol:
				return false
			}
		}
	}
	return ours
}

// Do accepts the WebSocket and serves it until it closes. A refused
// upgrade (a bad request, an origin not allowed) is answered by
// coder/websocket with a plain-text error and its status.
func (t *Transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ws, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{
		Subprotocols:   []string{Protocol},
		OriginPatterns: t.cfg.OriginPatterns,
	})
	if err != nil {
		return
	}
	ws.SetReadLimit(t.cfg.ReadLimit)
	c := newConn(t, ws, r, exec)
	if detach, ok := r.Context().Value(detachKey{}).(Detacher); ok {
		// The handler returns, and with it net/http's goroutine of the
		// connection, its buffers and the request: an idle connection keeps
		// only its reader.
		done := detach()
		go func() {
			defer done()
			c.serve()
		}()
		return
	}
	c.serve()
}

// Detacher lets Do return while the connection it accepted stays open,
// served by a goroutine of its own. It returns the function to call once
// the connection has ended. Whoever serves the request must then keep the
// request's context alive beyond the handler's return (net/http cancels
// it then), until done is called: for example with context.WithoutCancel
// and a cancel of its own, called by done.
type Detacher func() (done func())

type detachKey struct{}

// WithDetacher returns ctx carrying d: Do, given a request with that
// context, detaches the connections it accepts (see Detacher).
func WithDetacher(ctx context.Context, d Detacher) context.Context {
	return context.WithValue(ctx, detachKey{}, d)
}

// smallBuffers hands coder/websocket the hijacked connection with small
// buffers: net/http's 4 KiB reader and writer would stay with every open
// connection.
type smallBuffers struct{ http.ResponseWriter }

// Hijack takes the connection over, keeping the bytes the client sent
// after the upgrade request, if any, ahead of the rest.
func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		_ = nc.Close()
		return nil, nil, err
	}
	if n := brw.Reader.Buffered(); n > 0 {
		// coder/websocket reads from the returned connection (it resets the
		// reader to it), so that connection gives these bytes first.
		early, _ := brw.Reader.Peek(n)
		nc = &earlyConn{Conn: nc, r: io.MultiReader(bytes.NewReader(bytes.Clone(early)), nc)}
	}
	return nc, bufio.NewReadWriter(bufio.NewReaderSize(nc, readBufferSize), bufio.NewWriterSize(nc, writeBufferSize)), nil
}

// earlyConn is a connection whose reads start with bytes read before the
// hijack.
type earlyConn struct {
	net.Conn
	r io.Reader
}

func (c *earlyConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// Unwrap lets http.ResponseController reach the server's writer.
func (w smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// registry holds the shared executions by key.
type registry struct {
	mu sync.Mutex
	m  map[string]*execution
}
