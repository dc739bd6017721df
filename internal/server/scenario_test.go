package server_test

import (
	"net/http"
	"testing"

	"github.com/chronicle-es/chronicle/internal/server/servertest"
)

// TestReadmeScenario walks an account through its whole life over HTTP, as a
// client would: open, credit, debit, read, page, audit, list, close.
func TestReadmeScenario(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.Client()
	correlationID := "e2e-readme-" + randomSuffix()
	c.Header.Set("X-Correlation-ID", correlationID)
	owner := "Alice " + randomSuffix()

	// Open with an initial balance: the payload already shows the account.
	resp := c.MustSucceed(t, openMutation, servertest.Vars{"input": servertest.Vars{
		"owner": owner, "currency": "EUR", "initialBalance": "100.00",
	}}, nil)
	if got := resp.Header.Get("X-Correlation-ID"); got != correlationID {
		t.Errorf("X-Correlation-ID response header = %q, want %q", got, correlationID)
	}
	var opened struct {
		OpenAccount payload `json:"openAccount"`
	}
	if err := resp.Decode(&opened); err != nil {
		t.Fatal(err)
	}
	p := opened.OpenAccount
	if !p.UpToDate || p.Duplicate || p.Version != 1 || p.Position <= 0 || p.Account == nil {
		t.Fatalf("openAccount payload = %+v, want upToDate, version 1, position > 0, an account", p)
	}
	acc := *p.Account
	id := acc.ID
	if acc.Owner != owner || acc.Currency != "EUR" || acc.Status != "OPEN" || acc.Version != 1 ||
		acc.Balance != (money{"100.00", "EUR"}) {
		t.Errorf("opened account = %+v", acc)
	}
	checkUTC(t, "openedAt", acc.OpenedAt)
	checkUTC(t, "updatedAt", acc.UpdatedAt)
	lastPos := p.Position

	// Credit: read-your-writes, the payload's account already has it.
	p = credit(t, c, servertest.Vars{"id": id, "amount": "25.50", "description": "salary"})
	if !p.UpToDate || p.Version != 2 || p.Position <= lastPos || p.Account == nil ||
		p.Account.Balance != (money{"125.50", "EUR"}) || p.Account.Version != 2 {
		t.Fatalf("creditAccount payload = %+v (account %+v)", p, p.Account)
	}
	lastPos = p.Position

	p = debit(t, c, servertest.Vars{"id": id, "amount": "20.00", "description": "groceries"})
	if !p.UpToDate || p.Version != 3 || p.Position <= lastPos || p.Account == nil ||
		p.Account.Balance != (money{"105.50", "EUR"}) || p.Account.Version != 3 {
		t.Fatalf("debitAccount payload = %+v (account %+v)", p, p.Account)
	}

	if got := getAccount(t, c, id); got.Balance != (money{"105.50", "EUR"}) || got.Version != 3 || got.Status != "OPEN" {
		t.Errorf("account(id) = %+v, want 105.50 EUR at version 3", got)
	}

	// Operations, oldest first, with cursors; then page by one.
	var ops operationsData
	c.MustSucceed(t, operationsQuery, servertest.Vars{"id": id}, &ops)
	edges := ops.Account.Operations.Edges
	if len(edges) != 2 {
		t.Fatalf("operations: %d edges, want 2: %+v", len(edges), edges)
	}
	want := []operation{
		{Kind: "CREDIT", Amount: money{"25.50", "EUR"}, BalanceAfter: money{"125.50", "EUR"}, Description: "salary", Version: 2},
		{Kind: "DEBIT", Amount: money{"20.00", "EUR"}, BalanceAfter: money{"105.50", "EUR"}, Description: "groceries", Version: 3},
	}
	for i, e := range edges {
		got := e.Node
		checkUTC(t, "operation recordedAt", got.RecordedAt)
		if e.Cursor == "" || got.Position <= 0 {
			t.Errorf("operation %d: empty cursor or position: %+v", i, e)
		}
		got.RecordedAt, got.Position = "", 0
		if got != want[i] {
			t.Errorf("operation %d = %+v, want %+v", i, got, want[i])
		}
	}
	if edges[0].Cursor == edges[1].Cursor {
		t.Errorf("two operations share the cursor %q", edges[0].Cursor)
	}
	if pi := ops.Account.Operations.PageInfo; pi.HasNextPage || pi.HasPreviousPage {
		t.Errorf("operations pageInfo = %+v, want no next or previous page", pi)
	}

	var page1, page2 operationsData
	c.MustSucceed(t, operationsQuery, servertest.Vars{"id": id, "first": 1}, &page1)
	if e := page1.Account.Operations.Edges; len(e) != 1 || e[0].Node.Kind != "CREDIT" {
		t.Fatalf("operations(first: 1) = %+v, want the credit", e)
	}
	pi := page1.Account.Operations.PageInfo
	if !pi.HasNextPage || pi.EndCursor == nil || *pi.EndCursor != page1.Account.Operations.Edges[0].Cursor {
		t.Fatalf("operations(first: 1) pageInfo = %+v, want hasNextPage and endCursor = the edge's cursor", pi)
	}
	c.MustSucceed(t, operationsQuery, servertest.Vars{"id": id, "first": 1, "after": *pi.EndCursor}, &page2)
	if e := page2.Account.Operations.Edges; len(e) != 1 || e[0].Node.Kind != "DEBIT" || e[0].Node.Version != 3 {
		t.Fatalf("operations(first: 1, after) = %+v, want the debit", e)
	}
	if pi := page2.Account.Operations.PageInfo; pi.HasNextPage || !pi.HasPreviousPage {
		t.Errorf("second page pageInfo = %+v, want hasPreviousPage and no next page", pi)
	}

	// The audit trail: three events with payloads and metadata.
	h := history(t, c, id, nil)
	if len(h.AccountHistory.Edges) != 3 || h.AccountHistory.PageInfo.HasNextPage {
		t.Fatalf("accountHistory = %+v, want 3 events", h.AccountHistory)
	}
	wantTypes := []string{"AccountOpened", "AccountCredited", "AccountDebited"}
	wantSchemas := []int{1, 2, 2} // credits and debits gained a reference in version 2
	commandIDs := map[string]bool{}
	var prevPos int64
	for i, e := range h.AccountHistory.Edges {
		ev := e.Node
		if ev.Type != wantTypes[i] || ev.Version != i+1 || ev.SchemaVersion != wantSchemas[i] || ev.Position <= prevPos || ev.EventID == "" || e.Cursor == "" {
			t.Errorf("event %d = %+v, want %s at version %d", i, ev, wantTypes[i], i+1)
		}
		prevPos = ev.Position
		checkUTC(t, "event recordedAt", ev.RecordedAt)
		md := ev.Metadata
		if md.CommandID == nil || *md.CommandID == "" || commandIDs[*md.CommandID] {
			t.Errorf("event %d: commandId %v, want a fresh one", i, md.CommandID)
		} else {
			commandIDs[*md.CommandID] = true
		}
		if md.CorrelationID == nil || *md.CorrelationID != correlationID {
			t.Errorf("event %d: correlationId %v, want %q", i, md.CorrelationID, correlationID)
		}
		if md.Actor == nil || *md.Actor != servertest.DefaultIdentity.Subject {
			t.Errorf("event %d: actor %v, want the token's subject %s", i, md.Actor, servertest.DefaultIdentity.Subject)
		}
		if ev.Payload["accountId"] != id {
			t.Errorf("event %d: payload %v, want accountId %s", i, ev.Payload, id)
		}
	}
	if pl := h.AccountHistory.Edges[0].Node.Payload; pl["owner"] != owner || pl["currency"] != "EUR" || pl["initialBalance"] != float64(10000) {
		t.Errorf("AccountOpened payload = %v", pl)
	}
	if pl := h.AccountHistory.Edges[1].Node.Payload; pl["amount"] != float64(2550) || pl["description"] != "salary" {
		t.Errorf("AccountCredited payload = %v", pl)
	}
	if pl := h.AccountHistory.Edges[2].Node.Payload; pl["amount"] != float64(2000) {
		t.Errorf("AccountDebited payload = %v", pl)
	}
	// Paging the history.
	h1 := history(t, c, id, servertest.Vars{"first": 2})
	if len(h1.AccountHistory.Edges) != 2 || !h1.AccountHistory.PageInfo.HasNextPage {
		t.Fatalf("accountHistory(first: 2) = %+v", h1.AccountHistory)
	}
	h2 := history(t, c, id, servertest.Vars{"first": 2, "after": *h1.AccountHistory.PageInfo.EndCursor})
	if len(h2.AccountHistory.Edges) != 1 || h2.AccountHistory.Edges[0].Node.Version != 3 || h2.AccountHistory.PageInfo.HasNextPage {
		t.Errorf("accountHistory(first: 2, after) = %+v", h2.AccountHistory)
	}

	// Listing.
	l := listAccounts(t, c, servertest.Vars{"owner": owner})
	if len(l.Accounts.Edges) != 1 || l.Accounts.Edges[0].Node.ID != id || l.Accounts.Edges[0].Node.Balance.Amount != "105.50" {
		t.Errorf("accounts(owner) = %+v, want just %s", l.Accounts, id)
	}
	if l := listAccounts(t, c, servertest.Vars{"owner": owner, "status": "OPEN"}); len(l.Accounts.Edges) != 1 {
		t.Errorf("accounts(owner, OPEN) = %+v, want the account", l.Accounts)
	}
	if l := listAccounts(t, c, servertest.Vars{"owner": "nobody " + randomSuffix()}); len(l.Accounts.Edges) != 0 {
		t.Errorf("accounts(unknown owner) = %+v, want none", l.Accounts)
	}
	if l := listAccounts(t, c, servertest.Vars{"status": "CLOSED"}); len(l.Accounts.Edges) != 0 {
		t.Errorf("accounts(CLOSED) = %+v, want none", l.Accounts)
	}

	// Closing needs a zero balance.
	e := c.MustFail(t, "NON_ZERO_BALANCE", closeMutation, servertest.Vars{"input": servertest.Vars{"id": id}})
	if len(e.Path) != 1 || e.Path[0] != "closeAccount" {
		t.Errorf("error path = %v, want [closeAccount]", e.Path)
	}
	p = debit(t, c, servertest.Vars{"id": id, "amount": "105.50"})
	if p.Account == nil || p.Account.Balance != (money{"0.00", "EUR"}) || p.Version != 4 {
		t.Fatalf("debit of everything = %+v (account %+v)", p, p.Account)
	}
	p = closeAccount(t, c, servertest.Vars{"id": id, "expectedVersion": 4})
	if !p.UpToDate || p.Version != 5 || p.Account == nil || p.Account.Status != "CLOSED" || p.Account.Version != 5 {
		t.Fatalf("closeAccount payload = %+v (account %+v)", p, p.Account)
	}
	if l := listAccounts(t, c, servertest.Vars{"status": "CLOSED"}); len(l.Accounts.Edges) != 1 || l.Accounts.Edges[0].Node.ID != id {
		t.Errorf("accounts(CLOSED) = %+v, want the closed account", l.Accounts)
	}
	if l := listAccounts(t, c, servertest.Vars{"owner": owner, "status": "OPEN"}); len(l.Accounts.Edges) != 0 {
		t.Errorf("accounts(owner, OPEN) = %+v, want none after closing", l.Accounts)
	}

	// A closed account takes nothing more.
	c.MustFail(t, "ACCOUNT_CLOSED", creditMutation, servertest.Vars{"input": servertest.Vars{"id": id, "amount": "1.00"}})
	c.MustFail(t, "ACCOUNT_CLOSED", debitMutation, servertest.Vars{"input": servertest.Vars{"id": id, "amount": "1.00"}})
	c.MustFail(t, "ACCOUNT_CLOSED", closeMutation, servertest.Vars{"input": servertest.Vars{"id": id}})
	if n := len(allHistory(t, c, id)); n != 5 {
		t.Errorf("history has %d events, want 5", n)
	}

	// Without the header, a correlation id is generated and echoed.
	plain := srv.Client()
	resp = plain.MustSucceed(t, accountQuery, servertest.Vars{"id": id}, nil)
	if resp.Header.Get("X-Correlation-ID") == "" {
		t.Error("no X-Correlation-ID in the response to a request without one")
	}
	if resp.Status != http.StatusOK {
		t.Errorf("status %d", resp.Status)
	}
}
