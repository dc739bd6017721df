package pgtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// HoldTransactionID opens a connection to url, begins a transaction and
// gives it a transaction id, which holds the transaction-id horizon
// (pg_snapshot_xmin) of the whole cluster back until release is called (at
// the latest when t ends): projections, in every database of the cluster,
// cannot read events committed meanwhile. Keep holds short; other tests
// share the cluster.
func HoldTransactionID(t testing.TB, url string) (release func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("pgtest: hold a transaction id: %v", err)
	}
	if _, err := conn.Exec(ctx, `BEGIN; SELECT pg_current_xact_id()`); err != nil {
		_ = conn.Close(ctx)
		t.Fatalf("pgtest: hold a transaction id: %v", err)
	}
	done := false
	release = func() {
		if done {
			return
		}
		done = true
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// Closing the connection ends (rolls back) the transaction.
		if err := conn.Close(ctx); err != nil {
			t.Errorf("pgtest: release the transaction id: %v", err)
		}
	}
	t.Cleanup(release)
	return release
}
