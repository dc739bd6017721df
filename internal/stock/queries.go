package stock

import (
	"context"
	"errors"
	"time"

	"github.com/chronicle-es/chronicle/internal/database"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// View is a product's stock as the stock projection holds it, in units.
// A product that was never restocked nor reserved has the zero counts and
// Version 0.
type View struct {
	// ID is the stock stream's id (StreamID of the organization and product).
	ID           uuid.UUID
	Organization string
	ProductID    uuid.UUID
	OnHand       int64
	Reserved     int64
	Version      int64
	UpdatedAt    time.Time
}

// Available is what can still be reserved: OnHand - Reserved.
func (v View) Available() int64 { return v.OnHand - v.Reserved }

const viewColumns = `id, organization, product_id, on_hand, reserved, version, updated_at`

func scanView(row pgx.Row) (View, error) {
	var v View
	err := row.Scan(&v.ID, &v.Organization, &v.ProductID, &v.OnHand, &v.Reserved, &v.Version, &v.UpdatedAt)
	v.UpdatedAt = v.UpdatedAt.UTC()
	return v, err
}

// ReadModel answers stock queries from the stock projection's table.
type ReadModel struct {
	pool     *pgxpool.Pool
	hub      *live.Hub
	products Products
}

// NewReadModel returns a ReadModel on pool; hub rings its live feeds;
// products checks that a followed product exists.
func NewReadModel(pool *pgxpool.Pool, hub *live.Hub, products Products) *ReadModel {
	return &ReadModel{pool: pool, hub: hub, products: products}
}

// Get returns organization's stock of productID: the zero View of the
// product (Version 0) when it has none projected. It does not check that
// the product exists.
func (m *ReadModel) Get(ctx context.Context, organization string, productID uuid.UUID) (View, error) {
	v, err := m.getByStream(ctx, organization, StreamID(organization, productID))
	if errors.Is(err, ErrStockNotFound) {
		return View{ID: StreamID(organization, productID), Organization: organization, ProductID: productID}, nil
	}
	return v, err
}

// getByStream reads the stock row of stream id of organization. Errors:
// ErrStockNotFound.
func (m *ReadModel) getByStream(ctx context.Context, organization string, id uuid.UUID) (View, error) {
	return database.One(m.pool.QueryRow(ctx, `SELECT `+viewColumns+` FROM stock WHERE id = $1 AND organization = $2`, id, organization),
		scanView, ErrStockNotFound, "stock", id)
}
