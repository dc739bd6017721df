package process

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector is a prometheus.Collector that reads, at every scrape (one
// query, bounded by a timeout), per process manager:
//
//   - chronicle_process_deadlines{process}: processes waiting on a deadline
//     (rows of process_deadlines);
//   - chronicle_process_outbox{process}: commands decided and not sent yet.
//
// A process manager's lag is its projection's, "process:<name>", in
// chronicle_projection_lag_positions and chronicle_projection_lag_seconds.
// A failed query leaves these series out of the scrape and is logged.
type Collector struct {
	pool              *pgxpool.Pool
	timeout           time.Duration
	logger            *slog.Logger
	deadlines, outbox *prometheus.Desc
}

// NewCollector returns a collector that queries pool with at most timeout
// per scrape (0 means 2 s).
func NewCollector(pool *pgxpool.Pool, timeout time.Duration, logger *slog.Logger) *Collector {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	if logger == nil {
		logger = slog.Default()
	}
	labels := []string{"process"}
	return &Collector{
		pool: pool, timeout: timeout, logger: logger,
		deadlines: prometheus.NewDesc("chronicle_process_deadlines", "Processes waiting on a deadline, by process manager.", labels, nil),
		outbox:    prometheus.NewDesc("chronicle_process_outbox", "Commands a process manager decided and has not sent yet.", labels, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.deadlines
	ch <- c.outbox
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	rows, err := c.pool.Query(ctx, `
		SELECT name, sum(deadlines), sum(outbox) FROM (
			SELECT name, count(*) AS deadlines, 0 AS outbox FROM process_deadlines GROUP BY name
			UNION ALL
			SELECT name, 0, count(*) FROM process_outbox GROUP BY name
		) t GROUP BY name`)
	if err != nil {
		c.logger.Warn("process metrics", "err", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var deadlines, outbox float64
		if err := rows.Scan(&name, &deadlines, &outbox); err != nil {
			c.logger.Warn("process metrics", "err", err)
			return
		}
		ch <- prometheus.MustNewConstMetric(c.deadlines, prometheus.GaugeValue, deadlines, name)
		ch <- prometheus.MustNewConstMetric(c.outbox, prometheus.GaugeValue, outbox, name)
	}
	if err := rows.Err(); err != nil {
		c.logger.Warn("process metrics", "err", err)
	}
}
