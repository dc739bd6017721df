package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

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

// ErrUnavailable wraps the error that ends a Follow loop: its reads kept
// failing for longer than the hub's Retry.For. A client should subscribe
// again later, from the last position it saw.
var ErrUnavailable = errors.New("live: read model unavailable")

// Retry is how a subscriber retries a read that fails (the database is
// restarting, a connection was cut): after First, doubling up to Max, for
// as long as the reads keep failing for less than For. Zero fields take
// DefaultRetry's.
type Retry struct {
	For, First, Max time.Duration
}

// DefaultRetry: 30 s of retries, from 100 ms to 5 s apart.
var DefaultRetry = Retry{For: 30 * time.Second, First: 100 * time.Millisecond, Max: 5 * time.Second}

func (r Retry) withDefaults() Retry {
	if r.For <= 0 {
		r.For = DefaultRetry.For
	}
	if r.First <= 0 {
		r.First = DefaultRetry.First
	}
	if r.Max <= 0 {
		r.Max = DefaultRetry.Max
	}
	return r
}

// Follow is the loop of one subscriber: it calls read once at start and
// again after every ring of sub, until ctx ends or read returns
// ErrStopFollowing (nil is returned). A read that fails is retried with
// backoff (the hub's Retry) and resumes where the last successful one left
// off (read keeps its own position, e.g. the last version emitted); only
// when reads keep failing for Retry.For does Follow return, with an error
// wrapping ErrUnavailable and the last read error. A ring during the
// backoff does not cut it short. Subscribe before calling Follow, so that no
// change between the first read and the subscription is missed.
func Follow(ctx context.Context, sub *Subscription, read func(context.Context) error) error {
	retry := sub.hub.retry.withDefaults()
	var failingSince time.Time
	backoff := retry.First
	for {
		err := read(ctx)
		switch {
		case err == nil:
			failingSince, backoff = time.Time{}, retry.First
		case ctx.Err() != nil || errors.Is(err, ErrStopFollowing):
			return nil
		default:
			if failingSince.IsZero() {
				failingSince = time.Now()
			}
			if time.Since(failingSince) >= retry.For {
				return fmt.Errorf("%w: reads failing for %v: %w", ErrUnavailable, retry.For, err)
			}
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			backoff = min(2*backoff, retry.Max)
			continue
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
// has), until ctx ends, emit returns false, or reads keep failing (see
// Follow). Reads go through Load under key, so subscribers of the same row
// share them; key
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
