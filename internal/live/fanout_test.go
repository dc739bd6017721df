package live_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/projection"
)

func TestMemoryBroker(t *testing.T) {
	b := live.NewMemoryBroker()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Published before Run: buffered, not lost.
	early := update("accounts", 1, "a")
	if err := b.Publish(ctx, early); err != nil {
		t.Fatalf("Publish: %v", err)
	}

	delivered := make(chan projection.Update, 10)
	resyncs := make(chan struct{}, 10)
	done := make(chan error, 1)
	go func() {
		done <- b.Run(ctx, func(u projection.Update) { delivered <- u }, func() { resyncs <- struct{}{} })
	}()
	select {
	case <-resyncs:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not resync at start")
	}
	expectUpdate(t, delivered, early)
	late := update("operations", 2, "x", "y")
	if err := b.Publish(ctx, late); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	expectUpdate(t, delivered, late)

	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after ctx was cancelled")
	}
	if len(resyncs) != 0 {
		t.Errorf("%d extra resyncs", len(resyncs))
	}
}

func expectUpdate(t *testing.T, ch <-chan projection.Update, want projection.Update) {
	t.Helper()
	select {
	case got := <-ch:
		if got.Projection != want.Projection || got.Checkpoint != want.Checkpoint || !slices.Equal(got.Keys, want.Keys) {
			t.Fatalf("delivered %+v, want %+v", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("update %+v not delivered within 5s", want)
	}
}

// runFanout runs f until the returned stop is called; stop checks that Run
// returned ctx's error promptly.
func runFanout(t *testing.T, f *live.Fanout) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Fanout.Run returned %v, want context.Canceled", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("Fanout.Run did not return after ctx was cancelled")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestFanoutDeliversOfferedUpdates(t *testing.T) {
	f := live.NewFanout(live.NewMemoryBroker(), discardLogger())
	a := f.Hub.Subscribe("accounts", "a")
	defer a.Close()
	b := f.Hub.Subscribe("accounts", "b")
	defer b.Close()
	runFanout(t, f)

	// The broker resyncs at start: every doorbell rings once.
	for name, s := range map[string]*live.Subscription{"a": a, "b": b} {
		if !waitRing(s, 5*time.Second) {
			t.Fatalf("subscription %s: no ring on the initial resync", name)
		}
	}

	f.Offer(update("accounts", 1, "a"))
	if !waitRing(a, 5*time.Second) {
		t.Fatal("offered update did not reach the subscription to its key")
	}
	if rang(b) {
		t.Error("offered update rang a subscription to another key")
	}

	// Subscriptions made while running work too.
	c := f.Hub.Subscribe("operations")
	defer c.Close()
	f.Offer(update("operations", 2, "whatever"))
	if !waitRing(c, 5*time.Second) {
		t.Fatal("offered update did not reach a projection-wide subscription")
	}
}

func TestFollow(t *testing.T) {
	t.Parallel()
	h := live.NewHub()
	sub := h.Subscribe("accounts", "a")
	defer sub.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reads := make(chan int, 100)
	n := 0
	done := make(chan error, 1)
	go func() {
		done <- live.Follow(ctx, sub, func(context.Context) error {
			n++
			reads <- n
			return nil
		})
	}()
	expectRead := func(want int) {
		t.Helper()
		select {
		case got := <-reads:
			if got != want {
				t.Fatalf("read #%d, want #%d", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("read #%d did not happen", want)
		}
	}
	noRead := func() {
		t.Helper()
		select {
		case got := <-reads:
			t.Fatalf("unexpected read #%d", got)
		case <-time.After(50 * time.Millisecond):
		}
	}

	expectRead(1) // at start, before any ring
	noRead()
	h.Deliver(update("accounts", 1, "b"))
	noRead()
	h.Deliver(update("accounts", 2, "a"))
	expectRead(2)
	noRead()
	h.RingAll()
	expectRead(3)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Follow returned %v after ctx ended, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Follow did not return after ctx ended")
	}
}

// TestFollowRetriesReadErrors: a read that fails is retried with backoff,
// without waiting for a ring, and the loop goes on once it succeeds; reads
// that keep failing for Retry.For end it with ErrUnavailable wrapping the
// read's error.
func TestFollowRetriesReadErrors(t *testing.T) {
	h := live.NewHub()
	h.SetRetry(live.Retry{For: 300 * time.Millisecond, First: 10 * time.Millisecond, Max: 50 * time.Millisecond})
	sub := h.Subscribe("accounts")
	defer sub.Close()
	boom := errors.New("boom")
	var calls atomic.Int32
	recovered := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- live.Follow(context.Background(), sub, func(context.Context) error {
			switch n := calls.Add(1); {
			case n == 2 || n == 3: // transient: retried without a ring
				return boom
			case n == 4:
				close(recovered)
			case n >= 5: // persistent
				return boom
			}
			return nil
		})
	}()
	h.Deliver(update("accounts", 1))
	select {
	case <-recovered:
	case <-time.After(5 * time.Second):
		t.Fatalf("a failed read was not retried (%d calls)", calls.Load())
	}
	select {
	case err := <-done:
		t.Fatalf("Follow returned %v after a transient error", err)
	default:
	}
	h.Deliver(update("accounts", 2))
	select {
	case err := <-done:
		if !errors.Is(err, boom) || !errors.Is(err, live.ErrUnavailable) {
			t.Fatalf("Follow returned %v, want ErrUnavailable wrapping the read's error", err)
		}
		if calls.Load() < 6 {
			t.Errorf("read called %d times, want retries before giving up", calls.Load())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Follow did not return once the reads kept failing")
	}

	// A read failing because ctx ended is a normal stop.
	ctx, cancel := context.WithCancel(context.Background())
	err := live.Follow(ctx, sub, func(ctx context.Context) error {
		cancel()
		return ctx.Err()
	})
	if err != nil {
		t.Errorf("Follow returned %v when read failed on an ended ctx, want nil", err)
	}
}

// waitGoroutines polls until at most want goroutines run.
func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, want at most %d (leak); stacks:\n%s", n, want, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFanoutGoroutineHygiene(t *testing.T) {
	before := runtime.NumGoroutine()

	f := live.NewFanout(live.NewMemoryBroker(), discardLogger())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	var followers sync.WaitGroup
	for i := range 20 {
		sub := f.Hub.Subscribe("accounts", "a")
		followers.Go(func() {
			defer sub.Close()
			_ = live.Follow(ctx, sub, func(context.Context) error { return nil })
		})
		f.Offer(update("accounts", uint64(i+1), "a"))
	}
	if runtime.NumGoroutine() <= before {
		t.Fatal("no goroutines started: the check below would prove nothing")
	}

	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Fanout.Run returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Fanout.Run did not return after ctx was cancelled")
	}
	followers.Wait()
	if got := f.Hub.Len(); got != 0 {
		t.Errorf("Hub.Len = %d after every follower closed, want 0", got)
	}
	waitGoroutines(t, before)
}
