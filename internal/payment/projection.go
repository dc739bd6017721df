package payment

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/chronicle-es/chronicle/internal/datasubject"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ProjectionName names the projection that keeps the payments,
// payment_refunds and payment_stats_hourly tables.
const ProjectionName = "payments"

// Keys the payments projection announces for a batch (projection.Update
// Keys): they name what changed, for the live subscriptions and for the
// read cache's invalidation.
//
//   - the payment's id, e.g. "0192f3a4-...": its row changed;
//   - OrganizationKey(org): something in the organization changed
//     (paymentAnalyticsUpdated listens to it);
//   - StatsDayKey(org, day): the statistics of the payments initiated on
//     that UTC day changed.

// OrganizationKey is the key announced for every change in organization.
func OrganizationKey(organization string) string { return "org " + organization }

// StatsDayKey is the key announced when the statistics of the payments that
// organization initiated on day (its UTC date is used) changed. The date has
// a fixed width, so the key is unambiguous for any organization name.
func StatsDayKey(organization string, day time.Time) string {
	return "day " + day.UTC().Format(time.DateOnly) + " " + organization
}

// Projection keeps the payments read model. A batch is folded in memory:
// the rows of the payments it touches are read once, the events applied in
// order, and the final rows, the new refunds and the net change of each
// statistics row are written with a few statements, so a batch of 500
// events costs a handful of round trips. It implements
// projection.Projection.
type Projection struct{}

// Name implements projection.Projection.
func (Projection) Name() string { return ProjectionName }

// StreamTypes implements projection.Selective: payments, and the erasures
// that scrub them.
func (Projection) StreamTypes() []string { return []string{Type.StreamType, datasubject.StreamType} }

// ReadsPersonalData implements projection.PersonalReader: payments show
// the customer's name and e-mail, opened from their sealed form.
func (Projection) ReadsPersonalData() {}

// personalColumns are the payments columns an erasure scrubs.
var personalColumns = []string{"customer_name", "customer_email"}

// Tables implements projection.Rebuildable: Apply's SQL names them
// unqualified, so a rebuild can replay into scratch copies.
func (Projection) Tables() []string {
	return []string{"payments", "payment_refunds", "payment_stats_hourly"}
}

// statsKey identifies one row of payment_stats_hourly.
type statsKey struct {
	organization string
	hour         time.Time
	currency     string
	status       Status
}

// statsDelta is a change to one statistics row.
type statsDelta struct{ payments, amount, refunded int64 }

func (v *View) statsKey() statsKey {
	return statsKey{v.Organization, v.InitiatedAt.UTC().Truncate(time.Hour), v.Currency, v.Status}
}

// refundRow is one new row of payment_refunds.
type refundRow struct {
	paymentID uuid.UUID
	version   int64
	amount    int64
	reason    string
	by        string
	at        time.Time
}

// Apply implements projection.Projection. It returns the keys described at
// OrganizationKey.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) ([]string, error) {
	type step struct {
		re eventstore.RecordedEvent
		e  any
	}
	var (
		steps   []step
		lookups []uuid.UUID
		fresh   = map[uuid.UUID]bool{}
	)
	for _, re := range events {
		if re.StreamType != Type.StreamType {
			continue
		}
		e, err := Type.Decode(re.Type, re.SchemaVersion, re.Data)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", re.Position, err)
		}
		steps = append(steps, step{re, e})
		if _, ok := e.(PaymentInitiated); ok {
			fresh[re.StreamID] = true
		} else if !fresh[re.StreamID] {
			lookups = append(lookups, re.StreamID)
		}
	}
	erased := projection.Erasures(events, Type.StreamType)
	if len(steps) == 0 && len(erased) == 0 {
		return nil, nil
	}
	rows, err := loadRows(ctx, tx, lookups)
	if err != nil {
		return nil, err
	}
	deltas := map[statsKey]*statsDelta{}
	add := func(v *View, sign int64) {
		k := v.statsKey()
		d := deltas[k]
		if d == nil {
			d = &statsDelta{}
			deltas[k] = d
		}
		d.payments += sign
		d.amount += sign * v.Amount
		d.refunded += sign * v.Refunded
	}
	for _, v := range rows { // their old contribution leaves the statistics
		add(v, -1)
	}
	var refunds []refundRow
	for _, s := range steps {
		v := rows[s.re.StreamID]
		if v == nil {
			if _, ok := s.e.(PaymentInitiated); !ok {
				return nil, fmt.Errorf("event %d: %s of payment %s, which is not projected", s.re.Position, s.re.Type, s.re.StreamID)
			}
			v = &View{}
			rows[s.re.StreamID] = v
		}
		if r, ok := v.apply(s.re, s.e); ok {
			refunds = append(refunds, r)
		}
	}
	for _, v := range rows { // and their new one joins them
		add(v, +1)
	}

	var batch pgx.Batch
	keys := map[string]struct{}{}
	for id, v := range rows {
		queueUpsert(&batch, v)
		keys[id.String()] = struct{}{}
		keys[OrganizationKey(v.Organization)] = struct{}{}
		keys[StatsDayKey(v.Organization, v.InitiatedAt)] = struct{}{}
	}
	for _, r := range refunds {
		batch.Queue(`INSERT INTO payment_refunds (payment_id, version, amount, reason, refunded_by, refunded_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, r.paymentID, r.version, r.amount, r.reason, r.by, r.at)
	}
	queueStats(&batch, deltas)
	if err := projection.SendBatch(ctx, tx, &batch); err != nil {
		return nil, fmt.Errorf("project payments: %w", err)
	}
	scrubbed, err := projection.Scrub(ctx, tx, "payments", personalColumns, erased)
	if err != nil {
		return nil, err
	}
	for _, s := range scrubbed {
		keys[s.ID.String()] = struct{}{}
		keys[OrganizationKey(s.Organization)] = struct{}{}
	}
	return slices.Collect(maps.Keys(keys)), nil
}

// apply folds one event into the row; it returns the refund row a
// PaymentRefunded adds.
func (v *View) apply(re eventstore.RecordedEvent, e any) (refundRow, bool) {
	at := re.RecordedAt.UTC()
	v.Version, v.UpdatedAt = re.Version, at
	switch e := e.(type) {
	case PaymentInitiated:
		*v = View{
			ID: re.StreamID, Organization: e.Organization, CustomerName: e.CustomerName, CustomerEmail: e.CustomerEmail,
			Currency: e.Currency, Amount: e.Amount, Status: StatusInitiated, InitiatedBy: e.InitiatedBy,
			Version: re.Version, InitiatedAt: at, UpdatedAt: at,
		}
		if id, err := uuid.Parse(e.OrderID); err == nil {
			v.OrderID = &id
		}
	case PaymentProcessed:
		v.Status, v.ProcessedBy, v.ProcessedAt = StatusProcessed, &e.ProcessedBy, &at
	case PaymentFailed:
		v.Status, v.FailedBy, v.FailedAt, v.FailureReason = StatusFailed, &e.FailedBy, &at, &e.Reason
	case PaymentRefunded:
		v.Refunded += e.Amount
		v.Status = statusAfterRefund(v.Refunded, v.Amount)
		v.RefundedBy, v.RefundedAt = &e.RefundedBy, &at
		return refundRow{re.StreamID, re.Version, e.Amount, e.Reason, e.RefundedBy, at}, true
	}
	return refundRow{}, false
}

// loadRows reads the projected rows of ids (locked: one runner writes them,
// but a rebuild's swap must not slip in between).
func loadRows(ctx context.Context, tx pgx.Tx, ids []uuid.UUID) (map[uuid.UUID]*View, error) {
	out := make(map[uuid.UUID]*View, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, `SELECT `+viewColumns+` FROM payments WHERE id = ANY($1) FOR UPDATE`, ids)
	if err != nil {
		return nil, fmt.Errorf("load payments: %w", err)
	}
	views, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (View, error) { return scanView(r) })
	if err != nil {
		return nil, fmt.Errorf("load payments: %w", err)
	}
	for i := range views {
		out[views[i].ID] = &views[i]
	}
	return out, nil
}

func queueUpsert(b *pgx.Batch, v *View) {
	b.Queue(`INSERT INTO payments (`+viewColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
		ON CONFLICT (id) DO UPDATE SET refunded = EXCLUDED.refunded, status = EXCLUDED.status,
			failure_reason = EXCLUDED.failure_reason, processed_by = EXCLUDED.processed_by,
			failed_by = EXCLUDED.failed_by, refunded_by = EXCLUDED.refunded_by, version = EXCLUDED.version,
			processed_at = EXCLUDED.processed_at, failed_at = EXCLUDED.failed_at,
			refunded_at = EXCLUDED.refunded_at, updated_at = EXCLUDED.updated_at`,
		v.ID, v.Organization, v.CustomerName, v.CustomerEmail, v.Currency, v.Amount, v.Refunded, string(v.Status),
		v.FailureReason, v.InitiatedBy, v.ProcessedBy, v.FailedBy, v.RefundedBy, v.Version,
		v.InitiatedAt, v.ProcessedAt, v.FailedAt, v.RefundedAt, v.UpdatedAt, v.OrderID)
}

// queueStats adds each non-zero delta to its statistics row, in key order.
func queueStats(b *pgx.Batch, deltas map[statsKey]*statsDelta) {
	keys := make([]statsKey, 0, len(deltas))
	for k, d := range deltas {
		if *d != (statsDelta{}) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b statsKey) int {
		if c := a.hour.Compare(b.hour); c != 0 {
			return c
		}
		return strings.Compare(a.organization+"\x00"+a.currency+"\x00"+string(a.status),
			b.organization+"\x00"+b.currency+"\x00"+string(b.status))
	})
	for _, k := range keys {
		d := deltas[k]
		b.Queue(`INSERT INTO payment_stats_hourly AS s (organization, hour, currency, status, payments, amount, refunded)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (organization, hour, currency, status) DO UPDATE SET
				payments = s.payments + EXCLUDED.payments, amount = s.amount + EXCLUDED.amount,
				refunded = s.refunded + EXCLUDED.refunded`,
			k.organization, k.hour, k.currency, string(k.status), d.payments, d.amount, d.refunded)
	}
}
