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
	"github.com/chronicle-es/chronicle/internal/gqlws"
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
	return isWebSocket(r) || strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// middleware gives each long request a context that also ends at
// shutdown, and tracks it; once shutdown has begun it refuses new long requests.
//
// A WebSocket may outlive its handler: gqlws serves a connection on a
// goroutine of its own and lets the handler return, so that net/http's
// goroutine, buffers and request go (see gqlws.Detacher). Its long request
// then ends, with whatever was to run at its end (longLife), when the
// connection ends; and its context does not derive its end from the
// request's, which net/http cancels when the handler returns.
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
		life := &longLife{}
		life.atEnd(s.running.Done)
		base := r.Context()
		if isWebSocket(r) {
			base = context.WithoutCancel(base)
		}
		ctx, cancel := context.WithCancelCause(base)
		life.atEnd(func() { cancel(nil) })
		grace := &graceDeadline{rc: http.NewResponseController(w)}
		stop := context.AfterFunc(s.ctx, func() {
			cancel(errShuttingDown)
			// A client that has stopped reading (its socket buffers full)
			// would hold a write to it, and so the long request, forever: the
			// last messages get longRequestWriteGrace, then writes fail. (The
			// connection is the same after a WebSocket upgrade.)
			grace.set(time.Now().Add(longRequestWriteGrace))
		})
		life.atEnd(func() { stop() })
		tw := &timedWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeouts: writeTimeouts{s.writeTimeout, s.ctx.Done()},
			// gqlgen ignores SSE write errors: end the long request ourselves.
			failed:   func(err error) { cancel(fmt.Errorf("%w: %w", errStuckClient, err)) },
			hijacked: grace.hijacked}
		ctx = gqlws.WithDetacher(context.WithValue(ctx, longLifeKey{}, life), life.detach)
		next.ServeHTTP(tw, r.WithContext(ctx))
		life.handlerReturned()
	})
}

// isWebSocket reports a WebSocket upgrade request.
func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// longLife is the lifetime of one long request: what runs when it ends
// (its admission place and its tracking given back, its context
// cancelled), in the reverse order of atEnd, like defers: when its handler
// returns or, when the handler detached it, when the detached connection
// ends.
type longLife struct {
	mu       sync.Mutex
	ends     []func()
	detached bool
}

type longLifeKey struct{}

// atEnd adds f to what runs when the long request ends.
func (l *longLife) atEnd(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ends = append(l.ends, f)
}

// deferToEnd returns the atEnd of the long request of ctx (nil outside
// one): what the middlewares inside it defer to the long request's end.
func deferToEnd(ctx context.Context) func(f func()) {
	if l, ok := ctx.Value(longLifeKey{}).(*longLife); ok {
		return l.atEnd
	}
	return nil
}

// detach is the request's gqlws.Detacher.
func (l *longLife) detach() func() {
	l.mu.Lock()
	l.detached = true
	l.mu.Unlock()
	return sync.OnceFunc(l.end)
}

// handlerReturned ends the long request unless it was detached.
func (l *longLife) handlerReturned() {
	l.mu.Lock()
	detached := l.detached
	l.mu.Unlock()
	if !detached {
		l.end()
	}
}

func (l *longLife) end() {
	l.mu.Lock()
	ends := l.ends
	l.ends = nil
	l.mu.Unlock()
	for i := len(ends) - 1; i >= 0; i-- {
		ends[i]()
	}
}

// graceDeadline sets the shutdown's write deadline on a long request's
// connection: through net/http until the connection is hijacked, then on
// the hijacked connection itself (so that a detached WebSocket keeps no
// reference to net/http's response).
type graceDeadline struct {
	mu   sync.Mutex
	rc   *http.ResponseController
	conn net.Conn
}

func (d *graceDeadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil {
		_ = d.conn.SetWriteDeadline(t)
	} else if d.rc != nil {
		_ = d.rc.SetWriteDeadline(t)
	}
}

func (d *graceDeadline) hijacked(c net.Conn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.conn, d.rc = c, nil
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
	failed   func(error)    // called when a write to the response fails
	hijacked func(net.Conn) // called with the connection a Hijack hands over
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
	if w.hijacked != nil {
		w.hijacked(tc)
	}
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
