package metrics_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/metrics"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestHandlerServesEveryMetric scrapes a fresh Metrics over HTTP after one
// observation of each kind.
func TestHandlerServesEveryMetric(t *testing.T) {
	m := metrics.New()
	open := 3
	m.WatchSubscriptions(func() int { return open })
	m.ObserveCommand("creditAccount", "ok", 30*time.Millisecond)
	m.ObserveCommand("creditAccount", "insufficient_funds", 2*time.Millisecond)
	m.EventsAppended("account", 2)
	m.EventsAppended("account", 1)
	m.EventsAppended("payment", 1)
	m.CacheResult("payment", true)
	m.CacheResult("payment", true)
	m.CacheResult("payment", false)

	srv := httptest.NewServer(m.Handler(slog.New(slog.DiscardHandler)))
	defer srv.Close()
	body := scrape(t, srv.URL)
	for _, want := range []string{
		`chronicle_commands_total{command="creditAccount",outcome="ok"} 1`,
		`chronicle_commands_total{command="creditAccount",outcome="insufficient_funds"} 1`,
		`chronicle_command_duration_seconds_bucket{command="creditAccount",outcome="ok",le="0.025"} 0`,
		`chronicle_command_duration_seconds_bucket{command="creditAccount",outcome="ok",le="0.05"} 1`,
		`chronicle_command_duration_seconds_count{command="creditAccount",outcome="insufficient_funds"} 1`,
		`chronicle_events_appended_total{stream_type="account"} 3`,
		`chronicle_events_appended_total{stream_type="payment"} 1`,
		`chronicle_cache_requests_total{cache="payment",result="hit"} 2`,
		`chronicle_cache_requests_total{cache="payment",result="miss"} 1`,
		`chronicle_subscriptions_open 3`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(body, "\n"+want) {
			t.Errorf("no %q in:\n%s", want, body)
		}
	}

	// The gauge is read at every scrape.
	open = 0
	if body := scrape(t, srv.URL); !strings.Contains(body, "\nchronicle_subscriptions_open 0\n") {
		t.Errorf("chronicle_subscriptions_open after the subscriptions closed: not 0 in\n%s", body)
	}
}

// scrape GETs url and returns the body, which must be the text format.
func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("HTTP %d, Content-Type %q: want 200 in the text format", resp.StatusCode, ct)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// TestOutcome maps errors to outcome labels as the error presenter maps
// them to codes.
func TestOutcome(t *testing.T) {
	insufficient := apperr.New("INSUFFICIENT_FUNDS", "balance too low")
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, "ok"},
		{insufficient, "insufficient_funds"},
		{fmt.Errorf("debit: %w", insufficient), "insufficient_funds"},
		{apperr.New(apperr.Conflict, "stale"), "conflict"},
		{apperr.New(apperr.Unauthenticated, "who?"), "unauthenticated"},
		{errors.New("connection refused"), "internal"},
		{gqlerror.Errorf("must not be null"), "bad_user_input"},
		{&gqlerror.Error{Message: "x", Extensions: map[string]any{"code": "COMPLEXITY_LIMIT_EXCEEDED"}}, "complexity_limit_exceeded"},
		{gqlerror.WrapPath(nil, errors.New("boom")), "internal"},
	} {
		if got := metrics.Outcome(tc.err); got != tc.want {
			t.Errorf("Outcome(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
