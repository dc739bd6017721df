package graph

import (
	"context"

	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/chronicle-es/chronicle/internal/live"
)

// subscribe serves a subscription from a read model's feed: it opens the
// feed for the caller's organization (open's errors, e.g. NOT_FOUND or
// BAD_USER_INPUT, refuse the subscription) and delivers what the feed
// emits, converted.
func subscribe[T, M any](ctx context.Context, r *Resolver, field string,
	open func(ctx context.Context, organization string) (live.Feed[T], error), convert func(T) M) (<-chan M, error) {
	org, err := organization(ctx)
	if err != nil {
		return nil, err
	}
	feed, err := open(ctx, org)
	if err != nil {
		return nil, err
	}
	return deliver(ctx, r, feed, field, convert), nil
}

// deliver runs feed in a goroutine of its own, which hands what it emits,
// converted, to the returned channel: the subscription's bounded buffer (one
// value, besides the one gqlgen is writing out), so a slow client holds up
// only its own goroutine, and the doorbell coalesces the changes meanwhile.
// The feed returns once ctx ends; then the channel is closed, which
// completes the subscription. A read error ends it too, and is logged.
func deliver[T, M any](ctx context.Context, r *Resolver, feed live.Feed[T], field string, convert func(T) M) <-chan M {
	out := make(chan M, 1)
	r.subscriptions.Go(func() {
		defer close(out)
		err := feed.Run(ctx, func(v T) bool {
			select {
			case out <- convert(v):
				return true
			case <-ctx.Done():
				return false
			}
		})
		if err != nil && ctx.Err() == nil {
			r.logger.ErrorContext(ctx, "subscription ended by a read error", "field", field, "err", err,
				"correlation_id", caller.From(ctx).CorrelationID)
		}
	})
	return out
}
