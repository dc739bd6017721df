package eventstore_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chronicle-es/chronicle/internal/database"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// TestAppendsCommitWithoutTheNotifyLock: concurrent appends never wait on
// PostgreSQL's notify lock (Lock:object, the AccessExclusiveLock on the
// pg_database object that the commit of every notifying transaction takes
// and holds through its WAL flush, which made appends commit one at a time).
// While 16 goroutines append, another connection samples pg_stat_activity
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
	sampler, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer sampler.Close(context.Background())

	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, appenders)
	for range appenders {
		wg.Go(func() {
			stream, version := uuid.New(), eventstore.NoStream
			for !stop.Load() {
				res, err := s.Append(ctx, req(stream, version, ev("Credited", payload{N: 1})))
				if err != nil {
					errs <- err
					return
				}
				version = res.ToVersion
			}
		})
	}
	var seen, waiting int
	for seen < wantSamples && len(errs) == 0 {
		var active, locked int
		err := sampler.QueryRow(ctx, `
			SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock' AND wait_event = 'object')
			FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()
				AND state = 'active' AND query LIKE '%INSERT INTO events%'`).Scan(&active, &locked)
		if err != nil {
			t.Fatal(err)
		}
		seen, waiting = seen+active, waiting+locked
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if waiting > 0 {
		t.Errorf("%d of %d sampled appending backends waited on Lock:object (the notify lock)", waiting, seen)
	}
}
