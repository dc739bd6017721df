package catalog

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/chronicle-es/chronicle/internal/database"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ProductFeed is the live feed of organization's product id: the projected
// product at once, then each time its version grows. Errors:
// ErrProductNotFound when it is not in the read model of organization
// (yet); read errors.
func (m *ReadModel) ProductFeed(ctx context.Context, organization string, id uuid.UUID) (live.Feed[View], error) {
	return live.EntityFeed(ctx, m.hub, ProjectionName, "product", organization, id, 0,
		func(ctx context.Context) (View, error) { return m.Get(ctx, organization, id) },
		func(v View) int64 { return v.Version }, ErrProductNotFound)
}

// addedBatch bounds one read of new products; a follow reads again until
// it has them all.
const addedBatch = 100

// AddedFeed is the live feed of the products organization adds from now on
// (of category only, unless it is ""), each once, in the order they were
// projected, as soon as the catalog projection has committed them: the
// book list that updates itself. It subscribes before it reads where "now"
// is, so no product projected after the subscription is missed. Errors:
// ErrInvalidInput for a malformed category; read errors.
func (m *ReadModel) AddedFeed(ctx context.Context, organization, category string) (live.Feed[View], error) {
	if category != "" {
		var err error
		if category, err = NormalizeCategory(category); err != nil {
			return live.Feed[View]{}, err
		}
	}
	var last eventstore.Checkpoint
	start := func(ctx context.Context) error {
		var tx int64
		err := m.pool.QueryRow(ctx, `SELECT added_tx, added_position FROM products WHERE organization = $1
			ORDER BY added_tx DESC, added_position DESC LIMIT 1`, organization).Scan(&tx, &last.Position)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read the newest product: %w", err)
		}
		last.TransactionID = uint64(tx)
		return nil
	}
	return live.Watch(ctx, m.hub, ProjectionName, []string{AddedKey(organization)}, start,
		func(ctx context.Context, sub *live.Subscription, emit func(View) bool) error {
			return live.Follow(ctx, sub, func(ctx context.Context) error {
				for {
					views, err := m.addedAfter(ctx, organization, category, last)
					if err != nil {
						return err
					}
					for _, v := range views {
						last = eventstore.Checkpoint{TransactionID: v.AddedTx, Position: v.AddedPosition}
						if !emit(v) {
							return live.ErrStopFollowing
						}
					}
					if len(views) < addedBatch {
						return nil
					}
				}
			})
		})
}

// addedAfter reads the products organization added after cp in projection
// order (of category, unless "").
func (m *ReadModel) addedAfter(ctx context.Context, organization, category string, cp eventstore.Checkpoint) ([]View, error) {
	rows, err := m.pool.Query(ctx, `SELECT `+readColumns+` FROM products p`+stockJoin+`
		WHERE p.organization = $1 AND ($2 = '' OR p.category = $2) AND (p.added_tx, p.added_position) > ($3, $4)
		ORDER BY p.added_tx, p.added_position LIMIT `+strconv.Itoa(addedBatch),
		organization, category, int64(cp.TransactionID), cp.Position)
	return database.All(rows, err, scanRead, "read added products")
}
