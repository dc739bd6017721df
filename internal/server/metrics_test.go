package server_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metricsScrape is one /metrics answer, parsed.
type metricsScrape map[string]*dto.MetricFamily

// scrapeMetrics GETs /metrics and parses the text format.
func scrapeMetrics(t *testing.T, srv *servertest.Server) metricsScrape {
	t.Helper()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /metrics: HTTP %d: %s", resp.StatusCode, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// find returns the series of name with the given label pairs.
func (s metricsScrape) find(name string, labels ...string) *dto.Metric {
	f := s[name]
	if f == nil {
		return nil
	}
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				match = false
			}
		}
		if match {
			return m
		}
	}
	return nil
}

// value returns the value of a counter or gauge series, 0 when it does not
// exist (a labelled counter appears on its first increment).
func (s metricsScrape) value(name string, labels ...string) float64 {
	m := s.find(name, labels...)
	switch {
	case m == nil:
		return 0
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return 0
}

// has reports whether the series exists.
func (s metricsScrape) has(name string, labels ...string) bool { return s.find(name, labels...) != nil }

// TestMetricsCommandsEventsAndLag runs account commands that succeed and
// fail in every way and checks what /metrics counts, then that the accounts
// projection's lag falls to zero with its checkpoint on the last event.
func TestMetricsCommandsEventsAndLag(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.Client()

	m := scrapeMetrics(t, srv)
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "chronicle_event_store_head_position", "chronicle_transaction_horizon_age_seconds"} {
		if !m.has(name) {
			t.Errorf("no %s before any command", name)
		}
	}
	if got := m.value("chronicle_event_store_head_position"); got != 0 {
		t.Errorf("head position of an empty store = %v, want 0", got)
	}

	id := open(t, c, servertest.Vars{"owner": "Metrics " + randomSuffix(), "currency": "EUR", "initialBalance": "100.00"}).Account.ID
	credit(t, c, servertest.Vars{"id": id, "amount": "10.00"})
	c.MustFail(t, "INSUFFICIENT_FUNDS", debitMutation, in("id", id, "amount", "500.00"))
	c.MustFail(t, "CONFLICT", debitMutation, in("id", id, "amount", "1.00", "expectedVersion", 1))
	c.MustFail(t, "NOT_FOUND", debitMutation, in("id", randomUUID(), "amount", "1.00"))
	key := "metrics-" + randomSuffix()
	last := credit(t, c, servertest.Vars{"id": id, "amount": "1.00", "idempotencyKey": key})
	if again := credit(t, c, servertest.Vars{"id": id, "amount": "1.00", "idempotencyKey": key}); !again.Duplicate {
		t.Fatalf("second credit with key %s: %+v, want a duplicate", key, again)
	}

	// Refused in each of gqlgen's ways, and by the domain: each one counts
	// one creditAccount with outcome bad_user_input.
	refusals := []struct {
		name  string
		query string
		vars  servertest.Vars
	}{
		{"domain", creditMutation, in("id", id, "amount", "abc")},
		{"argument", creditMutation, in("id", id, "amount", 12.5)}, // strict String coercion
		{"variables", creditMutation, in("id", id)},                // amount missing
		{"validation", `mutation { creditAccount(input: {id: "` + id + `", amount: 12}) { position } }`, nil},
	}
	for _, r := range refusals {
		before := scrapeMetrics(t, srv).value("chronicle_commands_total", "command", "creditAccount", "outcome", "bad_user_input")
		resp, err := c.Do(ctxTimeout(t, 10*time.Second), servertest.Request{Query: r.query, Variables: r.vars})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Errors) == 0 {
			t.Fatalf("%s: no error: %s", r.name, resp.Body)
		}
		after := scrapeMetrics(t, srv).value("chronicle_commands_total", "command", "creditAccount", "outcome", "bad_user_input")
		if after != before+1 {
			t.Errorf("%s refusal (%v): creditAccount bad_user_input went from %v to %v, want +1", r.name, resp.Codes(), before, after)
		}
	}
	// Not a mutation: not a command.
	if resp, err := c.Do(ctxTimeout(t, 10*time.Second), servertest.Request{Query: `query { nosuchfield }`}); err != nil || len(resp.Errors) == 0 {
		t.Fatalf("invalid query: %v %v", resp, err)
	}

	m = scrapeMetrics(t, srv)
	for _, want := range []struct {
		command, outcome string
		n                float64
	}{
		{"openAccount", "ok", 1},
		{"creditAccount", "ok", 3},
		{"creditAccount", "bad_user_input", 4},
		{"debitAccount", "insufficient_funds", 1},
		{"debitAccount", "conflict", 1},
		{"debitAccount", "not_found", 1},
		{"debitAccount", "ok", 0},
	} {
		if got := m.value("chronicle_commands_total", "command", want.command, "outcome", want.outcome); got != want.n {
			t.Errorf("chronicle_commands_total{command=%q,outcome=%q} = %v, want %v", want.command, want.outcome, got, want.n)
		}
	}
	var total float64
	for _, s := range m["chronicle_commands_total"].GetMetric() {
		total += s.GetCounter().GetValue()
	}
	if total != 11 {
		t.Errorf("sum of chronicle_commands_total = %v, want 11 (the query is no command)", total)
	}
	if h := m.find("chronicle_command_duration_seconds", "command", "creditAccount", "outcome", "ok"); h == nil ||
		h.GetHistogram().GetSampleCount() != 3 || h.GetHistogram().GetSampleSum() <= 0 {
		t.Errorf("chronicle_command_duration_seconds{creditAccount,ok} = %v, want 3 samples with a positive sum", h)
	}
	if h := m.find("chronicle_command_duration_seconds", "command", "debitAccount", "outcome", "insufficient_funds"); h == nil || h.GetHistogram().GetSampleCount() != 1 {
		t.Errorf("chronicle_command_duration_seconds{debitAccount,insufficient_funds} = %v, want 1 sample", h)
	}
	// Open, credit, and the keyed credit once: its duplicate appended nothing.
	if got := m.value("chronicle_events_appended_total", "stream_type", "account"); got != 3 {
		t.Errorf("chronicle_events_appended_total{stream_type=account} = %v, want 3", got)
	}

	eventually(t, 10*time.Second, "the accounts projection to catch up in /metrics", func() bool {
		m = scrapeMetrics(t, srv)
		return m.value("chronicle_projection_lag_positions", "projection", "accounts") == 0 &&
			m.value("chronicle_projection_checkpoint_position", "projection", "accounts") == float64(last.Position)
	})
	if !m.has("chronicle_projection_lag_positions", "projection", "accounts") {
		t.Fatal("no chronicle_projection_lag_positions{projection=accounts}")
	}
	if got := m.value("chronicle_event_store_head_position"); got != float64(last.Position) {
		t.Errorf("head position = %v, want the last event's %d", got, last.Position)
	}
	if got := m.value("chronicle_projection_lag_seconds", "projection", "accounts"); got != 0 {
		t.Errorf("lag seconds when caught up = %v, want 0", got)
	}
	if got := m.value("chronicle_metrics_scrape_errors_total"); got != 0 || !m.has("chronicle_metrics_scrape_errors_total") {
		t.Errorf("chronicle_metrics_scrape_errors_total = %v (present %v), want 0", got, m.has("chronicle_metrics_scrape_errors_total"))
	}
}

// TestMetricsHorizonAndHeldBackLag holds a transaction open (with a
// transaction id) in another connection: the horizon's age rises, and the
// accounts projection, held back, lags by the events appended meanwhile
// until the transaction ends. The transaction holds back every projection
// of the cluster, so it is held for little more than a second.
func TestMetricsHorizonAndHeldBackLag(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) { c.ReadYourWritesTimeout = 50 * time.Millisecond })
	c := srv.Client()
	// The payload may come before the account is projected: its id is known.
	id := open(t, c, servertest.Vars{"owner": "Horizon " + randomSuffix(), "currency": "EUR"}).AccountID
	eventually(t, 10*time.Second, "no lag before the hold", func() bool {
		m := scrapeMetrics(t, srv)
		return m.has("chronicle_projection_lag_positions", "projection", "accounts") &&
			m.value("chronicle_projection_lag_positions", "projection", "accounts") == 0
	})

	release := pgtest.HoldTransactionID(t, srv.DatabaseURL)
	heldAt := time.Now()

	const credits = 3
	for range credits {
		if p := credit(t, c, servertest.Vars{"id": id, "amount": "1.00"}); p.UpToDate {
			t.Errorf("credit while the horizon is held: upToDate true, want false")
		}
	}
	time.Sleep(time.Until(heldAt.Add(1200 * time.Millisecond)))
	m := scrapeMetrics(t, srv)
	if got := m.value("chronicle_projection_lag_positions", "projection", "accounts"); got != credits {
		t.Errorf("lag positions while held back = %v, want %d", got, credits)
	}
	if got := m.value("chronicle_projection_lag_seconds", "projection", "accounts"); got < 0.5 {
		t.Errorf("lag seconds while held back = %v, want at least 0.5", got)
	}
	if got, held := m.value("chronicle_transaction_horizon_age_seconds"), time.Since(heldAt).Seconds(); got < 1 {
		t.Errorf("horizon age with a transaction open for %.1fs = %v, want at least 1", held, got)
	}
	release()

	eventually(t, 10*time.Second, "the lag to fall to 0 after the transaction ended", func() bool {
		m = scrapeMetrics(t, srv)
		return m.value("chronicle_projection_lag_positions", "projection", "accounts") == 0 &&
			m.value("chronicle_projection_lag_seconds", "projection", "accounts") == 0
	})
	if cp, head := m.value("chronicle_projection_checkpoint_position", "projection", "accounts"), m.value("chronicle_event_store_head_position"); cp != head || head == 0 {
		t.Errorf("checkpoint position %v, head %v: want equal", cp, head)
	}
}

// TestMetricsOpenSubscriptions counts a WebSocket and an SSE subscription
// while they are open.
func TestMetricsOpenSubscriptions(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.Client()
	id := open(t, c, servertest.Vars{"owner": "Subs " + randomSuffix(), "currency": "EUR"}).Account.ID
	openSubs := func() float64 { return scrapeMetrics(t, srv).value("chronicle_subscriptions_open") }
	if !scrapeMetrics(t, srv).has("chronicle_subscriptions_open") {
		t.Fatal("no chronicle_subscriptions_open")
	}
	if got := openSubs(); got != 0 {
		t.Fatalf("open subscriptions before any = %v", got)
	}

	ws := srv.MustDialWS(t, servertest.GraphQLTransportWS, nil)
	mustInit(t, ws, nil)
	s := newSubs(t, ws)
	s.subscribe("acc", accountUpdatedSub, servertest.Vars{"id": id})
	if msg := s.next("acc"); !msg.IsNext() {
		t.Fatalf("first message: %s %s", msg.Type, msg.Payload)
	}
	eventually(t, 5*time.Second, "1 open subscription", func() bool { return openSubs() == 1 })

	stream, err := c.SubscribeSSE(ctxTimeout(t, 10*time.Second), servertest.Request{Query: accountUpdatedSub, Variables: servertest.Vars{"id": id}})
	if err != nil {
		t.Fatal(err)
	}
	if ev, err := stream.Next(ctxTimeout(t, 10*time.Second)); err != nil {
		t.Fatalf("first SSE event: %v", err)
	} else if ev.Event != "next" {
		t.Fatalf("first SSE event: %+v", ev)
	}
	eventually(t, 5*time.Second, "2 open subscriptions", func() bool { return openSubs() == 2 })

	stream.Close()
	eventually(t, 5*time.Second, "1 open subscription after the SSE stream closed", func() bool { return openSubs() == 1 })
	if err := ws.Stop(ctxTimeout(t, 5*time.Second), "acc"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "0 open subscriptions after the WebSocket one stopped", func() bool { return openSubs() == 0 })
}

// TestMetricsDisabled: METRICS_ENABLED=false serves no /metrics, and the
// API works as before.
func TestMetricsDisabled(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) { c.MetricsEnabled = false })
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics with metrics disabled: HTTP %d, want 404", resp.StatusCode)
	}
	open(t, srv.Client(), servertest.Vars{"owner": "No metrics " + randomSuffix(), "currency": "EUR"})
}
