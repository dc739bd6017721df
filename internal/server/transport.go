package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/chronicle-es/chronicle/graph"
	"github.com/rs/cors"
)

// longRequestWriteGrace is how long, once shutdown has begun, writes to a
// long request's connection may still take.
const longRequestWriteGrace = time.Second

// codeShuttingDown refuses a long request opened once shutdown has begun.
const codeShuttingDown = "SHUTTING_DOWN"

// errShuttingDown is the cause of a long request's context ending at shutdown.
var errShuttingDown = errors.New("server shutting down")

// errStuckClient is the cause of a long request's context ending because a write
// to the client timed out.
var errStuckClient = errors.New("client stopped reading")

// long requests tracks the long-lived requests at /query: WebSocket upgrades and
// SSE requests. http.Server.Shutdown neither closes nor waits for hijacked
// WebSocket connections, and would wait for SSE requests until its timeout;
// so at shutdown the long requests' contexts are cancelled (gqlgen then ends the
// subscriptions and closes the connections) and Serve waits for them here.
// Ordinary requests are left to Shutdown: they finish normally.
type longRequests struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	// writeTimeout bounds every write to a long request (see timedWriter).
	writeTimeout time.Duration

	mu      sync.Mutex
	closing bool
	running sync.WaitGroup
}

func newLongRequests(writeTimeout time.Duration) *longRequests {
	ctx, cancel := context.WithCancelCause(context.Background())
	return &longRequests{ctx: ctx, cancel: cancel, writeTimeout: writeTimeout}
}

// isLongRequest reports whether r asks for a WebSocket or an SSE long request.
func isLongRequest(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") ||
		strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// middleware gives each long request a context that also ends at
// shutdown, and tracks it; once shutdown has begun it refuses new long requests.
func (s *longRequests) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLongRequest(r) {
			next.ServeHTTP(w, r)
			return
		}
		if !s.begin() {
			w.Header().Set("Connection", "close")
			w.Header().Set("Retry-After", "1")
			graph.Refuse(w, http.StatusServiceUnavailable, codeShuttingDown, "server shutting down: reconnect (to another instance)")
			return
		}
		defer s.running.Done()
		ctx, cancel := context.WithCancelCause(r.Context())
		defer cancel(nil)
		stop := context.AfterFunc(s.ctx, func() {
			cancel(errShuttingDown)
			// A client that has stopped reading (its socket buffers full)
			// would hold a write to it, and so the long request, forever: the
			// last messages get longRequestWriteGrace, then writes fail. (The
			// connection is the same after a WebSocket upgrade.)
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(longRequestWriteGrace))
		})
		defer stop()
		tw := &timedWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeouts: writeTimeouts{s.writeTimeout, s.ctx.Done()},
			// gqlgen ignores SSE write errors: end the long request ourselves.
			failed: func(err error) { cancel(fmt.Errorf("%w: %w", errStuckClient, err)) }}
		next.ServeHTTP(tw, r.WithContext(ctx))
	})
}

// timedWriter gives every write of a long request a deadline, so that a client
// that stops reading is disconnected instead of holding a goroutine (and
// gqlgen's per-connection write lock) forever: gqlgen writes WebSocket and
// SSE messages without a timeout of its own. For SSE it wraps the writes to
// the response; for WebSocket, those to the hijacked connection.
type timedWriter struct {
	http.ResponseWriter
	rc       *http.ResponseController
	timeouts writeTimeouts
	failed   func(error) // called when a write to the response fails
}

// writeTimeouts gives the deadline of the next write: normal, or, once
// shutdown has begun, longRequestWriteGrace at most.
type writeTimeouts struct {
	normal   time.Duration
	shutdown <-chan struct{}
}

func (t writeTimeouts) deadline() time.Time {
	select {
	case <-t.shutdown:
		return time.Now().Add(min(t.normal, longRequestWriteGrace))
	default:
		return time.Now().Add(t.normal)
	}
}

func (w *timedWriter) Write(p []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(w.timeouts.deadline())
	n, err := w.ResponseWriter.Write(p)
	if err != nil {
		w.failed(err)
	}
	return n, err
}

// Flush implements http.Flusher (SSE flushes after every event).
func (w *timedWriter) Flush() {
	_ = w.rc.SetWriteDeadline(w.timeouts.deadline())
	if err := w.rc.Flush(); err != nil {
		w.failed(err)
	}
}

// Hijack implements http.Hijacker for the WebSocket upgrade: the returned
// connection, and the buffered writer on it, set the deadline on each write.
func (w *timedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := w.rc.Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		conn.Close()
		return nil, nil, err
	}
	tc := &timedConn{Conn: conn, timeouts: w.timeouts}
	brw.Writer.Reset(tc)
	return tc, brw, nil
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *timedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// timedConn sets a write deadline before each write to the connection.
type timedConn struct {
	net.Conn
	timeouts writeTimeouts
}

// Write closes the connection when a write fails: a frame may be half
// written, and the WebSocket library would go on writing to it. Closing
// makes the connection's reader fail, and gqlgen then ends the
// connection's subscriptions.
func (c *timedConn) Write(p []byte) (int, error) {
	_ = c.Conn.SetWriteDeadline(c.timeouts.deadline())
	n, err := c.Conn.Write(p)
	if err != nil {
		_ = c.Conn.Close()
	}
	return n, err
}

func (s *longRequests) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.running.Add(1)
	return true
}

// shutdown ends every long request and refuses new ones. It is safe to call twice.
func (s *longRequests) shutdown() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.cancel(errShuttingDown)
}

// wait waits until the long requests have returned, or ctx ends.
func (s *longRequests) wait(ctx context.Context) error {
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

// withCORS answers CORS requests (preflights included) from the allowed
// origins; with none, it adds nothing and browsers keep to same-origin.
func withCORS(allowedOrigins []string, next http.Handler) http.Handler {
	if len(allowedOrigins) == 0 {
		return next
	}
	return cors.New(cors.Options{
		AllowedOrigins:   allowedOrigins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders:   []string{"Content-Type", "Authorization", headerCorrelationID, headerActor, headerOrganization},
		ExposedHeaders:   []string{headerCorrelationID},
		AllowCredentials: true,
		MaxAge:           600,
	}).Handler(next)
}
