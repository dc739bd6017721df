package account_test

// Tests of the accounts projection and its read model against a real
// PostgreSQL (one migrated database per test, see pgtest).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/account"
	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/database"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/module"
	"github.com/chronicle-es/chronicle/internal/money"
	"github.com/chronicle-es/chronicle/internal/page"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// projWaitLimit bounds every wait for the projection: the transaction-id
// horizon is cluster-wide, so other tests' open transactions may hold it
// back for a while.
const projWaitLimit = 20 * time.Second

// testOrg owns every account these tests open.
const testOrg = "acme"

// tenant is the command options of testOrg's caller.
var tenant = command.Options{Caller: caller.Caller{Actor: "tester", Organization: testOrg}}

// withKey returns tenant's options with an idempotency key.
func withKey(key string) command.Options {
	o := tenant
	o.IdempotencyKey = key
	return o
}

// testService runs account commands for the tests through the context's
// handler, and opens accounts at ids the tests choose through the
// repository (clients never choose ids; these tests need to know them
// before the account exists).
type testService struct {
	*account.App
	repo *aggregate.Repository[account.Account]
}

func newTestService(store *eventstore.Store, pool *pgxpool.Pool, eng *projection.Engine, wait time.Duration) testService {
	app := account.New(module.Deps{Pool: pool, Store: store, Commands: command.Deps{Store: store, Waiter: eng, Wait: wait}, Hub: live.NewHub()})
	return testService{App: app, repo: aggregate.NewRepository(store, account.Type, nil)}
}

// openAt opens the account id; the result has no view (UpToDate false).
func (s testService) openAt(ctx context.Context, id string, cmd account.OpenAccount, opts command.Options) (account.Result, error) {
	uid := uuid.MustParse(id)
	env := command.Env{StreamID: uid, Actor: opts.Caller.Actor, Organization: opts.Caller.Organization}
	res, err := s.repo.Handle(ctx, uid, cmd.Name(), aggregate.Options{Creates: true, IdempotencyKey: opts.IdempotencyKey,
		Metadata: eventstore.Metadata{Actor: env.Actor, Tenant: env.Organization}},
		func(a account.Account) ([]aggregate.Event, error) { return cmd.Decide(a, env) })
	if err != nil {
		return account.Result{}, err
	}
	return account.Result{ID: uid, Outcome: command.Outcome{Position: res.LastPosition, Version: res.ToVersion, Duplicate: res.Duplicate}}, nil
}

// run runs cmd through the handler.
func (s testService) run(ctx context.Context, cmd command.Command[account.Account], opts command.Options) (account.Result, error) {
	return s.Commands.Handle(ctx, cmd, opts)
}

// projRunEngine runs an engine with the accounts projection until the test
// ends (and waits for Run to return then).
func projRunEngine(t *testing.T, pool *pgxpool.Pool) *projection.Engine {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	eng, err := projection.NewEngine(pool, projection.Config{BatchSize: 16, PollInterval: 50 * time.Millisecond, Logger: logger}, account.Projection{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(projWaitLimit):
			t.Errorf("Run did not return")
		}
	})
	return eng
}

// projWaitAll waits until the projection has applied every committed event.
func projWaitAll(t *testing.T, ctx context.Context, pool *pgxpool.Pool, eng *projection.Engine) {
	t.Helper()
	var (
		txid string
		last eventstore.Checkpoint
	)
	err := pool.QueryRow(ctx, `SELECT transaction_id::text, position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1`).Scan(&txid, &last.Position)
	if errors.Is(err, pgx.ErrNoRows) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if last.TransactionID, err = strconv.ParseUint(txid, 10, 64); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, projWaitLimit)
	defer cancel()
	if err := eng.WaitFor(wctx, account.ProjectionName, last); err != nil {
		cp, _ := eng.Checkpoint(account.ProjectionName)
		t.Fatalf("projection did not reach %+v: %v (at %+v)", last, err, cp)
	}
}

func projCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// projDecode decodes a stream's events.
func projDecode(t *testing.T, recorded []eventstore.RecordedEvent) []aggregate.Event {
	t.Helper()
	out := make([]aggregate.Event, len(recorded))
	for i, re := range recorded {
		e, err := account.Type.Decode(re.Type, re.SchemaVersion, re.Data)
		if err != nil {
			t.Fatalf("decode event %d of %s: %v", re.Version, re.StreamID, err)
		}
		out[i] = e
	}
	return out
}

type projOp struct {
	Version      int64
	EventID      uuid.UUID
	Position     int64
	Kind         string
	Amount       int64
	BalanceAfter int64
	Description  string
	RecordedAt   time.Time
}

// projCheckAccount asserts that account id's read-model rows equal the fold
// of its stored events, and returns how many operations it has.
func projCheckAccount(t *testing.T, ctx context.Context, pool *pgxpool.Pool, store *eventstore.Store, reads *account.ReadModel, id uuid.UUID) int {
	t.Helper()
	recorded, err := store.ReadStream(ctx, id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	view, err := reads.Get(ctx, testOrg, id)
	if len(recorded) == 0 {
		if !errors.Is(err, account.ErrAccountNotFound) {
			t.Fatalf("account %s has no events; Get = %+v, %v", id, view, err)
		}
		return 0
	}
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	events := projDecode(t, recorded)
	state := account.Type.Fold(events...)
	want := account.View{
		ID:           id,
		Organization: state.Organization,
		Owner:        state.Owner,
		Currency:     state.Currency.Code,
		Balance:      state.Balance,
		Status:       state.Status,
		Version:      int64(len(recorded)),
		OpenedAt:     recorded[0].RecordedAt,
		UpdatedAt:    recorded[len(recorded)-1].RecordedAt,
	}
	if view != want {
		t.Fatalf("account %s\nread model %+v\nfold       %+v", id, view, want)
	}

	// One operation per credit or debit, with the balance after it.
	var wantOps []projOp
	for i, e := range events {
		re := recorded[i]
		after := account.Type.Fold(events[:i+1]...).Balance
		op := projOp{Version: re.Version, EventID: re.EventID, Position: re.Position, BalanceAfter: after, RecordedAt: re.RecordedAt}
		switch e := e.(type) {
		case account.AccountCredited:
			op.Kind, op.Amount, op.Description = "CREDIT", e.Amount, e.Description
		case account.AccountDebited:
			op.Kind, op.Amount, op.Description = "DEBIT", e.Amount, e.Description
		default:
			continue
		}
		wantOps = append(wantOps, op)
	}
	rows, err := pool.Query(ctx, `SELECT version, event_id, position, kind, amount, balance_after, description, recorded_at
		FROM account_operations WHERE account_id = $1 ORDER BY version`, id)
	if err != nil {
		t.Fatal(err)
	}
	gotOps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (projOp, error) {
		var o projOp
		err := r.Scan(&o.Version, &o.EventID, &o.Position, &o.Kind, &o.Amount, &o.BalanceAfter, &o.Description, &o.RecordedAt)
		o.RecordedAt = o.RecordedAt.UTC()
		return o, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gotOps, wantOps) {
		t.Fatalf("account %s operations\n got %+v\nwant %+v", id, gotOps, wantOps)
	}
	return len(wantOps)
}

// projAmount formats minor units in the currency.
func projAmount(minor int64, code string) string {
	cur, err := money.LookupCurrency(code)
	if err != nil {
		panic(err)
	}
	return money.FormatAmount(minor, cur)
}

// projConcurrentSetup gives a concurrency test its database: the
// projection's pool (running the engine) and, apart from it, a large pool for
// the writers and the read model, with a service that does not wait for the
// projection.
func projConcurrentSetup(t *testing.T, ctx context.Context) (*pgxpool.Pool, *eventstore.Store, *account.ReadModel, *projection.Engine, testService) {
	t.Helper()
	pool, url := pgtest.NewPool(t)
	writers, err := database.Open(ctx, url, 24)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(writers.Close)
	store := eventstore.New(writers)
	eng := projRunEngine(t, pool)
	svc := newTestService(store, writers, eng, 0)
	return pool, store, svc.Reads, eng, svc
}

// TestProjectionEqualsFold: while many goroutines run random commands, the
// accounts projection keeps up; afterwards every account's row equals the
// fold of its stream and its operations are exactly its credits and debits
// with their running balances.
func TestProjectionEqualsFold(t *testing.T) {
	t.Parallel()
	ctx := projCtx(t)
	pool, store, reads, eng, svc := projConcurrentSetup(t, ctx)
	repo := aggregate.NewRepository(store, account.Type, nil)

	const (
		workers  = 20
		nAcc     = 20
		commands = 20 // per worker
	)
	currencies := []string{"EUR", "JPY", "KWD", "USD"}
	owners := []string{"ada", "grace", "edsger"}
	ids := make([]uuid.UUID, nAcc+1) // the last one is never opened
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7())
	}
	currencyOf := func(i int) string { return currencies[i%len(currencies)] }

	var (
		mu     sync.Mutex
		counts = map[string]int{}
		tally  = func(what string) {
			mu.Lock()
			counts[what]++
			mu.Unlock()
		}
		behind atomic.Int64
	)
	expected := []error{
		account.ErrInsufficientFunds, account.ErrAccountClosed, account.ErrNonZeroBalance,
		account.ErrAccountExists, account.ErrAccountNotFound,
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for c := range commands {
				i := rnd.IntN(len(ids))
				if c == 0 && w < nAcc {
					i = w // every account is opened early
				}
				id, code := ids[i].String(), currencyOf(i)
				var (
					kind string
					res  account.Result
					err  error
				)
				op := rnd.IntN(20)
				if op == 0 && i == nAcc {
					op = 1 // ids[nAcc] is never opened
				}
				switch {
				case c == 0 || op == 0:
					kind = "open"
					res, err = svc.openAt(ctx, id, account.OpenAccount{Owner: owners[i%len(owners)], Currency: code,
						InitialBalance: projAmount(int64(rnd.IntN(3))*int64(rnd.IntN(2000)), code)}, tenant)
				case op < 9:
					kind = "credit"
					res, err = svc.run(ctx, account.CreditAccount{ID: id, Amount: projAmount(1+int64(rnd.IntN(5000)), code),
						Description: fmt.Sprintf("credit %d/%d", w, c)}, tenant)
				case op < 14:
					kind = "debit"
					res, err = svc.run(ctx, account.DebitAccount{ID: id, Amount: projAmount(1+int64(rnd.IntN(5000)), code),
						Description: fmt.Sprintf("debit %d/%d", w, c)}, tenant)
				case op < 17:
					// Drain the balance so that closes can succeed.
					kind = "drain"
					state, _, lerr := repo.Load(ctx, ids[i])
					if lerr != nil {
						t.Error(lerr)
						return
					}
					if state.Balance <= 0 {
						continue
					}
					res, err = svc.run(ctx, account.DebitAccount{ID: id, Amount: projAmount(state.Balance, code)}, tenant)
				default:
					kind = "close"
					res, err = svc.run(ctx, account.CloseAccount{ID: id}, tenant)
				}
				if err != nil {
					matched := false
					for _, e := range expected {
						if errors.Is(err, e) {
							tally(kind + " refused: " + e.Error())
							matched = true
							break
						}
					}
					if !matched && !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
						t.Errorf("%s %s: %v", kind, id, err)
						return
					}
					continue
				}
				tally(kind)
				if res.Version < 1 || res.Position < 1 || res.Duplicate {
					t.Errorf("%s %s: result %+v", kind, id, res)
				}
				if !res.UpToDate {
					behind.Add(1)
					continue
				}
				// Up to date: the projected account includes the command.
				if res.View == nil || res.View.ID != ids[i] || res.View.Version < res.Version {
					t.Errorf("%s %s: up-to-date result %+v with account %+v", kind, id, res, res.View)
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	projWaitAll(t, ctx, pool, eng)

	var ops, streams int
	for _, id := range ids {
		ops += projCheckAccount(t, ctx, pool, store, reads, id)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM streams`).Scan(&streams); err != nil {
		t.Fatal(err)
	}
	var rowsTotal, opsTotal int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM account_operations)`).Scan(&rowsTotal, &opsTotal); err != nil {
		t.Fatal(err)
	}
	if rowsTotal != nAcc || streams != nAcc || opsTotal != ops {
		t.Fatalf("%d account rows, %d streams, %d operation rows; want %d, %d, %d", rowsTotal, streams, opsTotal, nAcc, nAcc, ops)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, kind := range []string{"open", "credit", "debit", "drain", "close", "debit refused: insufficient funds"} {
		if counts[kind] == 0 {
			t.Errorf("no %q in %v: the mix is not exercised", kind, counts)
		}
	}
	t.Logf("commands: %v; %d answered before the projection caught up", counts, behind.Load())
}

// TestProjectionHotStreams: many writers on two accounts with idempotency
// keys (the retry path under the stream lock), some keys sent twice. The
// projection applies each stream in version order, so balance_after and the
// version column still equal the fold.
func TestProjectionHotStreams(t *testing.T) {
	t.Parallel()
	ctx := projCtx(t)
	pool, store, reads, eng, svc := projConcurrentSetup(t, ctx)

	hot := []uuid.UUID{uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())}
	for _, id := range hot {
		if _, err := svc.openAt(ctx, id.String(), account.OpenAccount{Owner: "hot", Currency: "EUR", InitialBalance: "50.00"},
			withKey("open-"+id.String())); err != nil {
			t.Fatal(err)
		}
	}
	var (
		wg         sync.WaitGroup
		applied    atomic.Int64
		duplicates atomic.Int64
	)
	for w := range 20 {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for c := range 12 {
				id := hot[rnd.IntN(len(hot))].String()
				opts := withKey(fmt.Sprintf("hot-%d-%d", w, c))
				amount := projAmount(1+int64(rnd.IntN(1000)), "EUR")
				for attempt := range 1 + rnd.IntN(2) { // some keys twice
					var (
						res account.Result
						err error
					)
					if c%3 == 2 {
						res, err = svc.run(ctx, account.DebitAccount{ID: id, Amount: amount}, opts)
					} else {
						res, err = svc.run(ctx, account.CreditAccount{ID: id, Amount: amount}, opts)
					}
					switch {
					case errors.Is(err, account.ErrInsufficientFunds):
					case err != nil:
						t.Errorf("%s: %v", opts.IdempotencyKey, err)
						return
					case res.Duplicate != (attempt > 0):
						t.Errorf("%s attempt %d: duplicate %v", opts.IdempotencyKey, attempt, res.Duplicate)
					case res.Duplicate:
						duplicates.Add(1)
					default:
						applied.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	projWaitAll(t, ctx, pool, eng)
	ops := 0
	for _, id := range hot {
		ops += projCheckAccount(t, ctx, pool, store, reads, id)
	}
	if int64(ops) != applied.Load() || duplicates.Load() == 0 {
		t.Fatalf("%d operations projected, %d commands applied (%d duplicates)", ops, applied.Load(), duplicates.Load())
	}
}

// TestReadModel covers the read-model queries: Get, List with paging and
// filters, Operations and History paging, and their argument errors.
func TestReadModel(t *testing.T) {
	t.Parallel()
	ctx := projCtx(t)
	pool, _ := pgtest.NewPool(t)
	store := eventstore.New(pool)
	eng := projRunEngine(t, pool)
	svc := newTestService(store, pool, eng, projWaitLimit)
	reads := svc.Reads
	none := tenant

	open := func(owner, currency, initial string) uuid.UUID {
		t.Helper()
		res, err := svc.run(ctx, account.OpenAccount{Owner: owner, Currency: currency, InitialBalance: initial}, none)
		if err != nil {
			t.Fatal(err)
		}
		if !res.UpToDate || res.View == nil || res.Version != 1 || res.View.Owner != owner || res.View.Status != account.StatusOpen {
			t.Fatalf("open: %+v (account %+v)", res, res.View)
		}
		return res.View.ID
	}
	a1 := open("alice", "EUR", "10.00")
	b1 := open("bob", "JPY", "")
	a2 := open("alice", "KWD", "1.000")
	b2 := open("bob", "EUR", "0")
	a3 := open("alice", "USD", "")
	all := []uuid.UUID{a1, b1, a2, b2, a3}
	slices.SortFunc(all, func(x, y uuid.UUID) int { return bytes.Compare(x[:], y[:]) })

	// a1: five operations after the opening.
	type move struct {
		credit bool
		amount string
		minor  int64
		after  int64
	}
	moves := []move{{true, "2.50", 250, 1250}, {false, "0.25", 25, 1225}, {true, "100", 10000, 11225}, {false, "112.25", 11225, 0}, {true, "0.01", 1, 1}}
	for i, m := range moves {
		desc := fmt.Sprintf("move %d", i)
		var (
			res account.Result
			err error
		)
		if m.credit {
			res, err = svc.run(ctx, account.CreditAccount{ID: a1.String(), Amount: m.amount, Description: desc}, none)
		} else {
			res, err = svc.run(ctx, account.DebitAccount{ID: a1.String(), Amount: m.amount, Description: desc}, none)
		}
		if err != nil {
			t.Fatal(err)
		}
		if !res.UpToDate || res.View == nil || res.View.Balance != m.after || res.Version != int64(i+2) || res.View.Version != res.Version {
			t.Fatalf("move %d: %+v (account %+v)", i, res, res.View)
		}
	}
	if _, err := svc.run(ctx, account.CloseAccount{ID: b2.String()}, none); err != nil {
		t.Fatal(err)
	}
	projWaitAll(t, ctx, pool, eng)

	// Get.
	v, err := reads.Get(ctx, testOrg, a1)
	if err != nil {
		t.Fatal(err)
	}
	if v.ID != a1 || v.Owner != "alice" || v.Currency != "EUR" || v.Balance != 1 || v.Status != account.StatusOpen || v.Version != 6 ||
		v.OpenedAt.IsZero() || v.UpdatedAt.Before(v.OpenedAt) || v.OpenedAt.Location() != time.UTC {
		t.Fatalf("Get(a1) = %+v", v)
	}
	if v, err := reads.Get(ctx, testOrg, b2); err != nil || v.Status != account.StatusClosed || v.Version != 2 {
		t.Fatalf("Get(b2) = %+v, %v", v, err)
	}
	if _, err := reads.Get(ctx, testOrg, uuid.Must(uuid.NewV7())); !errors.Is(err, account.ErrAccountNotFound) {
		t.Fatalf("Get(unknown): %v, want ErrAccountNotFound", err)
	}
	for _, id := range all {
		projCheckAccount(t, ctx, pool, store, reads, id)
	}

	// List: pages of two in id order.
	list := func(f account.ListFilter) page.Page[account.View] {
		t.Helper()
		f.Organization = testOrg
		p, err := reads.List(ctx, f)
		if err != nil {
			t.Fatalf("List(%+v): %v", f, err)
		}
		if len(p.Cursors) != len(p.Items) {
			t.Fatalf("List(%+v): %d items, %d cursors", f, len(p.Items), len(p.Cursors))
		}
		return p
	}
	ids := func(p page.Page[account.View]) []uuid.UUID {
		var out []uuid.UUID
		for _, v := range p.Items {
			out = append(out, v.ID)
		}
		return out
	}
	two := 2
	var (
		paged []uuid.UUID
		after string
	)
	for i := 0; ; i++ {
		p := list(account.ListFilter{First: &two, After: after})
		paged = append(paged, ids(p)...)
		if wantNext := i < 2; p.HasNextPage != wantNext || (wantNext && len(p.Items) != 2) {
			t.Fatalf("page %d: %d items, hasNextPage %v", i, len(p.Items), p.HasNextPage)
		}
		if !p.HasNextPage {
			break
		}
		after = p.Cursors[len(p.Cursors)-1]
	}
	if !slices.Equal(paged, all) {
		t.Fatalf("paged list %v, want %v", paged, all)
	}
	if p := list(account.ListFilter{}); !slices.Equal(ids(p), all) || p.HasNextPage {
		t.Fatalf("default page: %v (next %v)", ids(p), p.HasNextPage)
	}
	// The cursor of an item continues after it.
	if p := list(account.ListFilter{After: list(account.ListFilter{}).Cursors[2]}); !slices.Equal(ids(p), all[3:]) {
		t.Fatalf("after the third: %v, want %v", ids(p), all[3:])
	}
	filtered := func(keep func(uuid.UUID) bool) []uuid.UUID {
		return slices.DeleteFunc(slices.Clone(all), func(id uuid.UUID) bool { return !keep(id) })
	}
	alice := filtered(func(id uuid.UUID) bool { return id == a1 || id == a2 || id == a3 })
	if p := list(account.ListFilter{Owner: "alice"}); !slices.Equal(ids(p), alice) {
		t.Fatalf("alice's accounts %v, want %v", ids(p), alice)
	}
	one := 1
	p := list(account.ListFilter{Owner: "alice", First: &one})
	p2 := list(account.ListFilter{Owner: "alice", First: &one, After: p.Cursors[0]})
	if !p.HasNextPage || !p2.HasNextPage || !slices.Equal(append(ids(p), ids(p2)...), alice[:2]) {
		t.Fatalf("alice paged by one: %v then %v", ids(p), ids(p2))
	}
	if p := list(account.ListFilter{Status: account.StatusClosed}); !slices.Equal(ids(p), []uuid.UUID{b2}) {
		t.Fatalf("closed accounts %v, want [%s]", ids(p), b2)
	}
	if p := list(account.ListFilter{Owner: "bob", Status: account.StatusOpen}); !slices.Equal(ids(p), []uuid.UUID{b1}) {
		t.Fatalf("bob's open accounts %v, want [%s]", ids(p), b1)
	}
	if p, err := reads.List(ctx, account.ListFilter{Organization: "globex"}); err != nil || len(p.Items) != 0 {
		t.Fatalf("accounts of another organization: %+v, %v", p.Items, err)
	}
	if p := list(account.ListFilter{Owner: "nobody"}); len(p.Items) != 0 || p.HasNextPage {
		t.Fatalf("nobody's accounts: %+v", p)
	}
	if p := list(account.ListFilter{After: list(account.ListFilter{}).Cursors[4]}); len(p.Items) != 0 || p.HasNextPage {
		t.Fatalf("after the last: %+v", p)
	}
	zero, tooMany := 0, page.MaxSize+1
	for _, f := range []account.ListFilter{
		{First: &zero}, {First: &tooMany}, {After: "not a cursor!"},
		{After: page.Encode("operation", "3")}, {After: page.Encode("account", "not-a-uuid")},
	} {
		if _, err := reads.List(ctx, f); !errors.Is(err, page.ErrInvalidPage) {
			t.Fatalf("List(%+v): %v, want ErrInvalidPage", f, err)
		}
	}
	if _, err := reads.List(ctx, account.ListFilter{Status: "FROZEN"}); !errors.Is(err, account.ErrInvalidInput) {
		t.Fatalf("List(status FROZEN): %v, want ErrInvalidInput", err)
	}

	// Operations of a1, two at a time.
	var (
		gotOps []account.Operation
		opsAt  string
	)
	for i := 0; ; i++ {
		p, err := reads.Operations(ctx, testOrg, a1, &two, opsAt)
		if err != nil {
			t.Fatal(err)
		}
		gotOps = append(gotOps, p.Items...)
		if wantNext := i < 2; p.HasNextPage != wantNext || len(p.Cursors) != len(p.Items) {
			t.Fatalf("operations page %d: %d items, hasNextPage %v", i, len(p.Items), p.HasNextPage)
		}
		if !p.HasNextPage {
			break
		}
		opsAt = p.Cursors[len(p.Cursors)-1]
	}
	if len(gotOps) != len(moves) {
		t.Fatalf("%d operations, want %d", len(gotOps), len(moves))
	}
	for i, o := range gotOps {
		m := moves[i]
		kind := "DEBIT"
		if m.credit {
			kind = "CREDIT"
		}
		if o.AccountID != a1 || o.Kind != kind || o.Amount != m.minor || o.BalanceAfter != m.after ||
			o.Description != fmt.Sprintf("move %d", i) || o.Version != int64(i+2) || o.Position < 1 || o.RecordedAt.IsZero() {
			t.Fatalf("operation %d: %+v, want %s %d -> %d", i, o, kind, m.minor, m.after)
		}
	}
	if p, err := reads.Operations(ctx, testOrg, b1, nil, ""); err != nil || len(p.Items) != 0 || p.HasNextPage {
		t.Fatalf("operations of b1: %+v, %v", p, err)
	}
	if p, err := reads.Operations(ctx, testOrg, uuid.Must(uuid.NewV7()), nil, ""); err != nil || len(p.Items) != 0 {
		t.Fatalf("operations of an unknown account: %+v, %v", p, err)
	}
	// Every read takes the organization: another one's operations are not
	// there (the read trusted its caller to have checked before).
	if p, err := reads.Operations(ctx, "globex", a1, nil, ""); err != nil || len(p.Items) != 0 {
		t.Fatalf("operations of a1 for another organization: %+v, %v", p, err)
	}
	for _, bad := range []string{"???", page.Encode("account", a1.String()), page.Encode("operation", "-1"), page.Encode("operation", "x")} {
		if _, err := reads.Operations(ctx, testOrg, a1, nil, bad); !errors.Is(err, page.ErrInvalidPage) {
			t.Fatalf("Operations(after %q): %v, want ErrInvalidPage", bad, err)
		}
	}
	if _, err := reads.Operations(ctx, testOrg, a1, &zero, ""); !errors.Is(err, page.ErrInvalidPage) {
		t.Fatalf("Operations(first 0): %v, want ErrInvalidPage", err)
	}

	// History of a1: its six events, four then two.
	four := 4
	h, err := svc.History.Events(ctx, testOrg, a1, &four, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := svc.History.Events(ctx, testOrg, a1, &four, h.Cursors[len(h.Cursors)-1], nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Items) != 4 || !h.HasNextPage || len(h2.Items) != 2 || h2.HasNextPage {
		t.Fatalf("history pages: %d (next %v), %d (next %v)", len(h.Items), h.HasNextPage, len(h2.Items), h2.HasNextPage)
	}
	if _, err := svc.History.Events(ctx, "globex", a1, nil, "", nil); !errors.Is(err, account.ErrAccountNotFound) {
		t.Fatalf("history of another organization's account: %v, want ErrAccountNotFound", err)
	}
	for i, e := range append(h.Items, h2.Items...) {
		wantType := account.EventAccountCredited
		switch {
		case i == 0:
			wantType = account.EventAccountOpened
		case !moves[i-1].credit:
			wantType = account.EventAccountDebited
		}
		if e.StreamID != a1 || e.Version != int64(i+1) || e.Type != wantType {
			t.Fatalf("history event %d: %s v%d %s, want v%d %s", i, e.StreamID, e.Version, e.Type, i+1, wantType)
		}
	}
	if h, err := svc.History.Events(ctx, testOrg, a1, nil, "", nil); err != nil || len(h.Items) != 6 || h.HasNextPage {
		t.Fatalf("history, default page: %d items (next %v), %v", len(h.Items), h.HasNextPage, err)
	}
	if _, err := svc.History.Events(ctx, testOrg, uuid.Must(uuid.NewV7()), nil, "", nil); !errors.Is(err, account.ErrAccountNotFound) {
		t.Fatalf("history of an unknown account: %v, want ErrAccountNotFound", err)
	}
	if _, err := svc.History.Events(ctx, testOrg, a1, nil, page.Encode("operation", "2"), nil); !errors.Is(err, page.ErrInvalidPage) {
		t.Fatalf("History(after an operation cursor): %v, want ErrInvalidPage", err)
	}
}
