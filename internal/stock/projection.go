package stock

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

// ProjectionName names the projection that keeps the stock table.
const ProjectionName = "stock"

// Projection keeps the stock read model: one row per product's stock
// stream, with on hand and reserved units. Its keys are the stock streams'
// ids (StreamID). It implements projection.Projection and Rebuildable; a
// rebuild replays through Apply (one row per product: no bulk path needed).
type Projection struct{}

// Name implements projection.Projection.
func (Projection) Name() string { return ProjectionName }

// StreamTypes implements projection.Selective.
func (Projection) StreamTypes() []string { return []string{Type.StreamType} }

// Tables implements projection.Rebuildable.
func (Projection) Tables() []string { return []string{"stock"} }

// Apply implements projection.Projection: it loads the rows of the stock
// streams the batch touches (locked), folds the batch into them and writes
// them back in one round trip.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) ([]string, error) {
	mine, lookups := projection.StreamEvents(events, Type.StreamType, "")
	if len(mine) == 0 {
		return nil, nil
	}
	rows, err := projection.LoadRows(ctx, tx, "stock", `SELECT `+viewColumns+` FROM stock WHERE id = ANY($1) FOR UPDATE`,
		lookups, scanView, func(v *View) uuid.UUID { return v.ID })
	if err != nil {
		return nil, err
	}
	for _, re := range mine {
		e, err := Type.Decode(re.Type, re.SchemaVersion, re.Data)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", re.Position, err)
		}
		v := rows[re.StreamID]
		if v == nil {
			v = &View{ID: re.StreamID}
			rows[re.StreamID] = v
		}
		v.apply(re, e)
	}
	var batch pgx.Batch
	keys := make([]string, 0, len(rows))
	for _, id := range slices.SortedFunc(maps.Keys(rows), func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }) {
		v := rows[id]
		batch.Queue(`INSERT INTO stock (`+viewColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (id) DO UPDATE SET on_hand = EXCLUDED.on_hand, reserved = EXCLUDED.reserved,
				version = EXCLUDED.version, updated_at = EXCLUDED.updated_at`,
			v.ID, v.Organization, v.ProductID, v.OnHand, v.Reserved, v.Version, v.UpdatedAt)
		keys = append(keys, id.String())
	}
	if err := projection.SendBatch(ctx, tx, &batch); err != nil {
		return nil, fmt.Errorf("project stock: %w", err)
	}
	return keys, nil
}

// apply folds one stock event into the row, as Evolve folds it into the
// aggregate.
func (v *View) apply(re eventstore.RecordedEvent, e any) {
	v.Version, v.UpdatedAt = re.Version, re.RecordedAt.UTC()
	switch e := e.(type) {
	case StockRestocked:
		v.setProduct(e.Organization, e.ProductID)
		v.OnHand += e.Quantity
	case StockReserved:
		v.setProduct(e.Organization, e.ProductID)
		v.Reserved += e.Quantity
	case ReservationCommitted:
		v.OnHand -= e.Quantity
		v.Reserved -= e.Quantity
	case ReservationReleased:
		v.Reserved -= e.Quantity
	}
}

func (v *View) setProduct(organization, productID string) {
	v.Organization = organization
	if id, err := uuid.Parse(productID); err == nil {
		v.ProductID = id
	}
}
