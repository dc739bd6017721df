package stock

import (
	"context"
	"strconv"

	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/google/uuid"
)

// StockFeed is the live feed of organization's stock of productID: the
// current stock at once (the zero counts when the product was never
// restocked), then each time its version grows. Errors: ErrProductNotFound
// when the product is not in organization's catalog; lookup errors.
func (m *ReadModel) StockFeed(ctx context.Context, organization string, productID uuid.UUID) (live.Feed[View], error) {
	stream := StreamID(organization, productID)
	key := "stock:" + strconv.Quote(organization) + ":" + productID.String()
	get := func(ctx context.Context) (View, error) { return m.Get(ctx, organization, productID) }
	return live.Watch(ctx, m.hub, ProjectionName, []string{stream.String()},
		func(ctx context.Context) error {
			return productExists(ctx, m.products, organization, productID.String())
		},
		func(ctx context.Context, sub *live.Subscription, emit func(View) bool) error {
			// After version -1: the current stock, zero or not, comes first.
			return live.FollowVersions(ctx, sub, key, -1, get, func(v View) int64 { return v.Version }, ErrStockNotFound, emit)
		})
}
