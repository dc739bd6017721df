package live_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/projection"
)

func TestLoadSharesOneReadAmongSubscribersOfARing(t *testing.T) {
	hub := live.NewHub()
	const n = 50
	subs := make([]*live.Subscription, n)
	for i := range subs {
		subs[i] = hub.Subscribe("p", "k")
		defer subs[i].Close()
	}
	hub.Deliver(projection.Update{Projection: "p", Keys: []string{"k"}})

	var calls atomic.Int32
	release := make(chan struct{})
	load := func(context.Context) (int, error) {
		calls.Add(1)
		<-release
		return 42, nil
	}
	var wg sync.WaitGroup
	results := make([]int, n)
	for i, s := range subs {
		wg.Go(func() {
			v, err := live.Load(context.Background(), s, "k", load)
			if err != nil {
				t.Error(err)
			}
			results[i] = v
		})
	}
	// Let every subscriber join before the read completes.
	deadline := time.Now().Add(5 * time.Second)
	for calls.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if got := calls.Load(); got != 1 {
		t.Fatalf("load ran %d times for %d subscribers of one ring, want 1", got, n)
	}
	for i, v := range results {
		if v != 42 {
			t.Fatalf("subscriber %d got %d", i, v)
		}
	}
}

func TestLoadNeverJoinsAReadOlderThanTheRing(t *testing.T) {
	hub := live.NewHub()
	early, late := hub.Subscribe("p", "k"), hub.Subscribe("p", "k")
	defer early.Close()
	defer late.Close()

	var calls atomic.Int32
	started, release := make(chan struct{}), make(chan struct{})
	// The first read starts, and blocks, before the change is announced.
	go func() {
		_, _ = live.Load(context.Background(), early, "k", func(context.Context) (string, error) {
			calls.Add(1)
			close(started)
			<-release
			return "before the change", nil
		})
	}()
	<-started
	hub.Deliver(projection.Update{Projection: "p", Keys: []string{"k"}})

	// Rung for the change, late must not take the read that began before it.
	got, err := live.Load(context.Background(), late, "k", func(context.Context) (string, error) {
		calls.Add(1)
		return "after the change", nil
	})
	close(release)
	if err != nil {
		t.Fatal(err)
	}
	if got != "after the change" || calls.Load() != 2 {
		t.Fatalf("late subscriber got %q after %d reads; want a fresh read", got, calls.Load())
	}
}

func TestLoadReturnsWhenTheSubscriberGoesAway(t *testing.T) {
	hub := live.NewHub()
	sub := hub.Subscribe("p", "k")
	defer sub.Close()
	release := make(chan struct{})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := live.Load(ctx, sub, "k", func(context.Context) (int, error) {
		<-release
		return 0, nil
	})
	if err != context.DeadlineExceeded {
		t.Fatalf("err %v, want the subscriber's deadline", err)
	}
}
