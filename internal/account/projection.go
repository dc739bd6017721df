package account

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/jackc/pgx/v5"
)

// ProjectionName names the projection that keeps the accounts and
// account_operations tables.
const ProjectionName = "accounts"

// Projection keeps the accounts read model: one row per account in accounts,
// and one row per credit or debit, with the balance after it, in
// account_operations. It implements projection.Projection.
type Projection struct{}

// Name implements projection.Projection.
func (Projection) Name() string { return ProjectionName }

// Apply queues one statement per event and sends the batch in one round
// trip. It returns the ids of the accounts that changed.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) ([]string, error) {
	var (
		batch   pgx.Batch
		changed = make(map[string]struct{})
	)
	for _, re := range events {
		if re.StreamType != Type.StreamType {
			continue
		}
		e, err := Decode(re.Type, re.SchemaVersion, re.Data)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", re.Position, err)
		}
		id, at := re.StreamID, re.RecordedAt
		switch e := e.(type) {
		case AccountOpened:
			batch.Queue(`INSERT INTO accounts (id, organization, owner, currency, balance, status, version, opened_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, id, e.Organization, e.Owner, e.Currency, e.InitialBalance, StatusOpen, re.Version, at)
		case AccountCredited:
			queueOperation(&batch, re, "CREDIT", e.Amount, e.Amount, e.Description)
		case AccountDebited:
			queueOperation(&batch, re, "DEBIT", e.Amount, -e.Amount, e.Description)
		case AccountClosed:
			batch.Queue(`UPDATE accounts SET status = $2, version = $3, updated_at = $4 WHERE id = $1`,
				id, StatusClosed, re.Version, at)
		default:
			continue
		}
		changed[id.String()] = struct{}{}
	}
	if batch.Len() == 0 {
		return nil, nil
	}
	if err := tx.SendBatch(ctx, &batch).Close(); err != nil {
		return nil, fmt.Errorf("project accounts: %w", err)
	}
	return slices.Collect(maps.Keys(changed)), nil
}

// queueOperation moves the balance by delta and records the operation with
// the balance it left, in one statement.
func queueOperation(b *pgx.Batch, re eventstore.RecordedEvent, kind string, amount, delta int64, description string) {
	b.Queue(`WITH acc AS (
			UPDATE accounts SET balance = balance + $2, version = $3, updated_at = $4
			WHERE id = $1 RETURNING balance
		)
		INSERT INTO account_operations (account_id, version, event_id, position, kind, amount, balance_after, description, recorded_at)
		SELECT $1, $3, $5, $6, $7, $8, acc.balance, $9, $4 FROM acc`,
		re.StreamID, delta, re.Version, re.RecordedAt, re.EventID, re.Position, kind, amount, description)
}
