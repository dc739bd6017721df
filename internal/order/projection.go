package order

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/datasubject"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/money"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ProjectionName names the projection that keeps the orders table.
const ProjectionName = "orders"

// Projection keeps the orders read model, one row per order, and
// order_history, the row as each version left it; its keys are the order
// ids. A batch is folded in memory by View.apply (the fold time travel
// uses too): the rows it touches are read once (locked), the events
// applied in order, each version copied into order_history, and the rows
// written back, all in one round trip. It implements projection.Projection
// and Rebuildable (a rebuild replays through Apply).
type Projection struct{}

// Name implements projection.Projection.
func (Projection) Name() string { return ProjectionName }

// StreamTypes implements projection.Selective: orders, and the erasures
// that scrub them.
func (Projection) StreamTypes() []string { return []string{Type.StreamType, datasubject.StreamType} }

// ReadsPersonalData implements projection.PersonalReader: orders show the
// customer's name and e-mail, opened from their sealed form.
func (Projection) ReadsPersonalData() {}

// personalColumns are the orders columns an erasure scrubs.
var personalColumns = []string{"customer_name", "customer_email"}

// Tables implements projection.Rebuildable.
func (Projection) Tables() []string { return []string{"orders", "order_history"} }

// Apply implements projection.Projection.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) ([]string, error) {
	mine, lookups := projection.StreamEvents(events, Type.StreamType, EventOrderPlaced)
	erased := projection.Erasures(events, Type.StreamType)
	if len(mine) == 0 && len(erased) == 0 {
		return nil, nil
	}
	rows, err := projection.LoadRows(ctx, tx, "orders", `SELECT `+viewColumns+` FROM orders WHERE id = ANY($1) FOR UPDATE`,
		lookups, scanView, func(v *View) uuid.UUID { return v.ID })
	if err != nil {
		return nil, err
	}
	var batch pgx.Batch
	for _, re := range mine {
		e, err := Type.Decode(re.Type, re.SchemaVersion, re.Data)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", re.Position, err)
		}
		v := rows[re.StreamID]
		if v == nil {
			if _, ok := e.(OrderPlaced); !ok {
				return nil, fmt.Errorf("event %d: %s of order %s, which is not projected", re.Position, re.Type, re.StreamID)
			}
			v = &View{}
			rows[re.StreamID] = v
		}
		v.apply(re, e)
		// The order as this event left it, for orderUpdated.
		batch.Queue(`INSERT INTO order_history (order_id, version, status, reason, payment_id, at)
			VALUES ($1, $2, $3, NULLIF($4, ''), NULLIF($5, '')::uuid, $6)`,
			v.ID, v.Version, string(v.Status), string(v.Reason), v.PaymentID, v.UpdatedAt)
	}
	keys := make([]string, 0, len(rows))
	for _, id := range slices.SortedFunc(maps.Keys(rows), func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }) {
		v := rows[id]
		lines, err := json.Marshal(v.Lines)
		if err != nil {
			return nil, fmt.Errorf("order %s: %w", id, err)
		}
		batch.Queue(`INSERT INTO orders (id, organization, customer_name, customer_email, lines, currency, total, status,
				reason, payment_id, version, placed_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULLIF($9, ''), NULLIF($10, '')::uuid, $11, $12, $13)
			ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason,
				payment_id = EXCLUDED.payment_id, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at`,
			v.ID, v.Organization, v.CustomerName, v.CustomerEmail, lines, v.Currency.Code, v.Total, string(v.Status),
			string(v.Reason), v.PaymentID, v.Version, v.PlacedAt, v.UpdatedAt)
		keys = append(keys, id.String())
	}
	if err := projection.SendBatch(ctx, tx, &batch); err != nil {
		return nil, fmt.Errorf("project orders: %w", err)
	}
	scrubbed, err := projection.Scrub(ctx, tx, "orders", personalColumns, erased)
	if err != nil {
		return nil, err
	}
	for _, s := range scrubbed {
		if _, folded := rows[s.ID]; !folded {
			keys = append(keys, s.ID.String())
		}
	}
	return keys, nil
}

// apply folds one order event into the row: OrderPlaced sets the facts
// of the order, and its lifecycle (status, reason, payment) is the
// aggregate's, folded by Evolve; the row's Version and UpdatedAt become the
// event's.
func (v *View) apply(re eventstore.RecordedEvent, e any) {
	at := re.RecordedAt.UTC()
	if p, ok := e.(OrderPlaced); ok {
		*v = View{ID: re.StreamID, Organization: p.Organization, CustomerName: p.CustomerName, CustomerEmail: p.CustomerEmail,
			Lines: p.Lines, Currency: money.StoredCurrency(p.Currency), Total: p.Total, PlacedAt: at}
	}
	if ev, ok := e.(aggregate.Event); ok {
		o := Evolve(Order{Status: v.Status, Reason: v.Reason, PaymentID: v.PaymentID}, ev)
		v.Status, v.Reason, v.PaymentID = o.Status, o.Reason, o.PaymentID
	}
	v.Version, v.UpdatedAt = re.Version, at
}
