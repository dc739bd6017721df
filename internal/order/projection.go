package order

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/jackc/pgx/v5"
)

// ProjectionName names the projection that keeps the orders table.
const ProjectionName = "orders"

// Projection keeps the orders read model, one row per order; its keys are
// the order ids. It implements projection.Projection and Rebuildable.
type Projection struct{}

// Name implements projection.Projection.
func (Projection) Name() string { return ProjectionName }

// ReadsPersonalData implements projection.PersonalReader: orders show the
// customer's name and e-mail, opened from their sealed form.
func (Projection) ReadsPersonalData() {}

// personalColumns are the orders columns an erasure scrubs.
var personalColumns = []string{"customer_name", "customer_email"}

// Tables implements projection.Rebuildable.
func (Projection) Tables() []string { return []string{"orders", "order_history"} }

// Apply implements projection.Projection: per order event one statement on
// the order's row (which also sets its version and updated_at; the other
// columns are what Evolve would fold) and one that copies the row's new
// state into order_history, all sent in one round trip.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) ([]string, error) {
	b := &pgx.Batch{}
	var keys []string
	seen := map[string]bool{}
	for _, re := range events {
		if re.StreamType != Type.StreamType {
			continue
		}
		e, err := Type.Decode(re.Type, re.SchemaVersion, re.Data)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", re.Position, err)
		}
		id, at, v := re.StreamID, re.RecordedAt, re.Version
		switch e := e.(type) {
		case OrderPlaced:
			lines, err := json.Marshal(e.Lines)
			if err != nil {
				return nil, fmt.Errorf("event %d: %w", re.Position, err)
			}
			b.Queue(`INSERT INTO orders (id, organization, customer_name, customer_email, lines, currency, total, status, version, placed_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
				id, e.Organization, e.CustomerName, e.CustomerEmail, lines, e.Currency, e.Total, StatusPlaced, v, at)
		case OrderStockReserved:
			b.Queue(`UPDATE orders SET status = $2, version = $3, updated_at = $4 WHERE id = $1`, id, StatusStockReserved, v, at)
		case OrderAwaitingPayment:
			b.Queue(`UPDATE orders SET status = $2, payment_id = $5, version = $3, updated_at = $4 WHERE id = $1`, id, StatusAwaitingPayment, v, at, e.PaymentID)
		case OrderPaid:
			b.Queue(`UPDATE orders SET status = $2, version = $3, updated_at = $4 WHERE id = $1`, id, StatusPaid, v, at)
		case OrderShipped:
			b.Queue(`UPDATE orders SET status = $2, version = $3, updated_at = $4 WHERE id = $1`, id, StatusShipped, v, at)
		case OrderRejected:
			b.Queue(`UPDATE orders SET status = $2, reason = $5, version = $3, updated_at = $4 WHERE id = $1`, id, StatusRejected, v, at, e.Reason)
		case OrderCancelled:
			b.Queue(`UPDATE orders SET status = $2, reason = $5, version = $3, updated_at = $4 WHERE id = $1`, id, StatusCancelled, v, at, e.Reason)
		default:
			continue
		}
		// The order as this event left it, for orderUpdated.
		b.Queue(`INSERT INTO order_history (order_id, version, status, reason, payment_id, at)
			SELECT id, version, status, reason, payment_id, updated_at FROM orders WHERE id = $1`, id)
		if k := id.String(); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if err := projection.SendBatch(ctx, tx, b); err != nil {
		return nil, fmt.Errorf("apply orders batch: %w", err)
	}
	scrubbed, err := projection.Scrub(ctx, tx, "orders", personalColumns, projection.Erasures(events, Type.StreamType))
	if err != nil {
		return nil, err
	}
	for _, s := range scrubbed {
		if k := s.ID.String(); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys, nil
}
