package order

import (
	"context"
	"fmt"
	"time"

	"github.com/chronicle-es/chronicle/internal/database"

	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/money"
	"github.com/chronicle-es/chronicle/internal/page"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// View is an order as the read model holds it. Amounts are in minor units
// of Currency; Reason is empty unless REJECTED or CANCELLED, PaymentID
// unless a payment was initiated.
type View struct {
	ID            uuid.UUID
	Organization  string
	CustomerName  string
	CustomerEmail string
	Lines         []Line
	Currency      money.Currency
	Total         int64
	Status        Status
	Reason        Reason
	PaymentID     string
	Version       int64
	PlacedAt      time.Time
	UpdatedAt     time.Time
}

// ReadModel answers the orders queries; every read is confined to one
// organization.
type ReadModel struct {
	pool *pgxpool.Pool
	hub  *live.Hub
}

// NewReadModel returns the orders read model on pool; hub rings its feeds.
func NewReadModel(pool *pgxpool.Pool, hub *live.Hub) *ReadModel {
	return &ReadModel{pool: pool, hub: hub}
}

const viewColumns = `id, organization, customer_name, customer_email, lines, currency, total, status,
	coalesce(reason, ''), coalesce(payment_id::text, ''), version, placed_at, updated_at`

func scanView(row pgx.Row) (View, error) {
	var v View
	var cur, status, reason string
	err := row.Scan(&v.ID, &v.Organization, &v.CustomerName, &v.CustomerEmail, &v.Lines, &cur, &v.Total, &status,
		&reason, &v.PaymentID, &v.Version, &v.PlacedAt, &v.UpdatedAt)
	v.Currency, v.Status, v.Reason = money.StoredCurrency(cur), Status(status), Reason(reason)
	return v, err
}

// Get returns organization's order id. Errors: ErrOrderNotFound (also for
// another organization's order).
func (m *ReadModel) Get(ctx context.Context, organization string, id uuid.UUID) (View, error) {
	return database.One(m.pool.QueryRow(ctx, `SELECT `+viewColumns+` FROM orders WHERE id = $1 AND organization = $2`, id, organization),
		scanView, ErrOrderNotFound, "order", id)
}

const cursorKind = "order"

// List returns a page of organization's orders, newest first, optionally
// only those in status. Errors: page.ErrInvalidPage for first or after;
// ErrInvalidInput for an unknown status.
func (m *ReadModel) List(ctx context.Context, organization string, status *Status, first *int, after string) (page.Page[View], error) {
	size, err := page.Size(first)
	if err != nil {
		return page.Page[View]{}, err
	}
	key, err := page.Decode(cursorKind, after)
	if err != nil {
		return page.Page[View]{}, err
	}
	before := uuid.Max
	if key != "" {
		if before, err = uuid.Parse(key); err != nil {
			return page.Page[View]{}, fmt.Errorf("%w: malformed cursor %q", page.ErrInvalidPage, after)
		}
	}
	st := ""
	if status != nil {
		if !status.Valid() {
			return page.Page[View]{}, fmt.Errorf("%w: unknown status %q", ErrInvalidInput, *status)
		}
		st = string(*status)
	}
	rows, err := m.pool.Query(ctx, `SELECT `+viewColumns+` FROM orders
		WHERE organization = $1 AND ($2 = '' OR status = $2) AND id < $3 ORDER BY id DESC LIMIT $4`,
		organization, st, before, size+1)
	if err != nil {
		return page.Page[View]{}, fmt.Errorf("list orders: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (View, error) { return scanView(r) })
	if err != nil {
		return page.Page[View]{}, fmt.Errorf("list orders: %w", err)
	}
	return page.Make(items, size, func(v View) string { return page.Encode(cursorKind, v.ID.String()) }), nil
}

// History returns organization's order id as each version after
// afterVersion left it, oldest first (Status, Reason, PaymentID, Version
// and UpdatedAt are the version's; the rest never changes).
func (m *ReadModel) History(ctx context.Context, organization string, id uuid.UUID, afterVersion int64) ([]View, error) {
	rows, err := m.pool.Query(ctx, `SELECT o.id, o.organization, o.customer_name, o.customer_email, o.lines, o.currency, o.total,
		h.status, coalesce(h.reason, ''), coalesce(h.payment_id::text, ''), h.version, o.placed_at, h.at
		FROM order_history h JOIN orders o ON o.id = h.order_id
		WHERE h.order_id = $1 AND o.organization = $2 AND h.version > $3 ORDER BY h.version`, id, organization, afterVersion)
	if err != nil {
		return nil, fmt.Errorf("read order history %s: %w", id, err)
	}
	vs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (View, error) { return scanView(r) })
	if err != nil {
		return nil, fmt.Errorf("read order history %s: %w", id, err)
	}
	return vs, nil
}

// OrderFeed is the live feed of organization's order id: every version
// after afterVersion, once and in order (from order_history, so changes
// that land in one projection batch are not merged). Errors:
// ErrOrderNotFound when it is not projected for organization.
func (m *ReadModel) OrderFeed(ctx context.Context, organization string, id uuid.UUID, afterVersion int64) (live.Feed[View], error) {
	return live.Watch(ctx, m.hub, ProjectionName, []string{id.String()},
		func(ctx context.Context) error {
			_, err := m.Get(ctx, organization, id)
			return err
		},
		func(ctx context.Context, sub *live.Subscription, emit func(View) bool) error {
			last := afterVersion
			return live.Follow(ctx, sub, func(ctx context.Context) error {
				vs, err := m.History(ctx, organization, id, last)
				if err != nil {
					return err
				}
				for _, v := range vs {
					if !emit(v) {
						return live.ErrStopFollowing
					}
					last = v.Version
				}
				return nil
			})
		})
}
