package server_test

import (
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/server/servertest"
)

// TestSharedSubscriptionsKeepTenants (issue 14): subscribers of the same
// document and variables share one execution only within an organization.
// Two members named alike in two organizations subscribe to one account
// with one document and the same variables: the owner's organization gets
// its frames (the second subscriber at once, from the shared execution),
// the other gets NOT_FOUND and never a frame of the first's, in either
// order of arrival. The two of the owner's organization count as two open
// subscriptions (chronicle_subscriptions_open), one execution or not.
func TestSharedSubscriptionsKeepTenants(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	owner, other := srv.ClientAs("alice", "tenant-a"), srv.ClientAs("alice", "tenant-b")
	id := open(t, owner, servertest.Vars{"owner": "Tenants " + randomSuffix(), "currency": "EUR", "initialBalance": "1.00"}).Account.ID
	vars := servertest.Vars{"id": id}
	dial := func(c *servertest.Client) *subs {
		t.Helper()
		ws, _, err := c.DialWS(ctxTimeout(t, 5*time.Second), servertest.GraphQLTransportWS, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ws.Abort)
		mustInit(t, ws, nil)
		return newSubs(t, ws)
	}

	// The other organization first: its execution ends with NOT_FOUND.
	early := dial(other)
	early.subscribe("acc", accountUpdatedSub, vars)
	if code := early.errorCode("acc"); code != "NOT_FOUND" {
		t.Errorf("the other organization, first: code %s, want NOT_FOUND", code)
	}
	a1, a2 := dial(owner), dial(owner)
	a1.subscribe("acc", accountUpdatedSub, vars)
	if a := a1.updated("acc"); a.ID != id || a.Version != 1 {
		t.Fatalf("owner's first subscriber: %+v", a)
	}
	a2.subscribe("acc", accountUpdatedSub, vars)
	if a := a2.updated("acc"); a.ID != id || a.Version != 1 {
		t.Fatalf("owner's second subscriber: %+v", a)
	}
	// Two subscribers sharing one execution are two open subscriptions.
	eventually(t, 5*time.Second, "2 open subscriptions", func() bool {
		return scrapeMetrics(t, srv).value("chronicle_subscriptions_open") == 2
	})
	// The other organization while the owner's execution runs.
	late := dial(other)
	late.subscribe("acc", accountUpdatedSub, vars)
	if code := late.errorCode("acc"); code != "NOT_FOUND" {
		t.Errorf("the other organization, while the owner's subscription runs: code %s, want NOT_FOUND", code)
	}
	credit(t, owner, servertest.Vars{"id": id, "amount": "1.00"})
	for i, s := range []*subs{a1, a2} {
		if a := s.updated("acc"); a.Version != 2 || a.Balance.Amount != "2.00" {
			t.Errorf("owner's subscriber %d after the credit: %+v", i+1, a)
		}
	}
	for _, s := range []*subs{early, late} {
		s.noMessage("acc", 300*time.Millisecond)
	}
}
