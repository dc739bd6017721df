package projection

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// sends counts what a connection sends to the server: each query or exec,
// and each batch (one pipeline, one round trip).
type sends struct{ n atomic.Int64 }

func (s *sends) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	s.n.Add(1)
	return ctx
}
func (s *sends) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (s *sends) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	s.n.Add(1)
	return ctx
}
func (s *sends) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (s *sends) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func TestBatchTx(t *testing.T) {
	t.Parallel()
	pool, url := pgtest.NewPool(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE written (n int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	cps, err := loadCheckpoints(ctx, pool, []string{"p"})
	if err != nil {
		t.Fatal(err)
	}
	at := cps["p"]
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	tracer := &sends{}
	cfg.Tracer = tracer
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	next := func(cp eventstore.Checkpoint) eventstore.Checkpoint {
		return eventstore.Checkpoint{TransactionID: cp.TransactionID + 1, Position: cp.Position + 1}
	}
	stored := func() eventstore.Checkpoint {
		t.Helper()
		cps, err := loadCheckpoints(ctx, pool, []string{"p"})
		if err != nil {
			t.Fatal(err)
		}
		return cps["p"]
	}
	written := func() int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM written`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// counted runs apply and commits in a batchTx, and returns how many
	// times it sent something, and commitAdvancing's error.
	counted := func(from eventstore.Checkpoint, apply func(tx pgx.Tx) error) (int64, error) {
		t.Helper()
		before := tracer.n.Load()
		tx := &batchTx{conn: conn}
		defer tx.Rollback(ctx) //nolint:errcheck
		if err := apply(tx); err != nil {
			t.Fatal(err)
		}
		err := tx.commitAdvancing(ctx, "p", from, next(from))
		return tracer.n.Load() - before, err
	}

	// Nothing applied: the advance and its commit in one round trip.
	n, err := counted(at, func(pgx.Tx) error { return nil })
	if err != nil || n != 1 || stored() != next(at) {
		t.Fatalf("an empty batch: %d sends, err %v, checkpoint %+v; want 1 send and %+v", n, err, stored(), next(at))
	}
	at = next(at)

	// A query first, then a batch: BEGIN travels with the query, the
	// advance with COMMIT: three round trips, where pgx's would take five.
	n, err = counted(at, func(tx pgx.Tx) error {
		var none int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM written`).Scan(&none); err != nil || none != 0 {
			return errors.Join(err, errors.New("want an empty table"))
		}
		var b pgx.Batch
		b.Queue(`INSERT INTO written VALUES (1)`)
		b.Queue(`INSERT INTO written VALUES (2)`)
		return tx.SendBatch(ctx, &b).Close()
	})
	if err != nil || n != 3 || stored() != next(at) || written() != 2 {
		t.Fatalf("a batch: %d sends, err %v, checkpoint %+v, %d rows; want 3 sends, %+v, 2 rows", n, err, stored(), next(at), written())
	}
	at = next(at)

	// Fenced (the checkpoint is not where the batch began): nothing of the
	// batch commits, applied or not.
	for _, apply := range []func(tx pgx.Tx) error{
		func(pgx.Tx) error { return nil },
		func(tx pgx.Tx) error { _, err := tx.Exec(ctx, `INSERT INTO written VALUES (3)`); return err },
	} {
		if _, err := counted(next(at), apply); !errors.Is(err, errFenced) {
			t.Fatalf("a batch from a moved checkpoint: err %v, want errFenced", err)
		}
		if stored() != at || written() != 2 {
			t.Fatalf("after a fenced batch: checkpoint %+v, %d rows; want %+v and 2 rows", stored(), written(), at)
		}
	}
	// The connection is usable after a fenced batch.
	if _, err := counted(at, func(tx pgx.Tx) error { _, err := tx.Exec(ctx, `INSERT INTO written VALUES (4)`); return err }); err != nil || written() != 3 {
		t.Fatalf("after a fenced batch, a batch: err %v, %d rows; want 3", err, written())
	}
}
