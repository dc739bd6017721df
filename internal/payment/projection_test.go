package payment_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/module"
	"github.com/chronicle-es/chronicle/internal/payment"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/chronicle-es/chronicle/internal/readcache"
	"github.com/chronicle-es/chronicle/internal/redistest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

const waitLimit = 30 * time.Second

// rig is a payments service on a fresh database, with its projection
// running and the read cache on a private Redis (nil cache when noCache).
type rig struct {
	pool    *pgxpool.Pool
	store   *eventstore.Store
	engine  *projection.Engine
	cache   *readcache.Cache
	reads   *payment.ReadModel
	service *command.Handler[payment.Payment, payment.View]
	counter *counter
}

// counter counts cache hits and misses.
type counter struct {
	mu        sync.Mutex
	hit, miss int
}

func (c *counter) CacheResult(_ string, hit bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if hit {
		c.hit++
	} else {
		c.miss++
	}
}

func newRig(t *testing.T, withCache bool, setup func(context.Context, *pgxpool.Pool)) *rig {
	t.Helper()
	pool, _ := pgtest.NewPool(t)
	ctx := testCtx(t)
	if setup != nil {
		setup(ctx, pool)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	r := &rig{pool: pool, store: eventstore.New(pool), counter: &counter{}}
	var onUpdate func(projection.Update)
	if withCache {
		r.cache = readcache.New(redistest.Start(t).Client(t), "test:", time.Minute, r.counter, logger)
		// As the server does: invalidate before announcing.
		pub := live.NewPublisher(readcache.NewInvalidatingBroker(r.cache, live.NewMemoryBroker(), logger), logger)
		onUpdate = pub.Offer
		runUntilCleanup(t, pub.Run)
	}
	eng, err := projection.NewEngine(pool, projection.Config{BatchSize: 37, PollInterval: 50 * time.Millisecond, OnUpdate: onUpdate, Logger: logger}, payment.Projection{})
	if err != nil {
		t.Fatal(err)
	}
	runUntilCleanup(t, eng.Run)
	r.engine = eng
	app := payment.New(module.Deps{Pool: pool, Store: r.store, Cache: r.cache, Hub: live.NewHub(), Logger: logger,
		Commands: command.Deps{Store: r.store, Waiter: eng, Wait: waitLimit, Logger: logger}})
	r.reads = app.Reads
	r.service = app.Commands
	return r
}

func runUntilCleanup(t *testing.T, run func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("run returned %v", err)
			}
		case <-time.After(waitLimit):
			t.Errorf("run did not return")
		}
	})
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func opts(c caller.Caller) command.Options {
	return command.Options{Caller: c}
}

// spreadHistory makes the test database record each payment stream's events
// up to 95 hours in the past (the same offset for all events of a stream,
// so their order stands), so that analytics span several days and hours.
func spreadHistory(ctx context.Context, pool *pgxpool.Pool) {
	_, err := pool.Exec(ctx, `
		CREATE FUNCTION test_spread() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			NEW.recorded_at := now() - (abs(hashtext(NEW.stream_id::text)) % 96) * interval '1 hour'
				- (abs(hashtext(NEW.stream_id::text || 'm')) % 3600) * interval '1 second';
			RETURN NEW;
		END $$;
		CREATE TRIGGER test_spread BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION test_spread();`)
	if err != nil {
		panic(err)
	}
}

var currencies = []string{"EUR", "USD", "JPY"}

func amountText(minor int64, currency string) string {
	if currency == "JPY" {
		return fmt.Sprint(minor)
	}
	return fmt.Sprintf("%d.%02d", minor/100, minor%100)
}

// randomLife drives one payment through a random lifecycle, trying an
// illegal transition now and then (which must fail and append nothing).
func randomLife(t *testing.T, ctx context.Context, svc *command.Handler[payment.Payment, payment.View], rnd *rand.Rand, who caller.Caller) {
	cur := currencies[rnd.IntN(len(currencies))]
	amount := 1 + rnd.Int64N(100000)
	res, err := svc.Handle(ctx, payment.InitiatePayment{CustomerName: "Customer", CustomerEmail: "c@example.com",
		Amount: amountText(amount, cur), Currency: cur}, opts(who))
	if err != nil {
		t.Errorf("initiate: %v", err)
		return
	}
	id := res.ID.String()
	illegal := func(err error) {
		if !errors.Is(err, payment.ErrInvalidStateTransition) {
			t.Errorf("illegal transition: %v, want INVALID_STATE_TRANSITION", err)
		}
	}
	if rnd.IntN(5) == 0 {
		_, err := svc.Handle(ctx, payment.RefundPayment{ID: id, Reason: "early"}, opts(who))
		illegal(err)
	}
	switch rnd.IntN(5) {
	case 0: // stays INITIATED
		return
	case 1:
		if _, err := svc.Handle(ctx, payment.FailPayment{ID: id, Reason: "declined"}, opts(who)); err != nil {
			t.Errorf("fail: %v", err)
		}
		_, err := svc.Handle(ctx, payment.ProcessPayment{ID: id}, opts(who))
		illegal(err)
		return
	}
	if _, err := svc.Handle(ctx, payment.ProcessPayment{ID: id}, opts(who)); err != nil {
		t.Errorf("process: %v", err)
		return
	}
	left := amount
	for left > 0 && rnd.IntN(3) > 0 {
		part := ""
		if rnd.IntN(2) == 0 {
			n := 1 + rnd.Int64N(left)
			part = amountText(n, cur)
			left -= n
		} else {
			left = 0
		}
		if _, err := svc.Handle(ctx, payment.RefundPayment{ID: id, Reason: "returned", Amount: part}, opts(who)); err != nil {
			t.Errorf("refund %q: %v", part, err)
			return
		}
	}
	if left == 0 {
		_, err := svc.Handle(ctx, payment.RefundPayment{ID: id, Reason: "again"}, opts(who))
		illegal(err)
	}
}

// expectedRow is one payment as computed from its stored events.
type expectedRow struct {
	org   string
	hour  time.Time
	state payment.Payment
}

// foldStored folds every stored payment stream, independently of the
// projection: the initiation hour is the first event's recorded_at.
func foldStored(t *testing.T, ctx context.Context, pool *pgxpool.Pool) []expectedRow {
	rows, err := pool.Query(ctx, `SELECT stream_id, type, schema_version, data, recorded_at FROM events
		WHERE stream_type = 'payment' ORDER BY stream_id, version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	byID := map[uuid.UUID]*expectedRow{}
	var order []uuid.UUID
	for rows.Next() {
		var (
			id   uuid.UUID
			typ  string
			sv   int
			data []byte
			at   time.Time
		)
		if err := rows.Scan(&id, &typ, &sv, &data, &at); err != nil {
			t.Fatal(err)
		}
		e, err := payment.Type.Decode(typ, sv, data)
		if err != nil {
			t.Fatal(err)
		}
		r := byID[id]
		if r == nil {
			r = &expectedRow{hour: at.UTC().Truncate(time.Hour)}
			byID[id] = r
			order = append(order, id)
		}
		r.state = payment.Evolve(r.state, e)
		r.org = r.state.Organization
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	out := make([]expectedRow, len(order))
	for i, id := range order {
		out[i] = *byID[id]
	}
	return out
}

// expectedTotals is a plain computation of the totals of rows that match.
func expectedTotals(rows []expectedRow, match func(expectedRow) bool) payment.Totals {
	t := payment.Totals{Counts: map[payment.Status]int64{}}
	for _, s := range payment.AllStatuses {
		t.Counts[s] = 0
	}
	byCur := map[string]*payment.CurrencyTotals{}
	for _, r := range rows {
		if !match(r) {
			continue
		}
		p := r.state
		t.Counts[p.Status]++
		c := byCur[p.Currency.Code]
		if c == nil {
			c = &payment.CurrencyTotals{Currency: p.Currency.Code}
			byCur[p.Currency.Code] = c
		}
		c.Payments++
		c.Amount += p.Amount
		switch p.Status {
		case payment.StatusProcessed, payment.StatusPartiallyRefunded, payment.StatusRefunded:
			c.ProcessedCount++
			c.ProcessedAmount += p.Amount
		}
		if p.Status == payment.StatusPartiallyRefunded || p.Status == payment.StatusRefunded {
			c.RefundedCount++
		}
		c.RefundedAmount += p.Refunded
	}
	for _, code := range []string{"EUR", "JPY", "USD"} { // sorted
		if c := byCur[code]; c != nil {
			t.Currencies = append(t.Currencies, *c)
		}
	}
	return t
}

// TestAnalyticsEqualStoredEvents: after 1,000 random payments and
// transitions by concurrent callers of three organizations, over four days
// of history, the analytics (through the cache, for several windows and both
// buckets) equal a plain aggregate of the stored events.
func TestAnalyticsEqualStoredEvents(t *testing.T) {
	r := newRig(t, true, spreadHistory)
	ctx := testCtx(t)
	orgs := []caller.Caller{{Actor: "ann", Organization: "acme"}, {Actor: "bo", Organization: "globex"}, {Actor: "cy", Organization: "initech"}}
	const workers, perWorker = 10, 100
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 42))
			for range perWorker {
				randomLife(t, ctx, r.service, rnd, orgs[rnd.IntN(len(orgs))])
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	stored := foldStored(t, ctx, r.pool)
	if len(stored) != workers*perWorker {
		t.Fatalf("%d payment streams stored, want %d", len(stored), workers*perWorker)
	}
	now := time.Now().UTC()
	windows := []payment.AnalyticsRequest{
		{From: now.Add(-100 * time.Hour), To: now.Add(time.Hour), Bucket: payment.BucketDay},
		{From: now.Add(-30 * time.Hour), To: now.Add(-6 * time.Hour), Bucket: payment.BucketHour},
		{From: now.Add(-100 * time.Hour), To: now.Add(time.Hour), Bucket: payment.BucketHour},
	}
	for _, org := range orgs {
		for _, w := range windows {
			w.Organization = org.Organization
			req, err := w.Normalize()
			if err != nil {
				t.Fatal(err)
			}
			for pass := range 2 { // the second is served from the cache
				got, err := r.reads.Analytics(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				in := func(from, to time.Time) func(expectedRow) bool {
					return func(x expectedRow) bool {
						return x.org == org.Organization && !x.hour.Before(from) && x.hour.Before(to)
					}
				}
				if want := expectedTotals(stored, in(req.From, req.To)); !reflect.DeepEqual(got.Totals, want) {
					t.Fatalf("%s %s..%s %s pass %d totals\n got %+v\nwant %+v", org.Organization, req.From, req.To, req.Bucket, pass, got.Totals, want)
				}
				width := map[payment.Bucket]time.Duration{payment.BucketHour: time.Hour, payment.BucketDay: 24 * time.Hour}[req.Bucket]
				if n := int(req.To.Sub(req.From) / width); len(got.Series) != n {
					t.Fatalf("%d points, want %d", len(got.Series), n)
				}
				for i, p := range got.Series {
					start := req.From.Add(time.Duration(i) * width)
					if want := expectedTotals(stored, in(start, start.Add(width))); !p.Start.Equal(start) || !reflect.DeepEqual(p.Totals, want) {
						t.Fatalf("%s point %d (%s)\n got %+v\nwant %+v", org.Organization, i, p.Start, p.Totals, want)
					}
				}
			}
		}
	}
	r.counter.mu.Lock()
	defer r.counter.mu.Unlock()
	if r.counter.hit == 0 || r.counter.miss == 0 {
		t.Fatalf("cache hits %d, misses %d: want both", r.counter.hit, r.counter.miss)
	}
}

// TestRebuildEqualsLive: rebuilding the payments projection from the
// stored events, while the live runner runs, yields the same rows, refunds
// and statistics.
func TestRebuildEqualsLive(t *testing.T) {
	r := newRig(t, false, spreadHistory)
	ctx := testCtx(t)
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := range 60 {
		randomLife(t, ctx, r.service, rnd, caller.Caller{Actor: "a", Organization: fmt.Sprintf("org-%d", i%3)})
	}
	dump := func() string {
		var out string
		err := r.pool.QueryRow(ctx, `SELECT concat_ws(E'\n',
			(SELECT string_agg(x::text, ',' ORDER BY x.id) FROM payments x),
			(SELECT string_agg(x::text, ',' ORDER BY x.payment_id, x.version) FROM payment_refunds x),
			(SELECT string_agg(x::text, ',' ORDER BY x.organization, x.hour, x.currency, x.status)
				FROM payment_stats_hourly x WHERE x.payments <> 0))`).Scan(&out)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := dump()
	if _, err := projection.Rebuild(ctx, r.pool, payment.Projection{}, projection.RebuildOptions{BatchSize: 50}); err != nil {
		t.Fatal(err)
	}
	if after := dump(); after != before {
		t.Fatalf("rebuilt read model differs:\nlive:    %.500s\nrebuilt: %.500s", before, after)
	}
	// The live runner goes on on the new tables.
	randomLife(t, ctx, r.service, rnd, caller.Caller{Actor: "a", Organization: "org-0"})
}
