package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/rs/cors"
)

// streamWriteGrace is how long, once shutdown has begun, writes to a
// stream's connection may still take.
const streamWriteGrace = time.Second

// errShuttingDown is the cause of a stream's context ending at shutdown.
var errShuttingDown = errors.New("server shutting down")

// streams tracks the long-lived requests at /query: WebSocket upgrades and
// SSE streams. http.Server.Shutdown neither closes nor waits for hijacked
// WebSocket connections, and would wait for SSE streams until its timeout;
// so at shutdown the streams' contexts are cancelled (gqlgen then ends the
// subscriptions and closes the connections) and Serve waits for them here.
// Ordinary requests are left to Shutdown: they finish normally.
type streams struct {
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu      sync.Mutex
	closing bool
	running sync.WaitGroup
}

func newStreams() *streams {
	ctx, cancel := context.WithCancelCause(context.Background())
	return &streams{ctx: ctx, cancel: cancel}
}

// isStream reports whether r asks for a WebSocket or an SSE stream.
func isStream(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") ||
		strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// middleware gives each streaming request a context that also ends at
// shutdown, and tracks it; once shutdown has begun it refuses new streams.
func (s *streams) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isStream(r) {
			next.ServeHTTP(w, r)
			return
		}
		if !s.begin() {
			w.Header().Set("Connection", "close")
			http.Error(w, "server shutting down", http.StatusServiceUnavailable)
			return
		}
		defer s.running.Done()
		ctx, cancel := context.WithCancelCause(r.Context())
		defer cancel(nil)
		stop := context.AfterFunc(s.ctx, func() {
			cancel(errShuttingDown)
			// A client that has stopped reading (its socket buffers full)
			// would hold a write to it, and so the stream, forever: the
			// last messages get streamWriteGrace, then writes fail. (The
			// connection is the same after a WebSocket upgrade.)
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(streamWriteGrace))
		})
		defer stop()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (s *streams) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.running.Add(1)
	return true
}

// shutdown ends every stream and refuses new ones. It is safe to call twice.
func (s *streams) shutdown() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.cancel(errShuttingDown)
}

// wait waits until the streaming requests have returned, or ctx ends.
func (s *streams) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.running.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("streams still open: %w", ctx.Err())
	}
}

// websocketInit returns the WebSocket connection_init handler: it sets the
// caller of the connection's operations. The upgrade request passed
// withCaller already (its correlation id, or a fresh one, is the
// connection's); in development mode the payload's "actor" names the caller,
// as the X-Actor header does (browsers cannot set headers on a WebSocket).
// This is where an auth token in the payload will be checked.
func websocketInit(dev bool) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		c := caller.From(ctx)
		if a := payload.GetString("actor"); dev && validHeaderValue(a) {
			c.Actor = a
		}
		return caller.With(ctx, c), nil, nil
	}
}

// withCORS answers CORS requests (preflights included) from the allowed
// origins; with none, it adds nothing and browsers keep to same-origin.
func withCORS(allowedOrigins []string, next http.Handler) http.Handler {
	if len(allowedOrigins) == 0 {
		return next
	}
	return cors.New(cors.Options{
		AllowedOrigins:   allowedOrigins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders:   []string{"Content-Type", "Authorization", headerCorrelationID, headerActor},
		ExposedHeaders:   []string{headerCorrelationID},
		AllowCredentials: true,
		MaxAge:           600,
	}).Handler(next)
}
