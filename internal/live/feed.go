package live

import (
	"context"
	"strconv"

	"github.com/google/uuid"
)

// Feed is the source of one subscription's values, made by a read model: it
// holds the hub Subscription the read model took before its first read (so
// no change in between is missed) and the read model's follow loop. The
// read model decides the projection, the keys and the tenant; whoever serves
// the subscription (a GraphQL resolver) only runs it.
type Feed[T any] struct {
	sub    *Subscription
	follow func(ctx context.Context, emit func(T) bool) error
}

// NewFeed returns a Feed that runs follow on sub. follow must return once
// emit returns false, and when ctx ends.
func NewFeed[T any](sub *Subscription, follow func(ctx context.Context, emit func(T) bool) error) Feed[T] {
	return Feed[T]{sub: sub, follow: follow}
}

// Run calls emit with each value until ctx ends, emit returns false, or a
// read fails (its error is returned), then closes the subscription.
func (f Feed[T]) Run(ctx context.Context, emit func(T) bool) error {
	defer f.sub.Close()
	return f.follow(ctx, emit)
}

// Watch subscribes to (projection, keys) on hub, then calls check (e.g.
// "the entity exists in the caller's organization"); when check fails the
// subscription is closed and its error returned, else follow becomes the
// Feed's loop on the subscription.
func Watch[T any](ctx context.Context, hub *Hub, projection string, keys []string, check func(context.Context) error,
	follow func(ctx context.Context, sub *Subscription, emit func(T) bool) error) (Feed[T], error) {
	sub := hub.Subscribe(projection, keys...)
	if check != nil {
		if err := check(ctx); err != nil {
			sub.Close()
			return Feed[T]{}, err
		}
	}
	return NewFeed(sub, func(ctx context.Context, emit func(T) bool) error { return follow(ctx, sub, emit) }), nil
}

// EntityFeed is the feed of one versioned entity (an aggregate's projected
// row) of organization: the row each time its version passes afterVersion
// (at once if it already has). kind names the entity in the shared reads'
// keys ("account"); the organization is part of them, so a subscriber never
// joins a read made for another tenant. The subscription is to (projection,
// id), taken before get's first call checks that the entity exists.
// Errors: get's (notFound when it is not projected for organization yet).
func EntityFeed[T any](ctx context.Context, hub *Hub, projection, kind, organization string, id uuid.UUID, afterVersion int64,
	get func(context.Context) (T, error), version func(T) int64, notFound error) (Feed[T], error) {
	key := kind + ":" + strconv.Quote(organization) + ":" + id.String()
	check := func(ctx context.Context) error {
		_, err := get(ctx)
		return err
	}
	return Watch(ctx, hub, projection, []string{id.String()}, check,
		func(ctx context.Context, sub *Subscription, emit func(T) bool) error {
			return FollowVersions(ctx, sub, key, afterVersion, get, version, notFound, emit)
		})
}
