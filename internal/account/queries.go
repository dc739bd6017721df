package account

import (
	"context"
	"fmt"
	"time"

	"github.com/chronicle-es/chronicle/internal/database"

	"github.com/chronicle-es/chronicle/internal/input"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/page"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// View is an account as the accounts projection holds it. Balance is in
// minor units of Currency.
type View struct {
	ID           uuid.UUID
	Organization string
	Owner        string
	Currency     string
	Balance      int64
	Status       Status
	Version      int64
	OpenedAt     time.Time
	UpdatedAt    time.Time
}

// Operation is one credit or debit. Amount and BalanceAfter are in minor
// units of the account's currency; Amount is always positive.
type Operation struct {
	AccountID    uuid.UUID
	Kind         string // CREDIT or DEBIT
	Amount       int64
	BalanceAfter int64
	Description  string
	// Reference is the client's reference ("" when none).
	Reference string
	// Counterparty is the other side, when known.
	Counterparty *Counterparty
	Version      int64
	Position     int64
	RecordedAt   time.Time
}

// ListFilter selects accounts; empty fields do not filter.
type ListFilter struct {
	// Organization is required: only its accounts are listed.
	Organization string
	Owner        string
	Status       Status
	First        *int
	After        string
}

// Cursor kinds.
const (
	accountCursor   = "account"
	operationCursor = "operation"
)

// ReadModel answers queries from the accounts projection's tables and the
// account streams.
type ReadModel struct {
	pool *pgxpool.Pool
	hub  *live.Hub
}

// NewReadModel returns a ReadModel on pool whose live feeds are rung by hub.
func NewReadModel(pool *pgxpool.Pool, hub *live.Hub) *ReadModel {
	return &ReadModel{pool: pool, hub: hub}
}

const viewColumns = `id, organization, owner, currency, balance, status, version, opened_at, updated_at`

func scanView(row pgx.Row) (View, error) {
	var v View
	err := row.Scan(&v.ID, &v.Organization, &v.Owner, &v.Currency, &v.Balance, &v.Status, &v.Version, &v.OpenedAt, &v.UpdatedAt)
	v.OpenedAt, v.UpdatedAt = v.OpenedAt.UTC(), v.UpdatedAt.UTC()
	return v, err
}

// Get returns the projected account of organization. Errors:
// ErrAccountNotFound, also for an account of another organization.
func (m *ReadModel) Get(ctx context.Context, organization string, id uuid.UUID) (View, error) {
	return database.One(m.pool.QueryRow(ctx, `SELECT `+viewColumns+` FROM accounts WHERE id = $1 AND organization = $2`, id, organization),
		scanView, ErrAccountNotFound, "account", id)
}

// List returns accounts in id order (UUIDv7 ids: oldest first).
// Errors: page.ErrInvalidPage for a bad first/after, ErrInvalidInput for an
// unknown status.
func (m *ReadModel) List(ctx context.Context, f ListFilter) (page.Page[View], error) {
	size, err := page.Size(f.First)
	if err != nil {
		return page.Page[View]{}, err
	}
	after := uuid.Nil
	if key, err := page.Decode(accountCursor, f.After); err != nil {
		return page.Page[View]{}, err
	} else if key != "" {
		if after, err = uuid.Parse(key); err != nil {
			return page.Page[View]{}, fmt.Errorf("%w: malformed cursor %q", page.ErrInvalidPage, f.After)
		}
	}
	if err := input.Filter("owner", f.Owner, MaxOwnerLength); err != nil {
		return page.Page[View]{}, fmt.Errorf("%w: %s", ErrInvalidInput, input.Message(err))
	}
	if f.Status != "" && f.Status != StatusOpen && f.Status != StatusClosed {
		return page.Page[View]{}, fmt.Errorf("%w: unknown status %q", ErrInvalidInput, f.Status)
	}
	rows, err := m.pool.Query(ctx, `SELECT `+viewColumns+` FROM accounts
		WHERE organization = $5 AND id > $1 AND ($2 = '' OR owner = $2) AND ($3 = '' OR status = $3)
		ORDER BY id LIMIT $4`, after, f.Owner, string(f.Status), size+1, f.Organization)
	if err != nil {
		return page.Page[View]{}, fmt.Errorf("list accounts: %w", err)
	}
	views, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (View, error) { return scanView(r) })
	if err != nil {
		return page.Page[View]{}, fmt.Errorf("list accounts: %w", err)
	}
	return page.Make(views, size, func(v View) string { return page.Encode(accountCursor, v.ID.String()) }), nil
}

// Operations returns the credits and debits of the account of organization
// in version order (none for another organization's account).
// Errors: page.ErrInvalidPage.
func (m *ReadModel) Operations(ctx context.Context, organization string, accountID uuid.UUID, first *int, after string) (page.Page[Operation], error) {
	size, afterVersion, err := page.Int64After(operationCursor, first, after)
	if err != nil {
		return page.Page[Operation]{}, err
	}
	ops, err := m.operationsAfter(ctx, organization, accountID, afterVersion, size+1)
	if err != nil {
		return page.Page[Operation]{}, err
	}
	return page.Make(ops, size, func(o Operation) string { return page.EncodeInt64(operationCursor, o.Version) }), nil
}

// operationsAfter returns up to limit operations of the account with version
// > afterVersion, in version order.
func (m *ReadModel) operationsAfter(ctx context.Context, organization string, accountID uuid.UUID, afterVersion int64, limit int) ([]Operation, error) {
	rows, err := m.pool.Query(ctx, `SELECT account_id, kind, amount, balance_after, description, version, position, recorded_at,
			reference, counterparty_name, counterparty_account
		FROM account_operations WHERE account_id = $1 AND version > $2
			AND EXISTS (SELECT 1 FROM accounts WHERE id = $1 AND organization = $4)
		ORDER BY version LIMIT $3`,
		accountID, afterVersion, limit, organization)
	if err != nil {
		return nil, fmt.Errorf("list operations: %w", err)
	}
	ops, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Operation, error) {
		var (
			o             Operation
			name, account *string
		)
		err := r.Scan(&o.AccountID, &o.Kind, &o.Amount, &o.BalanceAfter, &o.Description, &o.Version, &o.Position, &o.RecordedAt,
			&o.Reference, &name, &account)
		o.RecordedAt = o.RecordedAt.UTC()
		if name != nil {
			o.Counterparty = &Counterparty{Name: *name}
			if account != nil {
				o.Counterparty.Account = *account
			}
		}
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("list operations: %w", err)
	}
	return ops, nil
}
