package graph

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Streaming configures the transports that carry subscriptions: WebSocket
// (graphql-transport-ws and the legacy graphql-ws) and GraphQL over SSE.
type Streaming struct {
	// KeepAlive is how often an idle stream gets a keepalive: a ping on
	// graphql-transport-ws (a client that does not answer with a pong
	// within two intervals is disconnected), "ka" on graphql-ws, a comment
	// line on SSE. 0 means 10 s.
	KeepAlive time.Duration
	// OriginPatterns are the browser origins, besides the server's own,
	// allowed to open a WebSocket: "scheme://host[:port]", with path.Match
	// wildcards (e.g. "http://localhost:5173", "https://*.example.com").
	OriginPatterns []string
	// Init, when set, checks a WebSocket's connection_init payload and
	// returns the context of the connection's operations (derived from
	// ctx); an error refuses the connection.
	Init transport.WebsocketInitFunc
}

// DefaultKeepAlive is Streaming.KeepAlive's default.
const DefaultKeepAlive = 10 * time.Second

// websocketInitTimeout bounds the wait for connection_init.
const websocketInitTimeout = 10 * time.Second

// addTransports adds every transport, in order of precedence: gqlgen picks
// the first one that supports a request, and POST would take an SSE request.
func addTransports(srv interface{ AddTransport(graphql.Transport) }, s Streaming) {
	keepAlive := s.KeepAlive
	if keepAlive <= 0 {
		keepAlive = DefaultKeepAlive
	}
	srv.AddTransport(streamingTransport{transport.Websocket{
		Implementation: goingAwayWebsocket{transport.CoderWebsocketImplementation{
			AcceptOptions: websocket.AcceptOptions{OriginPatterns: s.OriginPatterns},
		}},
		InitFunc:              s.Init,
		InitTimeout:           websocketInitTimeout,
		KeepAlivePingInterval: keepAlive, // graphql-ws "ka"
		PingPongInterval:      keepAlive, // graphql-transport-ws ping/pong
	}})
	srv.AddTransport(streamingTransport{transport.SSE{KeepAlivePingInterval: keepAlive}})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(queriesOnlyGET{transport.GET{}})
	srv.AddTransport(transport.POST{})
	srv.AddTransport(unsupportedTransport{})
}

// streamingKey is the context key of a request's *streamState.
type streamingKey struct{}

// streamState marks the context of a request served by a streaming
// transport, and holds its WebSocket, if any.
type streamState struct {
	conn *goingAwayConn
}

// streamingTransport is a transport that can carry a subscription's stream
// of responses.
type streamingTransport struct{ graphql.Transport }

func (t streamingTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	st := &streamState{}
	if _, ws := t.Transport.(transport.Websocket); ws {
		uw := &upgradeWriter{ResponseWriter: w}
		defer uw.answer()
		w = uw
	}
	t.Transport.Do(w, r.WithContext(context.WithValue(r.Context(), streamingKey{}, st)), exec)
	if st.conn != nil {
		// gqlgen leaves some connections open on its way out (e.g. after
		// an undecodable connection_init payload); a connection it has
		// closed already is left to its close handshake.
		st.conn.stopInitWatch()
		_ = st.conn.Close()
	}
}

// subscriptionsNeedStream refuses a subscription sent over plain POST or
// GET: those answer with the first response only, and would hold the
// request open until the subscription produced one.
type subscriptionsNeedStream struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = subscriptionsNeedStream{}

func (subscriptionsNeedStream) ExtensionName() string                   { return "SubscriptionsNeedStream" }
func (subscriptionsNeedStream) Validate(graphql.ExecutableSchema) error { return nil }
func (subscriptionsNeedStream) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil || rc.Operation.Operation != ast.Subscription {
		return nil
	}
	if _, streaming := ctx.Value(streamingKey{}).(*streamState); streaming {
		return nil
	}
	err := gqlerror.Errorf("subscriptions are served over WebSocket (graphql-transport-ws, graphql-ws) " +
		"or GraphQL over SSE (POST with Accept: text/event-stream)")
	err.Extensions = map[string]any{"code": string(apperr.BadUserInput)}
	return err
}

// goingAwayWebsocket accepts WebSockets whose close, when the server ends
// them (its shutdown cancels the request's context), says 1001 "going
// away" rather than gqlgen's 1000 "normal closure", so that clients
// reconnect (to another instance). It also closes a connection still
// waiting for connection_init when the context ends, which gqlgen does
// only once the connection is initialised.
type goingAwayWebsocket struct {
	transport.WebsocketImplementation
}

func (g goingAwayWebsocket) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := g.WebsocketImplementation.Accept(w, r, opts)
	if err != nil {
		if uw, ok := w.(*upgradeWriter); ok {
			uw.freeze() // what gqlgen writes next is not the refusal
		}
		return nil, err
	}
	c := &goingAwayConn{WebsocketConn: conn, ctx: r.Context()}
	c.stopInitWatch = context.AfterFunc(r.Context(), func() {
		if !c.initialised.Load() {
			_ = c.WriteClose(transport.WebsocketCloseNormalClosure, "")
		}
	})
	if st, ok := r.Context().Value(streamingKey{}).(*streamState); ok {
		st.conn = c
	}
	return c, nil
}

type goingAwayConn struct {
	transport.WebsocketConn
	ctx context.Context
	// initialised is set once the first message (connection_init) is read.
	initialised   atomic.Bool
	stopInitWatch func() bool
}

var (
	_ transport.WebsocketReadLimiter   = (*goingAwayConn)(nil)
	_ transport.WebsocketReadDeadliner = (*goingAwayConn)(nil)
)

func (c *goingAwayConn) NextReader() (int, io.Reader, error) {
	t, r, err := c.WebsocketConn.NextReader()
	c.initialised.Store(true)
	return t, r, err
}

func (c *goingAwayConn) WriteClose(code int, reason string) error {
	if code == transport.WebsocketCloseNormalClosure && c.ctx.Err() != nil {
		code, reason = int(websocket.StatusGoingAway), "server shutting down"
	}
	return c.WebsocketConn.WriteClose(code, reason)
}

func (c *goingAwayConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

func (c *goingAwayConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}
