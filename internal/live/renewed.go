package live

import (
	"context"
	"time"
)

// Renewed returns a feed that runs first until the time until gives (asked
// again for each feed), then the feed next opens, and so on, until ctx
// ends, emit returns false, or a read or an open fails (that error is
// returned). It serves reads whose arguments move with the clock, such as
// an analytics window relative to now: each new feed reads at once, so the
// moved window is emitted when it moves, and nothing that changed between
// two feeds is missed.
func Renewed[T any](first Feed[T], until func() time.Time, next func(ctx context.Context) (Feed[T], error)) Feed[T] {
	return NewFeed(first.sub, func(ctx context.Context, emit func(T) bool) error {
		current := first
		for {
			stopped := false
			windowCtx, cancel := context.WithDeadline(ctx, until())
			err := current.Run(windowCtx, func(v T) bool {
				if !emit(v) {
					stopped = true
					return false
				}
				return true
			})
			cancel()
			if err != nil || stopped || ctx.Err() != nil {
				return err
			}
			if current, err = next(ctx); err != nil {
				return err
			}
		}
	})
}
