package eventstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
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
