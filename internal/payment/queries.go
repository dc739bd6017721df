package payment

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chronicle-es/chronicle/internal/database"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/page"
	"github.com/chronicle-es/chronicle/internal/readcache"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// View is a payment as the payments projection holds it. Amounts are in
// minor units of Currency; nil pointers are things that did not happen
// (no failure, no refund yet). Its JSON form (cached) is PostgreSQL's
// to_jsonb of the payments row: the field names are the columns.
type View struct {
	ID            uuid.UUID  `json:"id"`
	Organization  string     `json:"organization"`
	CustomerName  string     `json:"customer_name"`
	CustomerEmail string     `json:"customer_email"`
	Currency      string     `json:"currency"`
	Amount        int64      `json:"amount"`
	Refunded      int64      `json:"refunded"`
	Status        Status     `json:"status"`
	FailureReason *string    `json:"failure_reason"`
	InitiatedBy   string     `json:"initiated_by"`
	ProcessedBy   *string    `json:"processed_by"`
	FailedBy      *string    `json:"failed_by"`
	RefundedBy    *string    `json:"refunded_by"` // of the last refund
	Version       int64      `json:"version"`
	InitiatedAt   time.Time  `json:"initiated_at"`
	ProcessedAt   *time.Time `json:"processed_at"`
	FailedAt      *time.Time `json:"failed_at"`
	RefundedAt    *time.Time `json:"refunded_at"` // of the last refund
	UpdatedAt     time.Time  `json:"updated_at"`
	// OrderID is the order the payment pays for (nil for none).
	OrderID *uuid.UUID `json:"order_id"`
}

// Refundable is what may still be refunded of the payment, in minor units:
// zero unless it is PROCESSED or PARTIALLY_REFUNDED.
func (v View) Refundable() int64 {
	if v.Status == StatusProcessed || v.Status == StatusPartiallyRefunded {
		return v.Amount - v.Refunded
	}
	return 0
}

// Refund is one refund of a payment; Amount is in minor units.
type Refund struct {
	Amount     int64
	Reason     string
	RefundedBy string
	RefundedAt time.Time
	Version    int64
}

const viewColumns = `id, organization, customer_name, customer_email, currency, amount, refunded, status,
	failure_reason, initiated_by, processed_by, failed_by, refunded_by, version,
	initiated_at, processed_at, failed_at, refunded_at, updated_at, order_id`

func scanView(row pgx.Row) (View, error) {
	var v View
	err := row.Scan(&v.ID, &v.Organization, &v.CustomerName, &v.CustomerEmail, &v.Currency, &v.Amount, &v.Refunded, &v.Status,
		&v.FailureReason, &v.InitiatedBy, &v.ProcessedBy, &v.FailedBy, &v.RefundedBy, &v.Version,
		&v.InitiatedAt, &v.ProcessedAt, &v.FailedAt, &v.RefundedAt, &v.UpdatedAt, &v.OrderID)
	v.normalizeTimes()
	return v, err
}

// normalizeTimes puts every timestamp in UTC.
func (v *View) normalizeTimes() {
	v.InitiatedAt, v.UpdatedAt = v.InitiatedAt.UTC(), v.UpdatedAt.UTC()
	for _, t := range []*time.Time{v.ProcessedAt, v.FailedAt, v.RefundedAt} {
		if t != nil {
			*t = t.UTC()
		}
	}
}

// ReadModel answers payment queries from the payments projection's tables,
// through the read cache for payment(id) and analytics.
type ReadModel struct {
	pool  *pgxpool.Pool
	cache *readcache.Cache
	hub   *live.Hub
}

// NewReadModel returns a ReadModel on pool; cache may be nil (no caching);
// hub rings its live feeds.
func NewReadModel(pool *pgxpool.Pool, cache *readcache.Cache, hub *live.Hub) *ReadModel {
	return &ReadModel{pool: pool, cache: cache, hub: hub}
}

// checkpointJoin selects the payments projection's checkpoint in the same
// statement (so the same snapshot) as the rows it is joined to: it versions
// what the cache stores. Before the projection's first batch there is no
// checkpoint row: the zero checkpoint.
const checkpointJoin = `(SELECT 1) one LEFT JOIN projection_checkpoints c ON c.name = '` + ProjectionName + `'`

const checkpointColumns = `coalesce(c.transaction_id, '0')::text, coalesce(c.position, 0)`

func scanCheckpoint(txid string, pos int64) (eventstore.Checkpoint, error) {
	tx, err := strconv.ParseUint(txid, 10, 64)
	return eventstore.Checkpoint{TransactionID: tx, Position: pos}, err
}

// Get returns the payment of organization. Errors: ErrPaymentNotFound, also
// for another organization's payment.
func (m *ReadModel) Get(ctx context.Context, organization string, id uuid.UUID) (View, error) {
	key := id.String()
	values, err := readcache.LoadMany(ctx, m.cache, "payment", ProjectionName, []string{key}, m.loadPayments)
	if err != nil {
		return View{}, err
	}
	var v *View
	if err := json.Unmarshal(values[key], &v); err != nil {
		return View{}, fmt.Errorf("decode cached payment %s: %w", id, err)
	}
	if v == nil || v.Organization != organization {
		return View{}, fmt.Errorf("%w: %s", ErrPaymentNotFound, id)
	}
	v.normalizeTimes()
	return *v, nil
}

// getFromDatabase reads the payment from the database, bypassing the cache:
// the read after a command, before the command has raised the cache's floor.
// Errors: as Get.
func (m *ReadModel) getFromDatabase(ctx context.Context, organization string, id uuid.UUID) (View, error) {
	return database.One(m.pool.QueryRow(ctx, `SELECT `+viewColumns+` FROM payments WHERE id = $1 AND organization = $2`, id, organization),
		scanView, ErrPaymentNotFound, "payment", id)
}

// loadPayments reads payments by id (keys) as JSON, with the checkpoint in
// the same statement; absent ones are JSON null.
func (m *ReadModel) loadPayments(ctx context.Context, keys []string) (map[string][]byte, eventstore.Checkpoint, error) {
	ids := make([]uuid.UUID, len(keys))
	for i, k := range keys {
		ids[i] = uuid.MustParse(k)
	}
	rows, err := m.pool.Query(ctx, `SELECT `+checkpointColumns+`, p.id, to_jsonb(p)
		FROM `+checkpointJoin+` LEFT JOIN payments p ON p.id = ANY($1)`, ids)
	if err != nil {
		return nil, eventstore.Checkpoint{}, fmt.Errorf("read payments: %w", err)
	}
	defer rows.Close()
	out := make(map[string][]byte, len(keys))
	var cp eventstore.Checkpoint
	for rows.Next() {
		var (
			txid string
			pos  int64
			id   *uuid.UUID
			row  []byte
		)
		if err := rows.Scan(&txid, &pos, &id, &row); err != nil {
			return nil, cp, fmt.Errorf("read payments: %w", err)
		}
		if cp, err = scanCheckpoint(txid, pos); err != nil {
			return nil, cp, err
		}
		if id != nil {
			out[id.String()] = row
		}
	}
	if err := rows.Err(); err != nil {
		return nil, cp, fmt.Errorf("read payments: %w", err)
	}
	for _, k := range keys {
		if _, ok := out[k]; !ok {
			out[k] = []byte("null")
		}
	}
	return out, cp, nil
}

// ListFilter selects payments of one organization; zero fields do not
// filter. From and To bound the initiation time: From <= initiated < To.
type ListFilter struct {
	Organization string
	Status       Status
	From, To     *time.Time
	First        *int
	After        string
}

const paymentCursor = "payment"

// List returns payments newest first (by initiation time, then id).
// Errors: page.ErrInvalidPage for a bad first/after; ErrInvalidInput for
// an unknown status or From not before To.
func (m *ReadModel) List(ctx context.Context, f ListFilter) (page.Page[View], error) {
	size, err := page.Size(f.First)
	if err != nil {
		return page.Page[View]{}, err
	}
	if f.Status != "" && !f.Status.Valid() {
		return page.Page[View]{}, fmt.Errorf("%w: unknown status %q", ErrInvalidInput, f.Status)
	}
	if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
		return page.Page[View]{}, fmt.Errorf("%w: from must be before to", ErrInvalidInput)
	}
	// The cursor is the last row's (initiated_at, id); the next page has the
	// rows strictly after it in (initiated_at DESC, id DESC) order.
	var (
		afterAt *time.Time
		afterID *uuid.UUID
	)
	if key, err := page.Decode(paymentCursor, f.After); err != nil {
		return page.Page[View]{}, err
	} else if key != "" {
		at, id, ok := parseListKey(key)
		if !ok {
			return page.Page[View]{}, fmt.Errorf("%w: malformed cursor %q", page.ErrInvalidPage, f.After)
		}
		afterAt, afterID = &at, &id
	}
	rows, err := m.pool.Query(ctx, `SELECT `+viewColumns+` FROM payments
		WHERE organization = $1 AND ($2 = '' OR status = $2)
			AND ($3::timestamptz IS NULL OR initiated_at >= $3)
			AND ($4::timestamptz IS NULL OR initiated_at < $4)
			AND ($5::timestamptz IS NULL OR (initiated_at, id) < ($5, $6::uuid))
		ORDER BY initiated_at DESC, id DESC LIMIT $7`,
		f.Organization, string(f.Status), f.From, f.To, afterAt, afterID, size+1)
	if err != nil {
		return page.Page[View]{}, fmt.Errorf("list payments: %w", err)
	}
	views, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (View, error) { return scanView(r) })
	if err != nil {
		return page.Page[View]{}, fmt.Errorf("list payments: %w", err)
	}
	return page.Make(views, size, func(v View) string {
		return page.Encode(paymentCursor, v.InitiatedAt.Format(time.RFC3339Nano)+" "+v.ID.String())
	}), nil
}

func parseListKey(key string) (time.Time, uuid.UUID, bool) {
	at, idText, ok := strings.Cut(key, " ")
	if !ok {
		return time.Time{}, uuid.Nil, false
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return time.Time{}, uuid.Nil, false
	}
	id, err := uuid.Parse(idText)
	return t, id, err == nil
}

// Refunds returns the refunds of organization's payment, oldest first (none
// for another organization's payment).
func (m *ReadModel) Refunds(ctx context.Context, organization string, paymentID uuid.UUID) ([]Refund, error) {
	rows, err := m.pool.Query(ctx, `SELECT r.amount, r.reason, r.refunded_by, r.refunded_at, r.version
		FROM payment_refunds r JOIN payments p ON p.id = r.payment_id AND p.organization = $2
		WHERE r.payment_id = $1 ORDER BY r.version`, paymentID, organization)
	if err != nil {
		return nil, fmt.Errorf("list refunds: %w", err)
	}
	refunds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Refund, error) {
		var x Refund
		err := r.Scan(&x.Amount, &x.Reason, &x.RefundedBy, &x.RefundedAt, &x.Version)
		x.RefundedAt = x.RefundedAt.UTC()
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("list refunds: %w", err)
	}
	return refunds, nil
}
