package projection_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
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

// ignorer is a projection that none of the events concern: it sends
// nothing in its batches.
type ignorer struct{ name string }

func (p ignorer) Name() string { return p.name }

func (ignorer) Apply(context.Context, pgx.Tx, []eventstore.RecordedEvent) ([]string, error) {
	return nil, nil
}

// TestBatchesThatSendNothingStoreTheirCheckpointLater: a projection that
// sends nothing for a batch is told past it at once (read-your-writes does
// not wait), but its checkpoint is stored later, once per poll interval,
// not in a transaction per batch.
func TestBatchesThatSendNothingStoreTheirCheckpointLater(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	const name = "ignoring"
	poll := 500 * time.Millisecond
	r := start(t, ctx, e.pool, projection.Config{PollInterval: poll}, ignorer{name})
	var last eventstore.Checkpoint
	for range 20 {
		last = appendEvents(t, ctx, e.store, 1).Checkpoint()
		r.eng.Wake()
	}
	began := time.Now()
	waitFor(t, r.eng, name, last)
	if stored := storedCheckpoint(t, ctx, e.pool, name); stored.Compare(last) >= 0 && time.Since(began) < poll/2 {
		t.Fatalf("stored checkpoint %+v already at %+v: want its store deferred", stored, last)
	}
	eventually(t, "the checkpoint stored", func() bool { return storedCheckpoint(t, ctx, e.pool, name) == last })
}

// selective is a recorder that applies only streams of testStreamType.
type selective struct{ *recorder }

func (selective) StreamTypes() []string { return []string{testStreamType} }

// TestWakeForWakesTheProjectionsOfTheStreamType: an append to a stream of
// another type does not wake a Selective projection in-process (it would
// pass over the events at its next poll, an hour away here); one of its
// type does, and projections that list no types wake for every append.
func TestWakeForWakesTheProjectionsOfTheStreamType(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	all, mine := &recorder{name: "all"}, selective{&recorder{name: "mine"}}
	r := start(t, ctx, e.pool, projection.Config{PollInterval: time.Hour}, all, mine)
	// Both active and idle, at the first append.
	first := appendEvents(t, ctx, e.store, 1).Checkpoint()
	waitFor(t, r.eng, all.name, first)
	waitFor(t, r.eng, mine.name, first)
	// Let the first append's NOTIFY, sent just after its commit, arrive
	// and wake the runners now rather than after the next insert.
	time.Sleep(100 * time.Millisecond)

	// An event inserted without a notification (the store's NOTIFY wakes
	// every runner of every instance that hears it).
	insertSilently(t, ctx, e)
	cp := lastEvent(t, ctx, e.pool)
	r.eng.WakeFor("other")
	waitFor(t, r.eng, all.name, cp)
	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := r.eng.WaitFor(wctx, mine.name, cp); err == nil {
		t.Fatal("a Selective projection was woken by an append to a stream of another type")
	}
	r.eng.WakeFor(testStreamType)
	waitFor(t, r.eng, mine.name, cp)
}

// TestOwnStoreNotificationsWakeNoRunner: a store notification that
// Config.Own says came from this process wakes no runner (the appends
// woke them in-process); another process's does.
func TestOwnStoreNotificationsWakeNoRunner(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	var own atomic.Bool
	proj := &recorder{name: "own"}
	r := start(t, ctx, e.pool, projection.Config{PollInterval: time.Hour, Own: func(uint32) bool { return own.Load() }}, proj)
	waitFor(t, r.eng, proj.name, appendEvents(t, ctx, e.store, 1).Checkpoint())
	time.Sleep(100 * time.Millisecond) // that append's own NOTIFY, heard and done with

	notify := func() {
		t.Helper()
		if _, err := e.pool.Exec(ctx, `SELECT pg_notify($1, '0')`, eventstore.NotifyChannel); err != nil {
			t.Fatal(err)
		}
	}
	own.Store(true)
	insertSilently(t, ctx, e)
	cp := lastEvent(t, ctx, e.pool)
	notify()
	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := r.eng.WaitFor(wctx, proj.name, cp); err == nil {
		t.Fatal("a notification of this process's own store woke the runner")
	}
	own.Store(false)
	notify()
	waitFor(t, r.eng, proj.name, cp)
}
