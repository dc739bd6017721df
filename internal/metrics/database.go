package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// lagCountLimit caps the events counted for one projection's lag, so that a
// scrape stays cheap when a projection is far behind (a rebuild, a stuck
// runner). Beyond it the lag is estimated from positions (see
// DatabaseCollector).
const lagCountLimit = 100_000

// oldestProbe is how many of the next events in projection read order are
// looked at for the age of the oldest one not yet projected.
const oldestProbe = 100

// DatabaseCollector is a prometheus.Collector that queries PostgreSQL at
// every scrape (two queries, bounded by a timeout):
//
//   - chronicle_event_store_head_position: the highest committed position
//     (0 without events).
//   - chronicle_projection_checkpoint_position{projection}: the position of
//     the projection's checkpoint, the (transaction_id, position) pair of the
//     last event it applied. One series per row of projection_checkpoints.
//   - chronicle_projection_lag_positions{projection}: how many committed
//     events come after the checkpoint in projection read order, that is,
//     are not projected yet. It counts events (positions have gaps, and
//     projections apply them in (transaction_id, position) order, so "head
//     minus checkpoint position" is neither 0 when caught up nor exact), and
//     it includes events that committed but are still held back beyond the
//     transaction-id horizon. Counting stops at 100,000; beyond that the
//     value is head minus checkpoint position, an estimate.
//   - chronicle_projection_lag_seconds{projection}: age of the oldest event
//     not yet projected (from its recorded_at, among the next 100 in read
//     order), 0 when caught up.
//   - chronicle_transaction_horizon_age_seconds: age of the oldest open
//     transaction in the cluster that holds a transaction id (0 when none).
//     Projections read only below the horizon pg_snapshot_xmin(), which is
//     the oldest transaction id still running anywhere in the cluster (any
//     database): events that commit after it stay invisible to every
//     projection until it ends, however old. A rising value means a
//     transaction left open (idle in transaction, a long migration or
//     batch job) is holding every projection back; it appears in
//     pg_stat_activity with its pid. Reading other roles' sessions there
//     needs pg_read_all_stats (or pg_monitor); without it their
//     transactions are not seen.
//   - chronicle_metrics_scrape_errors_total: scrapes whose queries failed
//     (timed out, no connection): the metrics above are then left out of that
//     scrape and the error is logged.
type DatabaseCollector struct {
	pool    *pgxpool.Pool
	timeout time.Duration
	logger  *slog.Logger
	// lagLimit is lagCountLimit (a field for tests).
	lagLimit int64

	head, horizonAge                 *prometheus.Desc
	checkpoint, lagPositions, lagAge *prometheus.Desc
	scrapeErrors                     prometheus.Counter
}

// NewDatabaseCollector returns a collector that queries pool with at most
// timeout per scrape (0 means 2 s) and logs failures to logger.
func NewDatabaseCollector(pool *pgxpool.Pool, timeout time.Duration, logger *slog.Logger) *DatabaseCollector {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	projection := []string{"projection"}
	return &DatabaseCollector{
		pool:     pool,
		timeout:  timeout,
		logger:   logger,
		lagLimit: lagCountLimit,
		head: prometheus.NewDesc("chronicle_event_store_head_position",
			"Highest committed event position.", nil, nil),
		horizonAge: prometheus.NewDesc("chronicle_transaction_horizon_age_seconds",
			"Age of the oldest open transaction in the cluster holding a transaction id: it holds back every projection (reads stop at pg_snapshot_xmin). 0 when none.", nil, nil),
		checkpoint: prometheus.NewDesc("chronicle_projection_checkpoint_position",
			"Position of the projection's checkpoint (the last event it applied).", projection, nil),
		lagPositions: prometheus.NewDesc("chronicle_projection_lag_positions",
			"Committed events not yet applied by the projection (counted up to 100000, then estimated from positions).", projection, nil),
		lagAge: prometheus.NewDesc("chronicle_projection_lag_seconds",
			"Age of the oldest committed event the projection has not applied yet; 0 when caught up.", projection, nil),
		scrapeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chronicle_metrics_scrape_errors_total",
			Help: "Scrapes whose PostgreSQL queries failed; their database metrics were left out.",
		}),
	}
}

// Describe implements prometheus.Collector.
func (c *DatabaseCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.head, c.horizonAge, c.checkpoint, c.lagPositions, c.lagAge} {
		ch <- d
	}
	c.scrapeErrors.Describe(ch)
}

// Collect implements prometheus.Collector: it runs the queries and sends
// what they found, or counts a scrape error.
func (c *DatabaseCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if err := c.collect(ctx, ch); err != nil {
		c.scrapeErrors.Inc()
		c.logger.Error("metrics: database scrape failed", "err", err)
	}
	c.scrapeErrors.Collect(ch)
}

// projectionLag is one row of lagQuery.
type projectionLag struct {
	name     string
	position int64
	lag      int64
	age      float64
}

// headQuery returns the head position and the horizon's age in seconds.
//
// Plans: max(position) is a backward scan of the primary key (one index
// entry). pg_stat_activity and pg_prepared_xacts are in-memory views of the
// server's processes. Only backend_xid matters: a snapshot's xmin is the
// oldest *transaction id* still running; a read-only transaction (it has a
// backend_xmin but no backend_xid) holds back vacuum but not
// pg_snapshot_xmin. Prepared (two-phase) transactions hold their ids until
// COMMIT PREPARED, so they count too.
const headQuery = `
SELECT
	coalesce((SELECT max(position) FROM events), 0),
	greatest(0,
		extract(epoch FROM clock_timestamp() - (SELECT min(xact_start) FROM pg_stat_activity WHERE backend_xid IS NOT NULL)),
		extract(epoch FROM clock_timestamp() - (SELECT min(prepared) FROM pg_prepared_xacts))
	)::float8`

// lagQuery returns, per projection: its checkpoint position, the events
// after its checkpoint (counted up to $1) and the age in seconds of the
// oldest of the next $2 of them (0 when none).
//
// Plans: both subqueries are range scans of events_transaction_position
// ((transaction_id, position), the index projections read by) starting at
// the checkpoint: the count is an index-only scan that stops after $1
// entries, the age reads $2 rows. Cost grows with the lag, not with the
// table (checked on 2,000,000 events; see docs/architecture.md).
const lagQuery = `
SELECT c.name, c.position, lag.n, coalesce(extract(epoch FROM clock_timestamp() - oldest.at), 0)::float8
FROM projection_checkpoints c
CROSS JOIN LATERAL (
	SELECT count(*) AS n FROM (
		SELECT 1 FROM events e
		WHERE (e.transaction_id, e.position) > (c.transaction_id, c.position)
		LIMIT $1) l
) lag
CROSS JOIN LATERAL (
	SELECT min(recorded_at) AS at FROM (
		SELECT e.recorded_at FROM events e
		WHERE (e.transaction_id, e.position) > (c.transaction_id, c.position)
		ORDER BY e.transaction_id, e.position
		LIMIT $2) o
) oldest
ORDER BY c.name`

func (c *DatabaseCollector) collect(ctx context.Context, ch chan<- prometheus.Metric) error {
	var (
		head       int64
		horizonAge float64
	)
	if err := c.pool.QueryRow(ctx, headQuery).Scan(&head, &horizonAge); err != nil {
		return fmt.Errorf("query head and horizon: %w", err)
	}
	rows, err := c.pool.Query(ctx, lagQuery, c.lagLimit, oldestProbe)
	if err != nil {
		return fmt.Errorf("query projection lag: %w", err)
	}
	defer rows.Close()
	var lags []projectionLag
	for rows.Next() {
		var l projectionLag
		if err := rows.Scan(&l.name, &l.position, &l.lag, &l.age); err != nil {
			return fmt.Errorf("query projection lag: %w", err)
		}
		lags = append(lags, l)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query projection lag: %w", err)
	}

	ch <- prometheus.MustNewConstMetric(c.head, prometheus.GaugeValue, float64(head))
	ch <- prometheus.MustNewConstMetric(c.horizonAge, prometheus.GaugeValue, horizonAge)
	for _, l := range lags {
		lag := l.lag
		if lag >= c.lagLimit {
			lag = max(lag, head-l.position)
		}
		ch <- prometheus.MustNewConstMetric(c.checkpoint, prometheus.GaugeValue, float64(l.position), l.name)
		ch <- prometheus.MustNewConstMetric(c.lagPositions, prometheus.GaugeValue, float64(lag), l.name)
		ch <- prometheus.MustNewConstMetric(c.lagAge, prometheus.GaugeValue, max(l.age, 0), l.name)
	}
	return nil
}
