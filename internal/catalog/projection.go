package catalog

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ProjectionName names the projection that keeps the products table.
const ProjectionName = "catalog"

// Keys the catalog projection announces for a batch (projection.Update
// Keys):
//
//   - the product's id: its row changed (productUpdated follows it);
//   - AddedKey(org): the organization has new products (productAdded).

// AddedKey is the key announced when organization has new products.
func AddedKey(organization string) string { return "added " + organization }

// Projection keeps the catalog read model, one row per product. A batch is
// folded in memory: the rows it touches are read once (locked), the events
// applied in order, and the rows written back in one round trip. It
// implements projection.Projection and Rebuildable (a rebuild replays
// through Apply).
type Projection struct{}

// Name implements projection.Projection.
func (Projection) Name() string { return ProjectionName }

// StreamTypes implements projection.Selective.
func (Projection) StreamTypes() []string { return []string{Type.StreamType} }

// Tables implements projection.Rebuildable.
func (Projection) Tables() []string { return []string{"products"} }

// Apply implements projection.Projection. It returns the keys described at
// AddedKey.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) ([]string, error) {
	mine, lookups := projection.StreamEvents(events, Type.StreamType, EventProductAdded)
	if len(mine) == 0 {
		return nil, nil
	}
	rows, err := projection.LoadRows(ctx, tx, "products", `SELECT `+viewColumns+` FROM products WHERE id = ANY($1) FOR UPDATE`,
		lookups, scanView, func(v *View) uuid.UUID { return v.ID })
	if err != nil {
		return nil, err
	}
	keys := map[string]struct{}{}
	for _, re := range mine {
		e, err := Type.Decode(re.Type, re.SchemaVersion, re.Data)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", re.Position, err)
		}
		v := rows[re.StreamID]
		if v == nil {
			if _, ok := e.(ProductAdded); !ok {
				return nil, fmt.Errorf("event %d: %s of product %s, which is not projected", re.Position, re.Type, re.StreamID)
			}
			v = &View{}
			rows[re.StreamID] = v
		}
		v.apply(re, e)
		if _, ok := e.(ProductAdded); ok {
			keys[AddedKey(v.Organization)] = struct{}{}
		}
	}
	var batch pgx.Batch
	for _, id := range slices.SortedFunc(maps.Keys(rows), func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }) {
		v := rows[id]
		batch.Queue(`INSERT INTO products (`+viewColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description,
				price = EXCLUDED.price, currency = EXCLUDED.currency, attributes = EXCLUDED.attributes,
				status = EXCLUDED.status, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at`,
			v.ID, v.Organization, v.SKU, v.Title, v.Category, v.Description, v.Price, v.Currency, v.Attributes,
			string(v.Status), v.Version, int64(v.AddedTx), v.AddedPosition, v.AddedAt, v.UpdatedAt)
		keys[id.String()] = struct{}{}
	}
	if err := projection.SendBatch(ctx, tx, &batch); err != nil {
		return nil, fmt.Errorf("project catalog: %w", err)
	}
	return slices.Collect(maps.Keys(keys)), nil
}

// apply folds one product event into the row, as Evolve folds it into the
// aggregate.
func (v *View) apply(re eventstore.RecordedEvent, e any) {
	at := re.RecordedAt.UTC()
	v.Version, v.UpdatedAt = re.Version, at
	switch e := e.(type) {
	case ProductAdded:
		*v = View{
			ID: re.StreamID, Organization: e.Organization, SKU: e.SKU, Title: e.Title, Category: e.Category,
			Description: e.Description, Price: e.Price, Currency: e.Currency, Attributes: e.Attributes,
			Status: StatusActive, Version: re.Version, AddedTx: re.TransactionID, AddedPosition: re.Position,
			AddedAt: at, UpdatedAt: at,
		}
	case ProductUpdated:
		v.Title, v.Description, v.Attributes = e.Title, e.Description, e.Attributes
	case ProductPriceChanged:
		v.Price, v.Currency = e.Price, e.Currency
	case ProductDiscontinued:
		v.Status = StatusDiscontinued
	}
}
