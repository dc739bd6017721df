package live

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/chronicle-es/chronicle/internal/projection"
)

// Fanout is one instance's whole live-update path: it publishes the local
// projections' updates to the Broker and delivers every instance's updates
// to the local Hub.
type Fanout struct {
	Hub       *Hub
	broker    Broker
	publisher *Publisher
}

// NewFanout returns a Fanout over broker.
func NewFanout(broker Broker, logger *slog.Logger) *Fanout {
	return &Fanout{Hub: NewHub(), broker: broker, publisher: NewPublisher(broker, logger)}
}

// Offer takes a committed projection batch's update; it never blocks (use it
// as projection.Config.OnUpdate).
func (f *Fanout) Offer(u projection.Update) { f.publisher.Offer(u) }

// Run publishes and delivers until ctx ends; it returns ctx's error.
func (f *Fanout) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { _ = f.publisher.Run(ctx) })
	err := f.broker.Run(ctx, f.Hub.Deliver, f.Hub.RingAll)
	wg.Wait()
	return err
}

// ErrStopFollowing, returned by a Follow read, ends the loop without error
// (for example when the subscriber is gone).
var ErrStopFollowing = errors.New("stop following")

// Follow is the loop of one subscriber: it calls read once at start and
// again after every ring of sub, until ctx ends or read returns
// ErrStopFollowing (nil is returned) or read fails (its error is returned).
// Subscribe before calling Follow, so that no change between the first read
// and the subscription is missed.
func Follow(ctx context.Context, sub *Subscription, read func(context.Context) error) error {
	for {
		if err := read(ctx); err != nil {
			if ctx.Err() != nil || errors.Is(err, ErrStopFollowing) {
				return nil
			}
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-sub.C:
		}
	}
}

// FollowVersions follows one versioned read-model row (an aggregate's
// projected state): it calls emit with the row each time its version passes
// the last one emitted (starting after afterVersion; at once if it already
// has), until ctx ends, emit returns false, or a read fails. Reads go
// through Load under key, so subscribers of the same row share them; key
// must name everything the read depends on (the tenant included). A read
// that fails with an error matching notYet (the row is not projected yet)
// is waited for. sub must be subscribed to the row's key before the call.
func FollowVersions[T any](ctx context.Context, sub *Subscription, key string, afterVersion int64,
	load func(context.Context) (T, error), version func(T) int64, notYet error, emit func(T) bool) error {
	last := afterVersion
	return Follow(ctx, sub, func(ctx context.Context) error {
		v, err := Load(ctx, sub, key, load)
		switch {
		case errors.Is(err, notYet):
			return nil
		case err != nil:
			return err
		case version(v) <= last:
			return nil
		}
		last = version(v)
		if !emit(v) {
			return ErrStopFollowing
		}
		return nil
	})
}
