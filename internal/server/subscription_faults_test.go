package server_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/faultproxy"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/chronicle-es/chronicle/internal/redistest"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
)

// subscriberBehindProxy starts a writer W that runs the projections and a
// subscriber instance S whose database connections go through a proxy the
// test can take down, both on one database and one Redis; tune adjusts S.
func subscriberBehindProxy(t *testing.T, tune func(*config.Config)) (w, s *servertest.Server, pg *faultproxy.Proxy) {
	t.Helper()
	rs := redistest.Start(t)
	cfg := servertest.Config()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	cfg.RedisURL = rs.URL()
	w = servertest.StartWith(t, cfg)
	waitLog(t, w, runnerActive, 15*time.Second)
	u, err := url.Parse(cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	pg = faultproxy.Start(t, u.Host)
	u.Host = pg.Addr()
	cfgS := cfg
	cfgS.DatabaseURL = u.String()
	if tune != nil {
		tune(&cfgS)
	}
	return w, servertest.StartWith(t, cfgS), pg
}

// followNewAccount opens an account on w and subscribes to it on s over
// graphql-transport-ws (operation id "acc"), past its first result.
func followNewAccount(t *testing.T, w, s *servertest.Server) (cw *servertest.Client, id string, m *servertest.WSMux, acc servertest.Feed) {
	t.Helper()
	cw = w.Client()
	id = open(t, cw, servertest.Vars{"owner": "Outage " + randomSuffix(), "currency": "EUR", "initialBalance": "10.00"}).Account.ID
	ws := s.MustDialWS(t, servertest.GraphQLTransportWS, nil)
	mustInit(t, ws, nil)
	m = servertest.NewWSMux(ws)
	acc = m.Subscribe(t, "S acc", "acc", accountUpdatedSub, servertest.Vars{"id": id})
	if v := nextAccount(t, acc, 10*time.Second).Version; v != 1 {
		t.Fatalf("first result at version %d, want 1", v)
	}
	return cw, id, m, acc
}

// TestSubscriptionRetriesThroughDatabaseOutage (issue 10 item 3): while
// the subscriber's instance cannot reach PostgreSQL, its subscription's
// reads fail; they are retried with backoff, and once the database is back
// the subscription resumes from the version it had sent, with no complete
// in between.
func TestSubscriptionRetriesThroughDatabaseOutage(t *testing.T) {
	t.Parallel()
	w, s, pg := subscriberBehindProxy(t, nil)
	cw, id, _, acc := followNewAccount(t, w, s)

	pg.Down(true)
	var last int
	for range 3 {
		last = credit(t, cw, servertest.Vars{"id": id, "amount": "1.00"}).Version
	}
	// S is rung (through Redis) for each credit and its reads fail; give
	// it time to fail and back off a few times. (Not an assertion on time.)
	time.Sleep(1500 * time.Millisecond)
	pg.Down(false)

	seen := 1
	for seen < last {
		a := nextAccount(t, acc, 20*time.Second) // fails on a complete or an error
		if a.Version <= seen {
			t.Fatalf("version %d after %d: the subscription did not resume from its position", a.Version, seen)
		}
		seen = a.Version
	}
	if got := credit(t, cw, servertest.Vars{"id": id, "amount": "1.00"}).Version; nextAccount(t, acc, 10*time.Second).Version != got {
		t.Fatalf("not live after the outage")
	}
}

// TestSubscriptionEndsWithErrorWhenOutagePersists: when the reads keep
// failing past SUBSCRIPTION_RETRY_FOR, the subscription ends with an
// UNAVAILABLE error result, then complete, so that the client knows to
// subscribe again (a bare complete reads as a normal end).
func TestSubscriptionEndsWithErrorWhenOutagePersists(t *testing.T) {
	t.Parallel()
	w, s, pg := subscriberBehindProxy(t, func(c *config.Config) { c.SubscriptionRetryFor = 500 * time.Millisecond })
	cw, id, m, _ := followNewAccount(t, w, s)

	pg.Down(true)
	credit(t, cw, servertest.Vars{"id": id, "amount": "1.00"}) // rings S, whose reads now fail
	msg := m.Next(t, "acc", 20*time.Second)
	if !msg.IsNext() {
		t.Fatalf("got %s %s, want a result with an UNAVAILABLE error", msg.Type, msg.Payload)
	}
	resp, err := msg.Response()
	if err != nil {
		t.Fatal(err)
	}
	if codes := resp.Codes(); len(codes) != 1 || codes[0] != "UNAVAILABLE" {
		t.Fatalf("last result %s, want one UNAVAILABLE error", msg.Payload)
	}
	if end := m.Next(t, "acc", 10*time.Second); end.Type != "complete" {
		t.Fatalf("after the error: %s %s, want complete", end.Type, end.Payload)
	}
	pg.Down(false)
}
