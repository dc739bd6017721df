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
	"github.com/chronicle-es/chronicle/internal/gqlws"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Transports configures the transports that carry subscriptions: WebSocket
// (graphql-transport-ws and the legacy graphql-ws) and GraphQL over SSE.
type Transports struct {
	// KeepAlive is how often an idle long request gets a keepalive: a ping on
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
	// MaxSubscriptionsPerConnection caps the subscriptions open at once on
	// one WebSocket (0: 100); MaxSubscriptions those of the whole instance,
	// WebSocket and SSE (0: 10000). Past them graphql-transport-ws closes
	// with 4429, graphql-ws answers the start with an error message, SSE
	// with HTTP 429; all say TOO_MANY_SUBSCRIPTIONS.
	MaxSubscriptionsPerConnection int
	MaxSubscriptions              int
	// Limits, when set, counts the subscriptions instead of limits made
	// from the two fields above (so that the caller can read how many are
	// open: Limits.Open).
	Limits *gqlws.Limits
}

// DefaultKeepAlive is Transports.KeepAlive's default.
const DefaultKeepAlive = 10 * time.Second

// websocketInitTimeout bounds the wait for connection_init.
const websocketInitTimeout = 10 * time.Second

// addTransports adds every transport, in order of precedence: gqlgen picks
// the first one that supports a request, and POST would take an SSE request.
// graphql-transport-ws is served by gqlws, the legacy graphql-ws (and a
// WebSocket that names no subprotocol) by gqlgen's transport.
func addTransports(srv interface{ AddTransport(graphql.Transport) }, s Transports) {
	keepAlive := s.KeepAlive
	if keepAlive <= 0 {
		keepAlive = DefaultKeepAlive
	}
	limits := s.Limits
	if limits == nil {
		limits = gqlws.NewLimits(s.MaxSubscriptionsPerConnection, s.MaxSubscriptions)
	}
	srv.AddTransport(longRequestTransport{Transport: gqlws.New(gqlws.Config{
		Init:           s.Init,
		InitTimeout:    websocketInitTimeout,
		KeepAlive:      keepAlive,
		OriginPatterns: s.OriginPatterns,
		Limits:         limits,
		Share:          shareKey,
	}), limits: limits})
	srv.AddTransport(longRequestTransport{Transport: transport.Websocket{
		Implementation: goingAwayWebsocket{WebsocketImplementation: transport.CoderWebsocketImplementation{
			AcceptOptions: websocket.AcceptOptions{OriginPatterns: s.OriginPatterns},
		}, limits: limits},
		InitFunc:              s.Init,
		InitTimeout:           websocketInitTimeout,
		KeepAlivePingInterval: keepAlive, // graphql-ws "ka"
	}, limits: limits})
	srv.AddTransport(longRequestTransport{Transport: transport.SSE{KeepAlivePingInterval: keepAlive}, limits: limits, sse: true})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(queriesOnlyGET{transport.GET{}})
	srv.AddTransport(transport.POST{})
	srv.AddTransport(unsupportedTransport{})
}

// longRequestKey is the context key of a request's *longRequestState.
type longRequestKey struct{}

// longRequestState marks the context of a request served by a streaming
// transport, and holds its WebSocket, if any.
type longRequestState struct {
	conn *goingAwayConn
}

// longRequestTransport is a transport that can carry a subscription's long request
// of responses. Its subscriptions count against limits: each SSE request
// (sse) for its duration, each WebSocket subscription id from subscribe to
// complete (see wsGuard).
type longRequestTransport struct {
	graphql.Transport
	limits *gqlws.Limits
	sse    bool
}

func (t longRequestTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	if t.sse {
		if !t.limits.Acquire() {
			refuseSSE(w)
			return
		}
		defer t.limits.Release(1)
	}
	st := &longRequestState{}
	if isWebsocket(t.Transport) {
		uw := &upgradeWriter{ResponseWriter: w}
		defer uw.answer()
		w = uw
	}
	t.Transport.Do(w, r.WithContext(context.WithValue(r.Context(), longRequestKey{}, st)), exec)
	if st.conn != nil {
		st.conn.guard.releaseAll()
		// gqlgen leaves some connections open on its way out (e.g. after
		// an undecodable connection_init payload); a connection it has
		// closed already is left to its close handshake.
		st.conn.stopInitWatch()
		_ = st.conn.Close()
	}
}

// isWebsocket reports the WebSocket transports, whose refused upgrades
// upgradeWriter answers.
func isWebsocket(t graphql.Transport) bool {
	switch t.(type) {
	case transport.Websocket, *gqlws.Transport:
		return true
	}
	return false
}

// subscriptionsNeedLongRequest refuses a subscription sent over plain POST or
// GET: those answer with the first response only, and would hold the
// request open until the subscription produced one.
type subscriptionsNeedLongRequest struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = subscriptionsNeedLongRequest{}

func (subscriptionsNeedLongRequest) ExtensionName() string                   { return "SubscriptionsNeedLongRequest" }
func (subscriptionsNeedLongRequest) Validate(graphql.ExecutableSchema) error { return nil }
func (subscriptionsNeedLongRequest) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil || rc.Operation.Operation != ast.Subscription {
		return nil
	}
	if _, streaming := ctx.Value(longRequestKey{}).(*longRequestState); streaming {
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
//
// It also puts a wsGuard on each connection: duplicate ids and the
// subscription caps. It serves the legacy graphql-ws only (gqlws serves
// graphql-transport-ws).
type goingAwayWebsocket struct {
	transport.WebsocketImplementation
	limits *gqlws.Limits
}

func (g goingAwayWebsocket) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := g.WebsocketImplementation.Accept(w, r, opts)
	if err != nil {
		if uw, ok := w.(*upgradeWriter); ok {
			uw.freeze() // what gqlgen writes next is not the refusal
		}
		return nil, err
	}
	c := &goingAwayConn{WebsocketConn: conn, ctx: r.Context(),
		guard: &wsGuard{limits: g.limits, ids: map[string]struct{}{}}}
	c.stopInitWatch = context.AfterFunc(r.Context(), func() {
		if !c.initialised.Load() {
			_ = c.WriteClose(transport.WebsocketCloseNormalClosure, "")
		}
	})
	if st, ok := r.Context().Value(longRequestKey{}).(*longRequestState); ok {
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
	guard         *wsGuard
}

var (
	_ transport.WebsocketReadLimiter   = (*goingAwayConn)(nil)
	_ transport.WebsocketReadDeadliner = (*goingAwayConn)(nil)
)

func (c *goingAwayConn) NextReader() (int, io.Reader, error) { return c.guardedRead() }

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
