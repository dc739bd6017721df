package eventstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// TestReadCommittedOrdersTransactionIDsAsNumbers: ReadCommitted selects
// transaction_id::text, so a bare ORDER BY transaction_id would sort by that
// text output column: "10" before "9". A batch would then end at a later
// transaction than an event it left out, and the next read, after that
// checkpoint, would skip the event for good (and every read would sort the
// whole table instead of walking the index).
func TestReadCommittedOrdersTransactionIDsAsNumbers(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.NewPool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Explicit transaction ids, far below the horizon: 10 gets position 1,
	// 9 position 2, so read order is (9, 2) then (10, 1).
	if _, err := pool.Exec(ctx, `INSERT INTO events (transaction_id, event_id, stream_id, stream_type, version, type, data)
		VALUES ('10', gen_random_uuid(), gen_random_uuid(), 'test', 1, 'T', '{}'),
		       ('9', gen_random_uuid(), gen_random_uuid(), 'test', 1, 'T', '{}')`); err != nil {
		t.Fatal(err)
	}
	var got []eventstore.Checkpoint
	var cp eventstore.Checkpoint
	for range 3 {
		events, _, err := eventstore.ReadCommitted(ctx, pool, cp, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) == 0 {
			break
		}
		cp = events[0].Checkpoint()
		got = append(got, cp)
	}
	want := []eventstore.Checkpoint{{TransactionID: 9, Position: 2}, {TransactionID: 10, Position: 1}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("read one at a time: %v, want %v", got, want)
	}
}

// horizonMover ends the transaction that holds the horizon between
// ReadCommitted's read and its look beyond the horizon.
type horizonMover struct {
	eventstore.Querier
	move func()
}

func (m *horizonMover) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	m.move()
	return m.Querier.QueryRow(ctx, sql, args...)
}

// TestHeldBackSurvivesAHorizonMove: when the transaction that held the read
// back ends between the read and the look beyond the horizon, the event is
// below the look's horizon, yet the read did not return it: ReadCommitted
// must still say "look again soon" (heldBack), or a runner would wait for a
// notification that never comes (the event's NOTIFY has been handled).
func TestHeldBackSurvivesAHorizonMove(t *testing.T) {
	pool, _ := pgtest.NewPool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	older, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer older.Rollback(ctx) //nolint:errcheck // rolled back by the mover
	if _, err := older.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO events (event_id, stream_id, stream_type, version, type, data)
		VALUES (gen_random_uuid(), gen_random_uuid(), 'test', 1, 'T', '{}')`); err != nil {
		t.Fatal(err)
	}
	mover := &horizonMover{Querier: pool, move: func() {
		// Rollback returns once the server has ended the transaction.
		if err := older.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
	}}
	events, heldBack, err := eventstore.ReadCommitted(ctx, mover, eventstore.Checkpoint{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 0 {
		t.Fatalf("the read returned %d events past an open older transaction", len(events))
	}
	if !heldBack {
		t.Fatal("ReadCommitted returned no events and heldBack false while an event waited: the caller would not look again")
	}
	// Readable now (once any other transaction of the cluster that is older
	// has ended too: tests of other packages may hold one for a moment).
	for {
		events, _, err := eventstore.ReadCommitted(ctx, pool, eventstore.Checkpoint{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) == 1 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
}
