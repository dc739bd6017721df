// Package metrics exposes a server's metrics in the Prometheus text format
// at /metrics.
//
// Every server has its own *Metrics, on a prometheus.Registry of its own
// (never the global default registry, so that several servers can run in one
// process, as tests do). It holds:
//
//   - commands: chronicle_commands_total{command,outcome} and
//     chronicle_command_duration_seconds{command,outcome}, from a gqlgen
//     handler extension (CommandExtension);
//   - chronicle_events_appended_total{stream_type}, from the event store's
//     AppendObserver (EventsAppended);
//   - chronicle_cache_requests_total{cache,result}, from the read caches
//     (CacheResult);
//   - chronicle_subscriptions_open, read at scrape time (WatchSubscriptions);
//   - projection lag, the event store's head and the age of the
//     transaction-id horizon, queried from PostgreSQL at scrape time
//     (WatchDatabase);
//   - the Go runtime's and the process's own metrics (go_*, process_*).
//
// The README's "Metrics" section lists every metric and what it means.
package metrics

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Outcome label values that are not an error code.
const (
	// OutcomeOK is the outcome of a command that succeeded.
	OutcomeOK = "ok"
	// outcomeBadInput is the outcome of a command refused before its
	// resolver ran (parsing, validation, variables, arguments, limits).
	outcomeBadInput = "bad_user_input"
	// outcomeInternal is the outcome of an error without a code, and of a
	// panic.
	outcomeInternal = "internal"
)

// commandBuckets are the command latency histogram's upper bounds in
// seconds: a command is one append (about a millisecond) plus the
// read-your-writes wait (READ_YOUR_WRITES_TIMEOUT, 2 s by default).
var commandBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Metrics is the metrics of one server. Its methods are safe for
// concurrent use.
type Metrics struct {
	registry        *prometheus.Registry
	commands        *prometheus.CounterVec
	commandDuration *prometheus.HistogramVec
	eventsAppended  *prometheus.CounterVec
	cacheRequests   *prometheus.CounterVec
}

// New returns a server's metrics on a registry of its own, which also holds
// the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chronicle_commands_total",
			Help: "Commands (root fields of GraphQL mutations) handled, by mutation field and outcome: ok, or the error's code in lower case.",
		}, []string{"command", "outcome"}),
		commandDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chronicle_command_duration_seconds",
			Help:    "Time to handle a command (a mutation's root field, its read-your-writes wait and payload included), by mutation field and outcome.",
			Buckets: commandBuckets,
		}, []string{"command", "outcome"}),
		eventsAppended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chronicle_events_appended_total",
			Help: "Events appended to the event store and committed, by stream type (duplicates of an idempotency key append nothing).",
		}, []string{"stream_type"}),
		cacheRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chronicle_cache_requests_total",
			Help: "Read-model cache look-ups, by cache and result (hit or miss).",
		}, []string{"cache", "result"}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.commands, m.commandDuration, m.eventsAppended, m.cacheRequests,
	)
	return m
}

// Registry returns the registry behind Handler, for tests and for metrics
// that other packages add.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the registry in the Prometheus exposition format (text, or
// whatever the scraper negotiates). A collector's failure is logged and the
// other metrics are still served; at most four scrapes run at once (more
// get 503), since each one queries PostgreSQL.
func (m *Metrics) Handler(logger *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(logger.Handler(), slog.LevelError),
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
	})
}

// ObserveCommand records one command: command is the mutation field
// (creditAccount), outcome OutcomeOK or an error code in lower case, d how
// long it took.
func (m *Metrics) ObserveCommand(command, outcome string, d time.Duration) {
	m.commands.WithLabelValues(command, outcome).Inc()
	m.commandDuration.WithLabelValues(command, outcome).Observe(d.Seconds())
}

// EventsAppended counts n events appended to a stream of streamType. Its
// signature is eventstore.AppendObserver's:
//
//	eventstore.New(pool, eventstore.WithAppendObserver(m.EventsAppended))
func (m *Metrics) EventsAppended(streamType string, n int) {
	m.eventsAppended.WithLabelValues(streamType).Add(float64(n))
}

// CacheResult counts one look-up in the named cache (a small fixed set of
// names, e.g. "payment"), a hit or a miss.
func (m *Metrics) CacheResult(cache string, hit bool) {
	result := "miss"
	if hit {
		result = "hit"
	}
	m.cacheRequests.WithLabelValues(cache, result).Inc()
}

// WatchSubscriptions adds chronicle_subscriptions_open, read from open at
// every scrape (live.Hub.Len: the subscriptions of this instance that wait
// for live updates, over every transport). Call it once: a second call
// panics.
func (m *Metrics) WatchSubscriptions(open func() int) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "chronicle_subscriptions_open",
		Help: "GraphQL subscriptions open on this instance (WebSocket and SSE).",
	}, func() float64 { return float64(open()) }))
}

// WatchDatabase adds the metrics queried from PostgreSQL at every scrape
// (see DatabaseCollector), each scrape's queries bounded by timeout. Call it
// once: a second call panics.
func (m *Metrics) WatchDatabase(pool *pgxpool.Pool, timeout time.Duration, logger *slog.Logger) {
	m.registry.MustRegister(NewDatabaseCollector(pool, timeout, logger))
}
