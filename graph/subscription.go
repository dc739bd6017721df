package graph

import (
	"context"

	"github.com/chronicle-es/chronicle/graph/model"
	"github.com/chronicle-es/chronicle/internal/account"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/chronicle-es/chronicle/internal/live"
)

// followAccount serves the accountUpdated subscription.
func (r *Resolver) followAccount(ctx context.Context, rawID string, afterVersion *int) (<-chan *model.Account, error) {
	org, err := organization(ctx)
	if err != nil {
		return nil, err
	}
	id, err := accountID(rawID)
	if err != nil {
		return nil, err
	}
	var after int64
	if afterVersion != nil {
		if *afterVersion < 0 {
			return nil, apperr.New(apperr.BadUserInput, "afterVersion must not be negative")
		}
		after = int64(*afterVersion)
	}
	if _, err := r.AccountReads.Get(ctx, org, id); err != nil {
		return nil, err
	}
	sub := r.Hub.Subscribe(account.ProjectionName, id.String())
	return stream(ctx, r, sub, "accountUpdated", func(emit func(*model.Account) bool) error {
		return r.AccountReads.FollowAccount(ctx, sub, org, id, after, func(v account.View) bool {
			return emit(accountOf(v))
		})
	}), nil
}

// followOperations serves the accountOperations subscription.
func (r *Resolver) followOperations(ctx context.Context, rawID string, after *string) (<-chan *model.OperationEdge, error) {
	org, err := organization(ctx)
	if err != nil {
		return nil, err
	}
	id, err := accountID(rawID)
	if err != nil {
		return nil, err
	}
	acc, err := r.AccountReads.Get(ctx, org, id)
	if err != nil {
		return nil, err
	}
	afterVersion, err := account.ParseOperationsCursor(deref(after))
	if err != nil {
		return nil, err
	}
	sub := r.Hub.Subscribe(account.ProjectionName, id.String())
	return stream(ctx, r, sub, "accountOperations", func(emit func(*model.OperationEdge) bool) error {
		return r.AccountReads.FollowOperations(ctx, sub, id, afterVersion, func(op account.Operation, cursor string) bool {
			return emit(&model.OperationEdge{Cursor: cursor, Node: operationOf(op, acc.Currency)})
		})
	}), nil
}

// stream runs follow in a goroutine of its own, which hands what follow
// emits to the returned channel: the subscription's bounded buffer (one
// value, besides the one gqlgen is writing out), so a slow client holds up
// only its own goroutine, and the doorbell coalesces the changes meanwhile.
// follow must return once emit returns false, which it does when ctx ends.
// Then sub is closed and so is the channel, which completes the
// subscription. follow retries failing reads itself (live.Follow); an error
// it returns ends the subscription with one last result, an UNAVAILABLE
// error that tells the client to subscribe again (see subscriptionEnd),
// and is logged.
func stream[T any](ctx context.Context, r *Resolver, sub *live.Subscription, field string, follow func(emit func(T) bool) error) <-chan T {
	out := make(chan T, 1)
	r.streams.Go(func() {
		defer close(out)
		defer sub.Close()
		err := follow(func(v T) bool {
			select {
			case out <- v:
				return true
			case <-ctx.Done():
				return false
			}
		})
		if err != nil && ctx.Err() == nil {
			r.logger().ErrorContext(ctx, "subscription ended by a read error", "field", field, "err", err,
				"correlation_id", caller.From(ctx).CorrelationID)
			endWithError(ctx, field, "the subscription's reads kept failing; subscribe again later from the last position received")
		}
	})
	return out
}
