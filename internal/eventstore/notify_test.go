package eventstore_test

import (
	"context"
	"testing"

	"github.com/chronicle-es/chronicle/internal/database"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/google/uuid"
)

// TestAppendsCommitWithoutTheNotifyLock: concurrent appends never wait on
// PostgreSQL's notify lock (Lock:object, the AccessExclusiveLock on the
// pg_database object that the commit of every notifying transaction takes
// and holds through its WAL flush, which made appends commit one at a time).
// While 16 goroutines append (to new streams), another connection samples pg_stat_activity
// until it has seen enough appending backends at work; none may be waiting
// on that lock. With the NOTIFY in the append's statement most samples were.
func TestAppendsCommitWithoutTheNotifyLock(t *testing.T) {
	t.Parallel()
	const appenders, wantSamples = 16, 300
	url := pgtest.NewDatabase(t)
	ctx := testCtx(t)
	pool, err := database.Open(ctx, url, appenders)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := eventstore.New(pool)
	// Every append statement names the stream lock near its start:
	// pg_stat_activity keeps only a statement's first 1 kB
	// (track_activity_query_size), and a group's INSERT comes later.
	seen, waiting := pgtest.NotifyLockWaits(t, ctx, url, "%chronicle stream%", wantSamples, appenders, func(ctx context.Context) error {
		_, err := s.Append(ctx, req(uuid.New(), eventstore.NoStream, ev("Credited", payload{N: 1})))
		return err
	})
	if waiting > 0 {
		t.Errorf("%d of %d sampled appending backends waited on Lock:object (the notify lock)", waiting, seen)
	}
}
