package live_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/projection"
)

// rang reports whether sub has a pending ring, and takes it.
func rang(sub *live.Subscription) bool {
	select {
	case <-sub.C:
		return true
	default:
		return false
	}
}

// waitRing waits up to d for a ring of sub.
func waitRing(sub *live.Subscription, d time.Duration) bool {
	select {
	case <-sub.C:
		return true
	case <-time.After(d):
		return false
	}
}

func update(proj string, tx uint64, keys ...string) projection.Update {
	return projection.Update{Projection: proj, Checkpoint: eventstore.Checkpoint{TransactionID: tx, Position: 1}, Keys: keys}
}

func TestHubKeyedSubscription(t *testing.T) {
	h := live.NewHub()
	sub := h.Subscribe("accounts", "a", "b")
	defer sub.Close()

	if rang(sub) {
		t.Fatal("ring before any update")
	}
	h.Deliver(update("accounts", 1, "c", "d"))
	if rang(sub) {
		t.Error("ring for an update of other keys")
	}
	h.Deliver(update("operations", 2, "a", "b"))
	if rang(sub) {
		t.Error("ring for an update of the same keys of another projection")
	}
	h.Deliver(update("accounts", 3))
	if rang(sub) {
		t.Error("keyed subscription rang for an update naming no key")
	}
	h.Deliver(update("accounts", 4, "x", "b"))
	if !rang(sub) {
		t.Error("no ring for an update naming one of its keys")
	}
	h.Deliver(update("accounts", 5, "a"))
	if !rang(sub) {
		t.Error("no ring for an update naming its other key")
	}
	if rang(sub) {
		t.Error("second ring for a single update")
	}
}

func TestHubProjectionWideSubscription(t *testing.T) {
	h := live.NewHub()
	all := h.Subscribe("accounts")
	defer all.Close()
	keyed := h.Subscribe("accounts", "k")
	defer keyed.Close()

	for i, u := range []projection.Update{
		update("accounts", 1),
		update("accounts", 2, "x"),
		update("accounts", 3, "k", "y"),
	} {
		h.Deliver(u)
		if !rang(all) {
			t.Errorf("update %d (%v): projection-wide subscription did not ring", i, u.Keys)
		}
	}
	if !rang(keyed) {
		t.Error("keyed subscription did not ring for its key")
	}
	h.Deliver(update("operations", 4, "k"))
	if rang(all) {
		t.Error("projection-wide subscription rang for another projection")
	}
	if rang(keyed) {
		t.Error("keyed subscription rang for another projection")
	}
}

func TestHubRingsCoalesce(t *testing.T) {
	h := live.NewHub()
	sub := h.Subscribe("accounts", "a")
	defer sub.Close()
	for i := range 100 {
		h.Deliver(update("accounts", uint64(i+1), "a"))
	}
	if n := len(sub.C); n != 1 {
		t.Fatalf("pending rings after 100 updates = %d, want 1", n)
	}
	if !rang(sub) {
		t.Fatal("no pending ring")
	}
	if rang(sub) {
		t.Fatal("a second pending ring")
	}
	// The doorbell works again after being read.
	h.Deliver(update("accounts", 101, "a"))
	if !rang(sub) {
		t.Fatal("no ring after the pending one was taken")
	}
}

func TestHubDeliverNeverBlocks(t *testing.T) {
	t.Parallel()
	h := live.NewHub()
	const n = 10_000
	subs := make([]*live.Subscription, 0, n)
	for i := range n {
		if i%2 == 0 {
			subs = append(subs, h.Subscribe("accounts", "hot", fmt.Sprintf("k%d", i)))
		} else {
			subs = append(subs, h.Subscribe("accounts"))
		}
	}
	if got := h.Len(); got != n {
		t.Fatalf("Len = %d, want %d", got, n)
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 100 {
			h.Deliver(update("accounts", uint64(i+1), "hot"))
		}
		h.RingAll()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Deliver blocked on subscriptions nobody reads")
	}
	for i, s := range subs {
		if n := len(s.C); n != 1 {
			t.Fatalf("subscription %d: %d pending rings, want 1", i, n)
		}
	}
	for _, s := range subs {
		s.Close()
	}
	if got := h.Len(); got != 0 {
		t.Fatalf("Len after closing all = %d, want 0", got)
	}
}

func TestHubClose(t *testing.T) {
	h := live.NewHub()
	a1 := h.Subscribe("accounts", "a")
	a2 := h.Subscribe("accounts", "a")
	all := h.Subscribe("accounts")
	if got := h.Len(); got != 3 {
		t.Fatalf("Len = %d, want 3", got)
	}

	a1.Close()
	a1.Close() // safe twice
	if got := h.Len(); got != 2 {
		t.Fatalf("Len after closing one (twice) = %d, want 2", got)
	}
	h.Deliver(update("accounts", 1, "a"))
	if rang(a1) {
		t.Error("closed subscription rang")
	}
	if !rang(a2) {
		t.Error("closing a1 also silenced a2 on the same key")
	}
	if !rang(all) {
		t.Error("projection-wide subscription did not ring")
	}

	all.Close()
	a2.Close()
	all.Close()
	if got := h.Len(); got != 0 {
		t.Fatalf("Len after closing all = %d, want 0", got)
	}
	h.Deliver(update("accounts", 2, "a"))
	h.RingAll()
	for i, s := range []*live.Subscription{a1, a2, all} {
		if rang(s) {
			t.Errorf("subscription %d rang after Close", i)
		}
	}

	// A fresh subscription to the same key still works after the
	// topic emptied.
	again := h.Subscribe("accounts", "a")
	defer again.Close()
	h.Deliver(update("accounts", 3, "a"))
	if !rang(again) {
		t.Error("new subscription after close of all did not ring")
	}
}

func TestHubRingAll(t *testing.T) {
	h := live.NewHub()
	subs := []*live.Subscription{
		h.Subscribe("accounts", "a"),
		h.Subscribe("accounts", "b", "c"),
		h.Subscribe("accounts"),
		h.Subscribe("operations", "a"),
		h.Subscribe("operations"),
	}
	h.RingAll()
	for i, s := range subs {
		if !rang(s) {
			t.Errorf("subscription %d did not ring on RingAll", i)
		}
		if rang(s) {
			t.Errorf("subscription %d rang twice on one RingAll", i)
		}
	}
	for _, s := range subs {
		s.Close()
	}
}

// TestHubConcurrent subscribes and closes from many goroutines while
// others deliver; run it with -race.
func TestHubConcurrent(t *testing.T) {
	t.Parallel()
	h := live.NewHub()
	stop := make(chan struct{})
	var deliverers sync.WaitGroup
	for d := range 4 {
		deliverers.Go(func() {
			for i := uint64(0); ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if d == 0 && i%10 == 0 {
					h.RingAll()
				}
				h.Deliver(update("accounts", i, fmt.Sprintf("k%d", i%8), "k0"))
				_ = h.Len()
			}
		})
	}

	var subscribers sync.WaitGroup
	var failures sync.Map
	for g := range 16 {
		subscribers.Go(func() {
			for i := range 300 {
				var s *live.Subscription
				if i%3 == 0 {
					s = h.Subscribe("accounts")
				} else {
					s = h.Subscribe("accounts", fmt.Sprintf("k%d", (g+i)%8), "k0")
				}
				if i%5 == 0 {
					// Every delivery names k0, and projection-wide
					// subscriptions see all: a ring must come.
					if !waitRing(s, 5*time.Second) {
						failures.Store(g, "no ring while updates flow")
					}
				}
				s.Close()
				if i%2 == 0 {
					s.Close()
				}
			}
		})
	}
	subscribers.Wait()
	close(stop)
	deliverers.Wait()

	failures.Range(func(k, v any) bool {
		t.Errorf("goroutine %v: %v", k, v)
		return true
	})
	if got := h.Len(); got != 0 {
		t.Fatalf("Len after all closed = %d, want 0", got)
	}
	h.Deliver(update("accounts", 1, "k0"))
	h.RingAll()
}
