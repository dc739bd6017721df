package live_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/live"
)

// TestRenewedMovesOn: each feed runs until its deadline, then the next one
// opens and emits at once (the moved window), until emit says stop; every
// feed's subscription is closed.
func TestRenewedMovesOn(t *testing.T) {
	hub := live.NewHub()
	var opened atomic.Int32
	open := func(ctx context.Context) (live.Feed[int], error) {
		n := int(opened.Add(1))
		return live.Watch(ctx, hub, "p", []string{"k"}, nil, func(ctx context.Context, sub *live.Subscription, emit func(int) bool) error {
			return live.Follow(ctx, sub, func(context.Context) error {
				if !emit(n) {
					return live.ErrStopFollowing
				}
				return nil
			})
		})
	}
	first, err := open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Each window lasts 20 ms: the test needs the clock to move, not to be fast.
	feed := live.Renewed(first, func() time.Time { return time.Now().Add(20 * time.Millisecond) }, open)
	var got []int
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := feed.Run(ctx, func(n int) bool {
		got = append(got, n)
		return len(got) < 3
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Fatalf("emitted %v, want one value from each of feeds 1, 2, 3", got)
	}
	if n := hub.Len(); n != 0 {
		t.Errorf("%d subscriptions left open", n)
	}
}

// TestRenewedStopsOnOpenError: a failed open ends the feed with its error.
func TestRenewedStopsOnOpenError(t *testing.T) {
	hub := live.NewHub()
	boom := errors.New("boom")
	first, _ := live.Watch(context.Background(), hub, "p", nil, nil, func(ctx context.Context, sub *live.Subscription, emit func(int) bool) error {
		<-ctx.Done()
		return nil
	})
	feed := live.Renewed(first, func() time.Time { return time.Now().Add(10 * time.Millisecond) },
		func(context.Context) (live.Feed[int], error) { return live.Feed[int]{}, boom })
	if err := feed.Run(context.Background(), func(int) bool { return true }); !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want the open error", err)
	}
	if n := hub.Len(); n != 0 {
		t.Errorf("%d subscriptions left open", n)
	}
}
