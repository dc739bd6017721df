package account

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/jackc/pgx/v5"
)

// NewBulk implements projection.BulkApplier: a rebuild runs the projection's
// fold over the whole log in memory (the scratch tables start empty, so no
// row is ever loaded), COPYs the operations batch by batch and the accounts
// at the end, instead of two statements per event.
func (Projection) NewBulk() projection.Bulk { return &bulk{fold: newFold()} }

// bulk is one rebuild's replay. Its memory is one View per account, whatever
// the number of events.
type bulk struct{ fold *fold }

// Apply folds events (the fold ignores other streams' events only here:
// Apply filters them the same way) and COPYs the operations they record.
func (b *bulk) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) error {
	for _, re := range events {
		if re.StreamType != Type.StreamType {
			continue
		}
		if err := b.fold.apply(re); err != nil {
			return err
		}
	}
	ops := b.fold.ops
	b.fold.ops = nil
	if len(ops) == 0 {
		return nil
	}
	src := pgx.CopyFromSlice(len(ops), func(i int) ([]any, error) { return ops[i].values(), nil })
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"account_operations"}, operationColumns, src); err != nil {
		return fmt.Errorf("copy account operations: %w", err)
	}
	return nil
}

// Flush COPYs the accounts.
func (b *bulk) Flush(ctx context.Context, tx pgx.Tx) error {
	ids := slices.SortedFunc(maps.Keys(b.fold.rows), compareIDs)
	src := pgx.CopyFromSlice(len(ids), func(i int) ([]any, error) { return accountRow(b.fold.rows[ids[i]]), nil })
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"accounts"}, accountColumns, src); err != nil {
		return fmt.Errorf("copy accounts: %w", err)
	}
	return nil
}
