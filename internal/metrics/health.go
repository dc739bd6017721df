package metrics

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"
)

// WatchRedis adds chronicle_redis_up, 1 when up() reports that Redis
// answers, 0 when it does not (the server is then degraded: it serves
// from PostgreSQL, without the read cache, and live updates reach only the
// subscriptions of this instance until Redis is back). up is called at
// every scrape and must be bounded (a ping with REDIS_TIMEOUT). Call it
// once: a second call panics.
func (m *Metrics) WatchRedis(up func() bool) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "chronicle_redis_up",
		Help: "1 when this instance reaches Redis, 0 when it is serving degraded (PostgreSQL only, no cross-instance live updates).",
	}, func() float64 {
		if up() {
			return 1
		}
		return 0
	}))
}

// WatchProjections adds chronicle_projection_active{projection,instance}:
// 1 for each projection whose runner is active on this instance (holds the
// projection's lock), 0 for those it stands by for. active is read at
// every scrape (projection.Engine.Active); instance names this server
// (INSTANCE_NAME). Summed over instances, each projection should be 1. Call
// it once: a second call panics.
func (m *Metrics) WatchProjections(instance string, active func() map[string]bool) {
	m.registry.MustRegister(&projectionsCollector{instance: instance, active: active,
		desc: prometheus.NewDesc("chronicle_projection_active",
			"1 when this instance runs the projection (holds its lock), 0 when it is a standby for it.",
			[]string{"projection", "instance"}, nil)})
}

type projectionsCollector struct {
	instance string
	active   func() map[string]bool
	desc     *prometheus.Desc
}

func (c *projectionsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *projectionsCollector) Collect(ch chan<- prometheus.Metric) {
	active := c.active()
	names := make([]string, 0, len(active))
	for name := range active {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := 0.0
		if active[name] {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, name, c.instance)
	}
}
