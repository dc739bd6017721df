package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
)

// TestDetachedWebSocketKeepsItsPlace (issue 14): a graphql-transport-ws
// connection outlives its HTTP handler (gqlws serves it on a goroutine of
// its own), and still counts as a long request until it closes: with
// MAX_CONCURRENT_LONG_REQUESTS=1 a second upgrade is refused while the
// first connection is open, and accepted once it has closed; the open one
// keeps working meanwhile.
func TestDetachedWebSocketKeepsItsPlace(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) { c.MaxConcurrentLongRequests = 1 })
	id := open(t, srv.Client(), servertest.Vars{"owner": "Detached " + randomSuffix(), "currency": "EUR", "initialBalance": "1.00"}).Account.ID

	first := srv.MustDialWS(t, servertest.GraphQLTransportWS, nil)
	mustInit(t, first, nil)
	s := newSubs(t, first)
	s.subscribe("acc", accountUpdatedSub, servertest.Vars{"id": id})
	s.updated("acc")

	if ws, resp, err := srv.DialWS(ctxTimeout(t, 5*time.Second), servertest.GraphQLTransportWS, nil); err == nil {
		ws.Abort()
		t.Fatal("a second WebSocket was accepted past MAX_CONCURRENT_LONG_REQUESTS=1")
	} else if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second WebSocket: %v, want HTTP 503", err)
	}
	credit(t, srv.Client(), servertest.Vars{"id": id, "amount": "1.00"})
	if a := s.updated("acc"); a.Version != 2 {
		t.Errorf("the open connection after the refusal: %+v, want version 2", a)
	}

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "a place once the first connection closed", func() bool {
		ws, _, err := srv.DialWS(ctxTimeout(t, 5*time.Second), servertest.GraphQLTransportWS, nil)
		if err != nil {
			return false
		}
		ws.Abort()
		return true
	})
}
