package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/chronicle-es/chronicle/graph"
	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Codes of the admission refusals.
const (
	codeOverloaded  = "OVERLOADED"
	codeRateLimited = "RATE_LIMITED"
)

// overloadRetryAfter is the Retry-After of an OVERLOADED answer: overload
// passes quickly or not at all, and a second is what a client should wait
// before it tries again (another instance, behind a load balancer).
const overloadRetryAfter = time.Second

// edgeMetrics counts what the edge refused or let through unchecked.
type edgeMetrics struct {
	refusals *prometheus.CounterVec
	// unchecked counts requests let through because the rate limiter's
	// Redis did not answer in time (or failed).
	unchecked prometheus.Counter
}

func newEdgeMetrics(reg prometheus.Registerer) *edgeMetrics {
	m := &edgeMetrics{
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chronicle_http_refusals_total",
			Help: "Requests at /query refused at the edge before GraphQL ran, by code (OVERLOADED, RATE_LIMITED, REQUEST_TOO_LARGE, UNAUTHENTICATED).",
		}, []string{"code"}),
		unchecked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chronicle_rate_limit_unchecked_total",
			Help: "Requests let through without a rate-limit check because Redis did not answer within RATE_LIMIT_REDIS_TIMEOUT or failed.",
		}),
	}
	reg.MustRegister(m.refusals, m.unchecked)
	return m
}

// refuseEarly answers a request refused before its body was read, in the
// shared error shape, and closes the connection afterwards without reading
// the body: a client that sends it slowly would otherwise hold the
// connection while the server drains it.
func refuseEarly(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	if r.ContentLength != 0 {
		w.Header().Set("Connection", "close")
		// The response is written before the deadline matters; the
		// server's drain of the unread body then fails at once.
		defer func() { _ = http.NewResponseController(w).SetReadDeadline(time.Now()) }()
	}
	graph.Refuse(w, status, code, message)
}

// admission bounds the requests served at once: ordinary requests by
// maxRequests, long requests (WebSocket, SSE), which live for minutes or hours,
// apart by maxLongRequests. A request beyond the bound is refused at once (HTTP
// 503, Retry-After, OVERLOADED) rather than queued: under a flood a queue
// only makes every answer late, while a fast refusal lets the client retry
// elsewhere and keeps the admitted requests fast.
type admission struct {
	requests chan struct{} // nil: unbounded
	streams  atomic.Int64
	// maxLongRequests bounds long requests; 0: unbounded.
	maxLongRequests int64
	metrics         *edgeMetrics
}

func newAdmission(maxRequests, maxLongRequests int, m *edgeMetrics) *admission {
	a := &admission{maxLongRequests: int64(maxLongRequests), metrics: m}
	if maxRequests > 0 {
		a.requests = make(chan struct{}, maxRequests)
	}
	return a
}

func (a *admission) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isLongRequest(r) {
			if n := a.streams.Add(1); a.maxLongRequests > 0 && n > a.maxLongRequests {
				a.streams.Add(-1)
				a.overloaded(w, r, "this instance has as many subscription streams open as it may")
				return
			}
			release := func() { a.streams.Add(-1) }
			if atEnd := deferToEnd(r.Context()); atEnd != nil {
				atEnd(release) // a detached WebSocket holds its place until it closes
			} else {
				defer release()
			}
			next.ServeHTTP(w, r)
			return
		}
		if a.requests != nil {
			select {
			case a.requests <- struct{}{}:
				defer func() { <-a.requests }()
			default:
				a.overloaded(w, r, "the server is serving as many requests as it may")
				return
			}
		}
		st := &commandAdmission{}
		ow := &overloadWriter{ResponseWriter: w, state: st}
		next.ServeHTTP(ow, r.WithContext(context.WithValue(r.Context(), commandAdmissionKey{}, st)))
	})
}

// commandAdmission tells the HTTP layer that commandSlots refused the
// request's mutation, so that the answer's status is 503.
type commandAdmission struct{ refused atomic.Bool }

type commandAdmissionKey struct{}

// overloadWriter answers 503 with Retry-After when commandSlots refused the
// request's mutation (gqlgen would answer 200).
type overloadWriter struct {
	http.ResponseWriter
	state       *commandAdmission
	wroteHeader bool
}

func (w *overloadWriter) WriteHeader(status int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		if w.state.refused.Load() {
			w.Header().Set("Retry-After", strconv.Itoa(int(overloadRetryAfter/time.Second)))
			status = http.StatusServiceUnavailable
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *overloadWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *overloadWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// commandSlots bounds the mutations executing at once, below the bound on
// requests: a command holds its slot through its append and its
// read-your-writes wait (up to READ_YOUR_WRITES_TIMEOUT), so without a
// bound of their own a flood of commands would take every request slot
// and leave none for the queries. A mutation beyond the bound is refused
// (503, Retry-After, OVERLOADED) before its resolvers run: nothing is
// appended.
type commandSlots struct {
	slots   chan struct{}
	metrics *edgeMetrics
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = (*commandSlots)(nil)

func newCommandSlots(n int, m *edgeMetrics) *commandSlots {
	return &commandSlots{slots: make(chan struct{}, n), metrics: m}
}

func (*commandSlots) ExtensionName() string                   { return "CommandSlots" }
func (*commandSlots) Validate(graphql.ExecutableSchema) error { return nil }

func (c *commandSlots) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx)
	st, ok := ctx.Value(commandAdmissionKey{}).(*commandAdmission)
	if !ok || op == nil || op.Operation == nil || op.Operation.Operation != ast.Mutation {
		return next(ctx)
	}
	select {
	case c.slots <- struct{}{}:
	default:
		c.metrics.refusals.WithLabelValues(codeOverloaded).Inc()
		st.refused.Store(true)
		err := gqlerror.Errorf("the server is running as many commands as it may: retry later (nothing was written)")
		err.Extensions = map[string]any{"code": codeOverloaded}
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{err}})
	}
	h := next(ctx)
	var once sync.Once
	release := func() { once.Do(func() { <-c.slots }) }
	// A mutation runs when its response handler is first called.
	return func(ctx context.Context) *graphql.Response {
		defer release()
		return h(ctx)
	}
}

func (a *admission) overloaded(w http.ResponseWriter, r *http.Request, why string) {
	a.metrics.refusals.WithLabelValues(codeOverloaded).Inc()
	w.Header().Set("Retry-After", strconv.Itoa(int(overloadRetryAfter/time.Second)))
	refuseEarly(w, r, http.StatusServiceUnavailable, codeOverloaded, why+": retry later")
}

// rateLimiter limits the requests of each organization, over every
// instance, with redis_rate's GCRA on Redis. Redis is not a hard
// dependency: when it does not answer within timeout, or fails, the
// request goes through, counted (chronicle_rate_limit_unchecked_total) and
// logged at most once per logEvery.
type rateLimiter struct {
	limiter *redis_rate.Limiter
	limit   redis_rate.Limit
	prefix  string
	timeout time.Duration
	metrics *edgeMetrics
	logger  *slog.Logger
	// lastLog is when the last "unchecked" line was logged (UnixNano).
	lastLog atomic.Int64
}

// rateLimitLogEvery spaces the log lines of requests let through unchecked.
const rateLimitLogEvery = 10 * time.Second

func newRateLimiter(rdb *redis.Client, prefix string, rate, burst int, period, timeout time.Duration, m *edgeMetrics, logger *slog.Logger) *rateLimiter {
	if burst <= 0 {
		burst = rate
	}
	return &rateLimiter{
		limiter: redis_rate.NewLimiter(rdb),
		limit:   redis_rate.Limit{Rate: rate, Burst: burst, Period: period},
		prefix:  prefix, timeout: timeout, metrics: m, logger: logger,
	}
}

// middleware must run after withCaller (it limits by the caller's
// organization); requests without one (CORS, OPTIONS) and long requests (limited
// when they open only) pass.
func (l *rateLimiter) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		org := caller.From(r.Context()).Organization
		if org == "" || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), l.timeout)
		res, err := l.limiter.Allow(ctx, l.prefix+org, l.limit)
		cancel()
		switch {
		case err != nil:
			l.unchecked(r.Context(), org, err)
		case res.Allowed == 0:
			l.metrics.refusals.WithLabelValues(codeRateLimited).Inc()
			retry := max(time.Second, res.RetryAfter.Round(time.Second))
			w.Header().Set("Retry-After", strconv.Itoa(int(retry/time.Second)))
			refuseEarly(w, r, http.StatusTooManyRequests, codeRateLimited,
				fmt.Sprintf("organization %q made more than %s: retry in %s", org, l.limit, res.RetryAfter.Round(time.Millisecond)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (l *rateLimiter) unchecked(ctx context.Context, org string, err error) {
	l.metrics.unchecked.Inc()
	now := time.Now().UnixNano()
	last := l.lastLog.Load()
	if now-last < int64(rateLimitLogEvery) || !l.lastLog.CompareAndSwap(last, now) {
		return
	}
	l.logger.WarnContext(ctx, "rate limit not checked: Redis did not answer in time; request let through",
		"organization", org, "timeout", l.timeout, "err", err)
}

// withTimeout bounds an ordinary request (not a long request) by d. Commands are
// not cut by it: graph.DetachCommands runs a mutation's resolvers on a
// context without the deadline, so that an append that has begun ends
// (with its payload), and deadlineWaiter ends its read-your-writes wait at
// the deadline (the payload then has upToDate false).
func withTimeout(d time.Duration, next http.Handler) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isLongRequest(r) {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeoutCause(r.Context(), d, graph.ErrRequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// deadlineWaiter ends a command's read-your-writes wait at its request's
// deadline (graph.RequestDeadline), which the command's own context no
// longer has.
type deadlineWaiter struct{ projection.Waiter }

func (w deadlineWaiter) WaitFor(ctx context.Context, name string, target eventstore.Checkpoint) error {
	if d, ok := graph.RequestDeadline(ctx); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d)
		defer cancel()
	}
	return w.Waiter.WaitFor(ctx, name, target)
}
