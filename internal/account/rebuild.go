package account

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The accounts projection's rebuild path (projection.Rebuild). It must
// build exactly the rows that Projection.Apply (projection.go) writes: keep
// the columns below in step with it.

// Tables implements projection.Rebuildable: the read-model tables that Apply
// writes, unqualified.
func (Projection) Tables() []string { return []string{"accounts", "account_operations"} }

// NewBulk implements projection.BulkApplier: a rebuild folds the accounts in
// memory and COPYs the operations batch by batch and the accounts at the
// end, instead of two statements per event.
func (Projection) NewBulk() projection.Bulk {
	return &bulk{accounts: make(map[uuid.UUID]*bulkAccount)}
}

var (
	accountColumns   = []string{"id", "organization", "owner", "currency", "balance", "status", "version", "opened_at", "updated_at"}
	operationColumns = []string{"account_id", "version", "event_id", "position", "kind", "amount", "balance_after", "description", "recorded_at"}
)

// bulk is one rebuild's replay. Its memory is one bulkAccount per account
// (about 200 bytes with its strings), whatever the number of events.
type bulk struct {
	accounts map[uuid.UUID]*bulkAccount
}

// bulkAccount is an accounts row being folded.
type bulkAccount struct {
	organization, owner, currency string
	status                        Status
	balance, version              int64
	openedAt, updatedAt           time.Time
}

// Apply folds events into the accounts held in memory and COPYs the
// operations they record, each with the balance it left, as Apply does.
// Like Apply, it ignores other streams, and a credit, debit or close of an
// account never opened.
func (b *bulk) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) error {
	ops := make([][]any, 0, len(events))
	for _, re := range events {
		if re.StreamType != Type.StreamType {
			continue
		}
		e, err := Decode(re.Type, re.SchemaVersion, re.Data)
		if err != nil {
			return fmt.Errorf("event %d: %w", re.Position, err)
		}
		switch e := e.(type) {
		case AccountOpened:
			if _, dup := b.accounts[re.StreamID]; dup {
				return fmt.Errorf("event %d: account %s opened twice", re.Position, re.StreamID)
			}
			b.accounts[re.StreamID] = &bulkAccount{
				organization: e.Organization, owner: e.Owner, currency: e.Currency, status: StatusOpen,
				balance: e.InitialBalance, version: re.Version, openedAt: re.RecordedAt, updatedAt: re.RecordedAt,
			}
		case AccountCredited:
			ops = b.operation(ops, re, "CREDIT", e.Amount, e.Amount, e.Description)
		case AccountDebited:
			ops = b.operation(ops, re, "DEBIT", e.Amount, -e.Amount, e.Description)
		case AccountClosed:
			if a := b.accounts[re.StreamID]; a != nil {
				a.status, a.version, a.updatedAt = StatusClosed, re.Version, re.RecordedAt
			}
		}
	}
	if len(ops) == 0 {
		return nil
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"account_operations"}, operationColumns, pgx.CopyFromRows(ops)); err != nil {
		return fmt.Errorf("copy account operations: %w", err)
	}
	return nil
}

// operation moves the account's balance by delta and returns ops with the
// operation's row appended.
func (b *bulk) operation(ops [][]any, re eventstore.RecordedEvent, kind string, amount, delta int64, description string) [][]any {
	a := b.accounts[re.StreamID]
	if a == nil {
		return ops
	}
	a.balance += delta
	a.version, a.updatedAt = re.Version, re.RecordedAt
	return append(ops, []any{re.StreamID, re.Version, re.EventID, re.Position, kind, amount, a.balance, description, re.RecordedAt})
}

// Flush COPYs the accounts, one row at a time (no second copy of them).
func (b *bulk) Flush(ctx context.Context, tx pgx.Tx) error {
	ids := slices.Collect(maps.Keys(b.accounts))
	row := make([]any, len(accountColumns))
	next := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if next == len(ids) {
			return nil, nil
		}
		id := ids[next]
		a := b.accounts[id]
		next++
		row[0], row[1], row[2], row[3], row[4] = id, a.organization, a.owner, a.currency, a.balance
		row[5], row[6], row[7], row[8] = string(a.status), a.version, a.openedAt, a.updatedAt
		return row, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"accounts"}, accountColumns, src); err != nil {
		return fmt.Errorf("copy accounts: %w", err)
	}
	return nil
}
