package pgtest

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// NotifyLockWaits runs write on writers goroutines, each calling it again
// and again, while it samples pg_stat_activity of the database at url until
// it has seen want active backends (other than its own) running a statement
// whose text is LIKE pattern. It returns how many it saw and how many of
// those were waiting on Lock:object. An error of write fails t.
//
// Lock:object is how the wait for PostgreSQL's notify lock shows: the
// AccessExclusiveLock on the pg_database object that the commit of every
// transaction which sent a NOTIFY takes, cluster-wide, and holds through its
// WAL flush. A test asserts that none of its writers' statements waited on
// it. Nothing here is timed: the sampler runs as fast as its round trips.
func NotifyLockWaits(t testing.TB, ctx context.Context, url, pattern string, want, writers int, write func(context.Context) error) (seen, waiting int) {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	writeCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for writeCtx.Err() == nil {
				if err := write(writeCtx); err != nil && writeCtx.Err() == nil {
					errs <- err
					return
				}
			}
		})
	}
	for seen < want && len(errs) == 0 {
		var active, locked int
		err := conn.QueryRow(ctx, `
			SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock' AND wait_event = 'object')
			FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()
				AND state = 'active' AND query LIKE $1`, pattern).Scan(&active, &locked)
		if err != nil {
			stop()
			wg.Wait()
			t.Fatal(err)
		}
		seen, waiting = seen+active, waiting+locked
	}
	stop()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return seen, waiting
}
