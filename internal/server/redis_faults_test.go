package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/faultproxy"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/chronicle-es/chronicle/internal/redistest"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
)

// clientDeadline is the deadline of each request made while Redis is
// blackholed: far above REDIS_TIMEOUT (100 ms), far below go-redis's own
// read timeout (3 s, with retries) that bounded a call before.
const clientDeadline = 2 * time.Second

// within sends query with a client deadline of clientDeadline, and returns
// the data decoded into out. A transport error (the deadline passed) or a
// GraphQL error fails the test.
func within(t *testing.T, c *servertest.Client, what, query string, vars servertest.Vars, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientDeadline)
	defer cancel()
	resp, err := c.Do(ctx, servertest.Request{Query: query, Variables: vars})
	if err != nil {
		t.Fatalf("%s under a %v deadline: %v", what, clientDeadline, err)
	}
	if len(resp.Errors) > 0 {
		t.Fatalf("%s: errors %s", what, resp.Body)
	}
	if err := resp.Decode(out); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestRedisPartitionNeverStale reproduces issue 10 items 2 and 10: Redis is
// blackholed (it keeps its data) under the instance that runs the
// projection, after payment(id) and paymentAnalytics were cached. While it
// is cut off, processPayment and the reads answer under a deadline far
// below go-redis's own timeouts, from PostgreSQL, and the other instance,
// which still reaches Redis, is told through PostgreSQL to drop its entries.
// Once the partition heals, neither serves the entries whose invalidation
// was lost.
func TestRedisPartitionNeverStale(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	proxy := faultproxy.Start(t, rs.Addr())
	cfg := servertest.Config()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	cfgA := cfg
	cfgA.RedisURL = "redis://" + proxy.Addr() + "/0"
	a := servertest.StartWith(t, cfgA)
	waitLog(t, a, runnerActive, 15*time.Second) // a runs the projection
	cfgB := cfg
	cfgB.RedisURL = rs.URL()
	b := servertest.StartWith(t, cfgB)
	ca, cb := a.Client(), b.Client()

	p := initiate(t, ca, "12.50", "EUR")
	vars := servertest.Vars{"id": p.ID}
	now := time.Now().UTC()
	window := servertest.Vars{"from": now.Add(-time.Hour), "to": now.Add(time.Hour), "bucket": "HOUR"}
	type paymentData struct {
		Payment paymentView `json:"payment"`
	}
	type analyticsData struct {
		PaymentAnalytics analytics `json:"paymentAnalytics"`
	}
	check := func(c *servertest.Client, when, status string) {
		t.Helper()
		var pd paymentData
		within(t, c, when+": payment(id)", paymentQuery, vars, &pd)
		if pd.Payment.Status != status {
			t.Errorf("%s: payment(id) status %s, want %s", when, pd.Payment.Status, status)
		}
		var ad analyticsData
		within(t, c, when+": paymentAnalytics", analyticsQuery, window, &ad)
		if n := ad.PaymentAnalytics.count(status); n != 1 {
			t.Errorf("%s: paymentAnalytics counts %d %s, want 1", when, n, status)
		}
	}
	// B stands by for both projections.
	if resp, err := http.Get(b.URL + "/metrics"); err != nil {
		t.Fatal(err)
	} else {
		m, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, p := range []string{"accounts", "payments"} {
			if !strings.Contains(string(m), `projection="`+p+`"} 0`) {
				t.Errorf("standby B: /metrics lacks chronicle_projection_active 0 for %s", p)
			}
		}
	}

	// Cached on both instances (the second read of each is a hit).
	for range 2 {
		check(ca, "before the partition (A)", "INITIATED")
		check(cb, "before the partition (B)", "INITIATED")
	}

	proxy.Freeze(true)
	var out map[string]struct {
		Version int         `json:"version"`
		Payment paymentView `json:"payment"`
	}
	within(t, ca, "processPayment with Redis blackholed", processMutation, servertest.Vars{"input": vars}, &out)
	if got := out["processPayment"].Payment; got.Status != "PROCESSED" || got.Version != 2 {
		t.Fatalf("processPayment: %+v", got)
	}
	// Several reads: the first ones wait for REDIS_TIMEOUT, then the
	// breaker skips Redis.
	for range 5 {
		check(ca, "during the partition (A)", "PROCESSED")
	}
	// B still reaches Redis, whose entries A could not invalidate; A told
	// it through PostgreSQL (a NOTIFY, asynchronous: milliseconds), and B
	// bumped the epoch.
	eventually(t, 5*time.Second, "B stops serving the stale entry", func() bool {
		var pd paymentData
		within(t, cb, "during the partition (B): payment(id)", paymentQuery, vars, &pd)
		return pd.Payment.Status == "PROCESSED"
	})
	check(cb, "during the partition (B)", "PROCESSED")

	// Redis still holds the INITIATED entries (under an old epoch). A serves
	// none of them: it bumps the epoch before it uses Redis again.
	bumps := strings.Count(a.Log(), "epoch bumped")
	proxy.Freeze(false)
	check(ca, "after the partition (A)", "PROCESSED")
	eventually(t, 10*time.Second, "A bumps the cache epoch", func() bool { return strings.Count(a.Log(), "epoch bumped") > bumps })
	for range 2 {
		check(ca, "after the partition (A)", "PROCESSED")
		check(cb, "after the partition (B)", "PROCESSED")
	}
}

// TestReadyzDegradedWithoutRedis (issue 10 item 11): with Redis
// unreachable, /readyz answers 200 "degraded" and chronicle_redis_up is 0,
// while reads and writes go on; with the database unreachable it answers
// 503. chronicle_projection_active says which instance runs each
// projection.
func TestReadyzDegradedWithoutRedis(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	proxy := faultproxy.Start(t, rs.Addr())
	dbURL, err := url.Parse(pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	pgProxy := faultproxy.Start(t, dbURL.Host)
	dbURL.Host = pgProxy.Addr()
	srv := servertest.Start(t, func(c *config.Config) {
		c.DatabaseURL = dbURL.String()
		c.RedisURL = "redis://" + proxy.Addr() + "/0"
		c.InstanceName = "instance-a"
	})
	get := func(path string) (int, string) {
		t.Helper()
		// Above /readyz's own 2 s bound on its database ping.
		ctx, cancel := context.WithTimeout(context.Background(), 3*clientDeadline)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	eventually(t, 15*time.Second, "both projections active", func() bool {
		_, m := get("/metrics")
		return strings.Contains(m, `chronicle_projection_active{instance="instance-a",projection="accounts"} 1`) &&
			strings.Contains(m, `chronicle_projection_active{instance="instance-a",projection="payments"} 1`)
	})
	if code, body := get("/readyz"); code != http.StatusOK || strings.TrimSpace(body) != "ready" {
		t.Errorf("/readyz with everything up: %d %q", code, body)
	}
	_, m := get("/metrics")
	if !strings.Contains(m, "chronicle_redis_up 1") {
		t.Errorf("/metrics lacks chronicle_redis_up 1")
	}

	proxy.Freeze(true)
	if code, body := get("/readyz"); code != http.StatusOK || !strings.Contains(body, "degraded") || !strings.Contains(body, "redis") {
		t.Errorf("/readyz with Redis blackholed: %d %q, want 200 degraded naming redis", code, body)
	}
	if _, m := get("/metrics"); !strings.Contains(m, "chronicle_redis_up 0") {
		t.Errorf("/metrics with Redis blackholed lacks chronicle_redis_up 0")
	}
	c := srv.Client()
	var opened struct {
		OpenAccount struct {
			Account struct {
				ID string `json:"id"`
			} `json:"account"`
		} `json:"openAccount"`
	}
	within(t, c, "openAccount with Redis blackholed", `mutation($input: OpenAccountInput!) { openAccount(input: $input) { account { id } } }`,
		servertest.Vars{"input": servertest.Vars{"owner": "Degraded " + randomSuffix(), "currency": "EUR"}}, &opened)
	var got json.RawMessage
	within(t, c, "account(id) with Redis blackholed", `query($id: ID!) { account(id: $id) { id } }`,
		servertest.Vars{"id": opened.OpenAccount.Account.ID}, &got)
	proxy.Freeze(false)

	// The database blackholed: 503.
	pgProxy.Freeze(true)
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "database") {
		t.Errorf("/readyz with the database blackholed: %d %q, want 503 naming the database", code, body)
	}
	pgProxy.Freeze(false)
}
