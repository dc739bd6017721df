package server_test

import (
	"testing"

	"github.com/chronicle-es/chronicle/internal/server/servertest"
)

// TestLastChangeAndHistory: every entity type tells which event produced
// its state (who, which command, which correlation id) and lists its stream,
// filtered by event type.
func TestLastChangeAndHistory(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.Client()
	id := open(t, c, servertest.Vars{"owner": "Provenance " + randomSuffix(), "currency": "EUR", "initialBalance": "5.00"}).AccountID
	credit(t, c, servertest.Vars{"id": id, "amount": "1.00"})
	last := debit(t, c, servertest.Vars{"id": id, "amount": "2.00"})

	type change struct {
		Position      int64  `json:"position"`
		EventID       string `json:"eventId"`
		Type          string `json:"type"`
		Actor         string `json:"actor"`
		CommandID     string `json:"commandId"`
		CorrelationID string `json:"correlationId"`
	}
	type events = streamEvents
	var out struct {
		Account struct {
			LastChange change `json:"lastChange"`
			History    events `json:"history"`
			All        events `json:"all"`
		} `json:"account"`
	}
	c.MustSucceed(t, `query($id: ID!) { account(id: $id) {
		lastChange { position eventId type actor commandId correlationId }
		history(types: ["AccountCredited"]) { edges { node { type version } } }
		all: history(first: 2, after: null) { edges { node { type version } } }
	} }`, servertest.Vars{"id": id}, &out)
	lc := out.Account.LastChange
	if lc.Type != "AccountDebited" || lc.Position != last.Position || lc.Actor != servertest.DefaultIdentity.Subject ||
		lc.CommandID == "" || lc.CorrelationID == "" || lc.EventID == "" {
		t.Errorf("lastChange = %+v, want the debit at position %d by %s", lc, last.Position, servertest.DefaultIdentity.Subject)
	}
	if h := out.Account.History.Edges; len(h) != 1 || h[0].Node.Type != "AccountCredited" || h[0].Node.Version != 2 {
		t.Errorf("history(types: [AccountCredited]) = %+v", h)
	}
	if h := out.Account.All.Edges; len(h) != 2 || h[0].Node.Version != 1 || h[1].Node.Version != 2 {
		t.Errorf("history(first: 2) = %+v", h)
	}

	p := initiate(t, c, "3.00", "EUR")
	c.MustSucceed(t, processMutation, servertest.Vars{"input": servertest.Vars{"id": p.ID}}, nil)
	var pay struct {
		Payment struct {
			LastChange change `json:"lastChange"`
			History    events `json:"history"`
		} `json:"payment"`
	}
	c.MustSucceed(t, `query($id: ID!) { payment(id: $id) { lastChange { type actor } history { edges { node { type version } } } } }`,
		servertest.Vars{"id": p.ID}, &pay)
	if pay.Payment.LastChange.Type != "PaymentProcessed" || len(pay.Payment.History.Edges) != 2 {
		t.Errorf("payment lastChange %+v, history %+v", pay.Payment.LastChange, pay.Payment.History)
	}
	// Another organization reaches neither.
	srv.ClientAs("gus", "globex").MustFail(t, "NOT_FOUND", accountHistoryQuery, servertest.Vars{"id": id})
}

const accountHistoryQuery = `query($id: ID!) { accountHistory(id: $id) { edges { node { type } } } }`
