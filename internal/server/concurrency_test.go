package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/server/servertest"
	"github.com/jackc/pgx/v5"
)

// TestIdempotencyOverHTTP sends commands twice with the same key: the second
// answer is the first one's, marked duplicate, and nothing is applied twice.
func TestIdempotencyOverHTTP(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.Client()

	t.Run("credit", func(t *testing.T) {
		id := open(t, c, servertest.Vars{"owner": "Idem", "currency": "EUR", "initialBalance": "10.00"}).Account.ID
		input := servertest.Vars{"id": id, "amount": "2.50", "idempotencyKey": "credit-" + randomSuffix()}
		first := credit(t, c, input)
		second := credit(t, c, input)
		if first.Duplicate || !second.Duplicate {
			t.Errorf("duplicate flags: first %v, second %v; want false, true", first.Duplicate, second.Duplicate)
		}
		if second.Position != first.Position || second.Version != first.Version || first.Version != 2 {
			t.Errorf("second answer %+v differs from the first %+v", second, first)
		}
		if second.Account == nil || second.Account.Balance.Amount != "12.50" || !second.UpToDate {
			t.Errorf("duplicate's account = %+v, want 12.50", second.Account)
		}
		if a := getAccount(t, c, id); a.Balance.Amount != "12.50" || a.Version != 2 {
			t.Errorf("account = %+v, want 12.50 at version 2 (credited once)", a)
		}
		// The key still answers after later changes.
		credit(t, c, servertest.Vars{"id": id, "amount": "1.00"})
		third := credit(t, c, input)
		if !third.Duplicate || third.Position != first.Position || third.Version != 2 {
			t.Errorf("replay after a later change = %+v, want the original result", third)
		}
		if third.Account == nil || third.Account.Balance.Amount != "13.50" {
			t.Errorf("replay's account = %+v, want the current state 13.50", third.Account)
		}
		if n := len(allHistory(t, c, id)); n != 3 {
			t.Errorf("history has %d events, want 3", n)
		}
	})

	t.Run("open without an id", func(t *testing.T) {
		owner := "Idem open " + randomSuffix()
		input := servertest.Vars{"owner": owner, "currency": "EUR", "initialBalance": "5.00", "idempotencyKey": "open-" + randomSuffix()}
		first := open(t, c, input)
		second := open(t, c, input)
		if first.Account == nil || second.Account == nil || first.Account.ID != second.Account.ID {
			t.Fatalf("two opens with one key gave %+v and %+v, want one account", first.Account, second.Account)
		}
		if first.Duplicate || !second.Duplicate || second.Position != first.Position {
			t.Errorf("first %+v, second %+v", first, second)
		}
		if l := listAccounts(t, c, servertest.Vars{"owner": owner}); len(l.Accounts.Edges) != 1 {
			t.Errorf("accounts(owner) has %d accounts, want 1", len(l.Accounts.Edges))
		}
	})

	t.Run("concurrent duplicates", func(t *testing.T) {
		id := open(t, c, servertest.Vars{"owner": "Idem concurrent", "currency": "EUR"}).Account.ID
		input := servertest.Vars{"id": id, "amount": "1.00", "idempotencyKey": "conc-" + randomSuffix()}
		const n = 10
		results := make([]payload, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				var out struct {
					CreditAccount payload `json:"creditAccount"`
				}
				resp, err := c.Do(context.Background(), servertest.Request{Query: creditMutation, Variables: servertest.Vars{"input": input}})
				if err != nil || len(resp.Errors) > 0 {
					t.Errorf("request %d: %v %+v", i, err, resp)
					return
				}
				if err := resp.Decode(&out); err != nil {
					t.Errorf("request %d: %v", i, err)
				}
				results[i] = out.CreditAccount
			})
		}
		wg.Wait()
		originals := 0
		for _, r := range results {
			if !r.Duplicate {
				originals++
			}
			if r.Position != results[0].Position || r.Version != 2 {
				t.Errorf("result %+v differs from %+v", r, results[0])
			}
		}
		if originals != 1 {
			t.Errorf("%d results were not duplicates, want exactly 1", originals)
		}
		if a := getAccount(t, c, id); a.Balance.Amount != "1.00" || a.Version != 2 {
			t.Errorf("account = %+v, want 1.00 at version 2", a)
		}
	})
}

// TestConcurrentCredits sends 200 credits to one account at once: all
// succeed, none is lost, and the stream has no gaps.
func TestConcurrentCredits(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.Client()
	id := open(t, c, servertest.Vars{"owner": "Hot " + randomSuffix(), "currency": "EUR", "initialBalance": "1000.00"}).Account.ID

	const n = 200
	var (
		wg       sync.WaitGroup
		start    = make(chan struct{})
		mu       sync.Mutex
		versions = map[int]bool{}
		stale    int
	)
	ctx := ctxTimeout(t, 60*time.Second)
	for i := range n {
		wg.Go(func() {
			<-start
			resp, err := c.Do(ctx, servertest.Request{
				Query:     creditMutation,
				Variables: servertest.Vars{"input": servertest.Vars{"id": id, "amount": "1.00", "description": fmt.Sprintf("credit %d", i)}},
			})
			if err != nil {
				t.Errorf("credit %d: %v", i, err)
				return
			}
			if resp.Status != 200 || len(resp.Errors) > 0 {
				t.Errorf("credit %d: HTTP %d, errors %+v", i, resp.Status, resp.Errors)
				return
			}
			var out struct {
				CreditAccount payload `json:"creditAccount"`
			}
			if err := resp.Decode(&out); err != nil {
				t.Errorf("credit %d: %v", i, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if versions[out.CreditAccount.Version] {
				t.Errorf("credit %d: version %d given twice", i, out.CreditAccount.Version)
			}
			versions[out.CreditAccount.Version] = true
			if !out.CreditAccount.UpToDate {
				stale++
			}
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for v := 2; v <= n+1; v++ {
		if !versions[v] {
			t.Errorf("no credit answered with version %d", v)
		}
	}
	if stale > 0 {
		t.Logf("%d of %d payloads were not up to date (read-your-writes wait expired)", stale, n)
	}

	checkProjectionOrder(t, srv.DatabaseURL, id)

	var acc account
	eventually(t, 10*time.Second, "the projection to reach version 201", func() bool {
		acc = getAccount(t, c, id)
		return acc.Version == n+1
	})
	if acc.Balance != (money{"1200.00", "EUR"}) {
		t.Errorf("balance = %+v, want 1200.00 EUR", acc.Balance)
	}

	ops := allOperations(t, c, id, 100)
	if len(ops) != n {
		t.Fatalf("%d operations, want %d", len(ops), n)
	}
	for i, op := range ops {
		wantBalance := fmt.Sprintf("%d.00", 1001+i)
		if op.Kind != "CREDIT" || op.Version != i+2 || op.Amount.Amount != "1.00" || op.BalanceAfter.Amount != wantBalance {
			t.Errorf("operation %d = %+v, want CREDIT 1.00 at version %d leaving %s", i, op, i+2, wantBalance)
		}
	}

	events := allHistory(t, c, id)
	if len(events) != n+1 {
		t.Fatalf("%d events, want %d", len(events), n+1)
	}
	var prev int64
	for i, e := range events {
		if e.Version != i+1 || e.Position <= prev {
			t.Errorf("event %d: version %d position %d (previous position %d)", i, e.Version, e.Position, prev)
		}
		prev = e.Position
	}
}

// checkProjectionOrder checks the invariant the projections rely on: read in
// the projection order, (transaction_id, position), an account's events come
// in version order.
func checkProjectionOrder(t *testing.T, databaseURL, id string) {
	t.Helper()
	ctx := ctxTimeout(t, 10*time.Second)
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT version, transaction_id::text, position FROM events
		WHERE stream_id = $1 ORDER BY transaction_id, position`, id)
	if err != nil {
		t.Fatal(err)
	}
	type ev struct {
		version  int64
		txid     string
		position int64
	}
	evs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ev, error) {
		var e ev
		return e, r.Scan(&e.version, &e.txid, &e.position)
	})
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for i := 1; i < len(evs); i++ {
		if evs[i].version <= evs[i-1].version {
			bad++
			if bad <= 5 {
				t.Errorf("projection order: version %d (tx %s, position %d) comes after version %d (tx %s, position %d)",
					evs[i].version, evs[i].txid, evs[i].position, evs[i-1].version, evs[i-1].txid, evs[i-1].position)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d events of stream %s are out of version order in (transaction_id, position) order", bad, len(evs), id)
	}
}
