package payment_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/module"
	"github.com/chronicle-es/chronicle/internal/payment"
	"github.com/google/uuid"
)

// TestCacheNeverStale: concurrent writers (one organization each, so each
// knows what its organization must look like) and readers that keep filling
// the cache with whatever they read. Every read a writer makes after its
// command returned, through the cache, equals what the database holds: the
// payment at the command's version, and the organization's analytics.
func TestCacheNeverStale(t *testing.T) {
	r := newRig(t, true, nil)
	ctx := testCtx(t)
	uncached := payment.New(module.Deps{Pool: r.pool, Hub: live.NewHub()}).Reads
	window := func(org string) payment.AnalyticsRequest {
		now := time.Now().UTC()
		return payment.AnalyticsRequest{Organization: org, From: now.Add(-2 * time.Hour), To: now.Add(2 * time.Hour), Bucket: payment.BucketHour}
	}

	const writers, steps, readers = 8, 40, 4
	var (
		known   sync.Map // payment id -> organization
		stop    atomic.Bool
		reads   atomic.Int64
		readsWG sync.WaitGroup
	)
	for i := range readers {
		readsWG.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(i), 7))
			for !stop.Load() {
				known.Range(func(k, v any) bool {
					if rnd.IntN(4) == 0 {
						_, _ = r.reads.Get(ctx, v.(string), k.(uuid.UUID))
						_, _ = r.reads.Analytics(ctx, window(v.(string)))
						reads.Add(2)
					}
					return !stop.Load()
				})
				time.Sleep(time.Millisecond)
			}
		})
	}

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			who := caller.Caller{Actor: "writer", Organization: fmt.Sprintf("org-%d", w)}
			rnd := rand.New(rand.NewPCG(uint64(w), 99))
			var mine []uuid.UUID
			for step := range steps {
				var (
					res payment.Result
					err error
				)
				if len(mine) == 0 || rnd.IntN(3) == 0 {
					res, err = r.service.Handle(ctx, payment.InitiatePayment{CustomerName: "C", CustomerEmail: "c@example.com",
						Amount: "100.00", Currency: "EUR"}, opts(who))
					if err == nil {
						mine = append(mine, res.ID)
						known.Store(res.ID, who.Organization)
					}
				} else {
					id := mine[rnd.IntN(len(mine))].String()
					switch rnd.IntN(3) {
					case 0:
						res, err = r.service.Handle(ctx, payment.ProcessPayment{ID: id}, opts(who))
					case 1:
						res, err = r.service.Handle(ctx, payment.FailPayment{ID: id, Reason: "x"}, opts(who))
					default:
						res, err = r.service.Handle(ctx, payment.RefundPayment{ID: id, Reason: "x", Amount: "10.00"}, opts(who))
					}
					if err != nil {
						continue // an illegal transition: nothing changed
					}
				}
				if err != nil {
					t.Errorf("%s step %d: %v", who.Organization, step, err)
					return
				}
				if !res.UpToDate || res.View == nil {
					t.Errorf("%s step %d: not up to date", who.Organization, step)
					return
				}
				got, err := r.reads.Get(ctx, who.Organization, res.ID)
				if err != nil || got.Version != res.Version || !reflect.DeepEqual(got, *res.View) {
					t.Errorf("%s step %d: cached payment v%d %s (%v), want v%d %s", who.Organization, step, got.Version, got.Status, err, res.Version, res.View.Status)
					return
				}
				req := window(who.Organization)
				cached, err1 := r.reads.Analytics(ctx, req)
				fresh, err2 := uncached.Analytics(ctx, req)
				if err1 != nil || err2 != nil || !reflect.DeepEqual(cached, fresh) {
					t.Errorf("%s step %d: cached analytics %+v (%v), database %+v (%v)", who.Organization, step, cached.Totals, err1, fresh.Totals, err2)
					return
				}
			}
		})
	}
	wg.Wait()
	stop.Store(true)
	readsWG.Wait()
	if reads.Load() == 0 {
		t.Fatal("the readers read nothing")
	}
	r.counter.mu.Lock()
	defer r.counter.mu.Unlock()
	if r.counter.hit == 0 {
		t.Fatal("no cache hit: the test did not exercise the cache")
	}
	t.Logf("cache hits %d, misses %d, reader reads %d", r.counter.hit, r.counter.miss, reads.Load())
}

// TestNoCache: without Redis the read model reads the database.
func TestNoCache(t *testing.T) {
	r := newRig(t, false, nil)
	ctx := testCtx(t)
	who := caller.Caller{Actor: "a", Organization: "acme"}
	res, err := r.service.Handle(ctx, payment.InitiatePayment{CustomerName: "C", CustomerEmail: "c@example.com", Amount: "1.00", Currency: "EUR"}, opts(who))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.service.Handle(ctx, payment.ProcessPayment{ID: res.ID.String()}, opts(who)); err != nil {
		t.Fatal(err)
	}
	got, err := r.reads.Get(ctx, who.Organization, res.ID)
	if err != nil || got.Status != payment.StatusProcessed {
		t.Fatalf("payment: %+v, %v", got, err)
	}
	if _, err := r.reads.Get(ctx, "globex", res.ID); err == nil {
		t.Fatal("another organization read the payment")
	}
}
