package projection_test

import (
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
)

// A read held back behind an open transaction is retried soon, so that when
// the horizon moves without a notification (here: the older transaction
// rolls back) the projection catches up within tens of milliseconds, not
// after a backoff grown towards the poll interval.
func TestHeldBackReadRetriedSoon(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	const name = "held"
	// A poll interval far above the bound below: only the held-back retry
	// can notice the moved horizon in time.
	r := start(t, ctx, e.pool, projection.Config{PollInterval: 10 * time.Second}, &recorder{name: name})
	waitFor(t, r.eng, name, appendEvents(t, ctx, e.store, 1).Checkpoint())

	// An older transaction has written and stays open; a later append
	// commits and notifies, and its read comes back held back.
	tx, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // rolled back below
	if _, err := rawInsert(ctx, tx, uuid.New()); err != nil {
		t.Fatal(err)
	}
	res := appendEvents(t, ctx, e.store, 1)
	// Long enough for a doubling backoff to have grown to 256 ms.
	time.Sleep(300 * time.Millisecond)
	if cp, _ := r.eng.Checkpoint(name); cp.Reached(res.Checkpoint()) {
		t.Fatal("projected past an open older transaction")
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	// From the moment the event is readable (other tests' transactions in
	// the cluster may hold the horizon a little longer) to projected.
	var readable time.Time
	for {
		events, _, err := eventstore.ReadCommitted(ctx, e.pool, eventstore.Checkpoint{TransactionID: res.TransactionID - 1}, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) > 0 && events[len(events)-1].Checkpoint().Reached(res.Checkpoint()) {
			readable = time.Now()
			break
		}
		time.Sleep(time.Millisecond)
	}
	waitFor(t, r.eng, name, res.Checkpoint())
	if took := time.Since(readable); took > 150*time.Millisecond {
		t.Fatalf("projected %v after the horizon moved, want within 150 ms (retry every 10 ms)", took)
	} else {
		t.Logf("projected %v after the horizon moved", took)
	}
}
