package projection_test

// Tests of Rebuild against a real PostgreSQL. The test projection, ledger,
// keeps a row per stream (events applied, last version) and a row per event
// (with an identity key, not the position, so that an event applied twice
// shows up as two rows instead of failing). Its read model can therefore be
// compared with a fold of the stored events, in SQL: a lost event is a
// missing row, a doubled one an extra row and a wrong count.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const ledgerSchema = `
	CREATE TABLE ledger_streams (
		stream_id    uuid   CONSTRAINT ledger_streams_key PRIMARY KEY,
		events       bigint NOT NULL CHECK (events > 0),
		last_version bigint NOT NULL
	);
	CREATE TABLE ledger_entries (
		id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		position  bigint NOT NULL,
		stream_id uuid   NOT NULL CONSTRAINT ledger_entries_stream REFERENCES ledger_streams (stream_id),
		version   bigint NOT NULL
	);
	CREATE INDEX ledger_entries_by_position ON ledger_entries (position);
	CREATE INDEX ledger_entries_by_stream ON ledger_entries (stream_id, version)`

// ledger is the test projection.
type ledger struct{}

// plainLedger has no bulk path: a rebuild replays it with Apply.
type plainLedger struct{ ledger }

func (ledger) Name() string     { return "ledger" }
func (ledger) Tables() []string { return []string{"ledger_streams", "ledger_entries"} }

func (ledger) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) ([]string, error) {
	var b pgx.Batch
	keys := make(map[string]struct{})
	for _, e := range events {
		b.Queue(`INSERT INTO ledger_streams (stream_id, events, last_version) VALUES ($1, 1, $2)
			ON CONFLICT (stream_id) DO UPDATE SET events = ledger_streams.events + 1, last_version = $2`, e.StreamID, e.Version)
		b.Queue(`INSERT INTO ledger_entries (position, stream_id, version) VALUES ($1, $2, $3)`, e.Position, e.StreamID, e.Version)
		keys[e.StreamID.String()] = struct{}{}
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return nil, err
	}
	return slices.Collect(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	}), nil
}

// bulkLedger offers a Bulk.
type bulkLedger struct{ ledger }

func (bulkLedger) NewBulk() projection.Bulk {
	return &ledgerBulk{streams: make(map[uuid.UUID][2]int64)}
}

type ledgerBulk struct{ streams map[uuid.UUID][2]int64 } // events, last version

func (b *ledgerBulk) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) error {
	rows := make([][]any, len(events))
	for i, e := range events {
		s := b.streams[e.StreamID]
		b.streams[e.StreamID] = [2]int64{s[0] + 1, e.Version}
		rows[i] = []any{e.Position, e.StreamID, e.Version}
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"ledger_entries"}, []string{"position", "stream_id", "version"}, pgx.CopyFromRows(rows))
	return err
}

func (b *ledgerBulk) Flush(ctx context.Context, tx pgx.Tx) error {
	var rows [][]any
	for id, s := range b.streams {
		rows = append(rows, []any{id, s[0], s[1]})
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"ledger_streams"}, []string{"stream_id", "events", "last_version"}, pgx.CopyFromRows(rows))
	return err
}

func newLedgerEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	if _, err := e.pool.Exec(testCtx(t), ledgerSchema); err != nil {
		t.Fatal(err)
	}
	return e
}

// ledgerDiff compares the ledger read model with a fold of the events up to
// the projection's stored checkpoint, and returns the differences ("" when
// equal).
func ledgerDiff(ctx context.Context, q eventstore.Querier) (string, error) {
	var diffs []string
	rows, err := q.Query(ctx, `
		WITH cp AS (SELECT transaction_id, position FROM projection_checkpoints WHERE name = 'ledger'),
		ev AS (SELECT e.* FROM events e, cp WHERE (e.transaction_id, e.position) <= (cp.transaction_id, cp.position)),
		entries AS (SELECT position, stream_id, version, count(*) AS n FROM ledger_entries GROUP BY 1, 2, 3)
		SELECT format('event %s: stored %s/%s, projected %s/%s x%s', coalesce(ev.position, en.position),
			ev.stream_id, ev.version, en.stream_id, en.version, coalesce(en.n, 0))
		FROM ev FULL JOIN entries en ON en.position = ev.position
		WHERE ev.position IS NULL OR en.position IS NULL OR en.n <> 1 OR en.stream_id <> ev.stream_id OR en.version <> ev.version
		UNION ALL
		SELECT format('stream %s: stored %s events to v%s, projected %s to v%s', coalesce(f.stream_id, s.stream_id), f.n, f.v, s.events, s.last_version)
		FROM (SELECT stream_id, count(*) AS n, max(version) AS v FROM ev GROUP BY 1) f
		FULL JOIN ledger_streams s ON s.stream_id = f.stream_id
		WHERE s.events IS DISTINCT FROM f.n OR s.last_version IS DISTINCT FROM f.v
		LIMIT 10`)
	if err != nil {
		return "", err
	}
	if diffs, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return "", err
	}
	return strings.Join(diffs, "\n"), nil
}

func checkLedger(t *testing.T, ctx context.Context, q eventstore.Querier) {
	t.Helper()
	diff, err := ledgerDiff(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if diff != "" {
		t.Fatalf("ledger read model differs from the fold of the events:\n%s", diff)
	}
}

// dumpLedger returns the read model's rows, ignoring the identity key.
func dumpLedger(t *testing.T, ctx context.Context, q eventstore.Querier) string {
	t.Helper()
	var s string
	err := q.QueryRow(ctx, `SELECT
		coalesce((SELECT string_agg(format('%s %s %s', stream_id, events, last_version), ',' ORDER BY stream_id) FROM ledger_streams), '') || '|' ||
		coalesce((SELECT string_agg(format('%s %s %s', position, stream_id, version), ',' ORDER BY position) FROM ledger_entries), '')`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// schemaShape lists the ledger tables' columns, indexes and constraints, by
// name and definition, and the schemas that exist besides the usual ones.
func schemaShape(t *testing.T, ctx context.Context, q eventstore.Querier) string {
	t.Helper()
	var s string
	err := q.QueryRow(ctx, `SELECT concat_ws(E'\n',
		(SELECT string_agg(format('%s.%s %s %s %s', table_name, column_name, data_type, is_nullable, is_identity), E'\n' ORDER BY table_name, ordinal_position)
		 FROM information_schema.columns WHERE table_schema = 'public' AND table_name LIKE 'ledger%'),
		(SELECT string_agg(indexdef, E'\n' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public' AND tablename LIKE 'ledger%'),
		(SELECT string_agg(format('%s %s %s', conname, conrelid::regclass, pg_get_constraintdef(oid)), E'\n' ORDER BY conname)
		 FROM pg_constraint WHERE conrelid IN ('ledger_streams'::regclass, 'ledger_entries'::regclass)),
		(SELECT string_agg(nspname, ' ' ORDER BY nspname) FROM pg_namespace WHERE nspname LIKE 'chronicle_rebuild%'))`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// bothPaths runs test for a rebuild through Apply and through a Bulk.
func bothPaths(t *testing.T, test func(t *testing.T, proj projection.Projection)) {
	t.Run("apply", func(t *testing.T) { test(t, plainLedger{}) })
	t.Run("bulk", func(t *testing.T) { test(t, bulkLedger{}) })
}

// TestRebuildEqualsLive: a rebuild, by Apply or by Bulk, produces exactly
// the read model the live runner built, under the same index and
// constraint names, and leaves no scratch schema behind.
func TestRebuildEqualsLive(t *testing.T) {
	bothPaths(t, func(t *testing.T, proj projection.Projection) {
		e := newLedgerEnv(t)
		ctx := testCtx(t)
		last := appendEvents(t, ctx, e.store, 700)
		run := start(t, ctx, e.pool, projection.Config{}, proj)
		waitFor(t, run.eng, "ledger", last.Checkpoint())
		run.stop(t)
		checkLedger(t, ctx, e.pool)
		liveRows, liveShape := dumpLedger(t, ctx, e.pool), schemaShape(t, ctx, e.pool)

		res, err := projection.Rebuild(ctx, e.pool, proj, projection.RebuildOptions{BatchSize: 64, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Events != 700 || res.Checkpoint != last.Checkpoint() {
			t.Errorf("rebuild read %d events up to %+v, want 700 up to %+v", res.Events, res.Checkpoint, last.Checkpoint())
		}
		if got := storedCheckpoint(t, ctx, e.pool, "ledger"); got != last.Checkpoint() {
			t.Errorf("stored checkpoint %+v, want %+v", got, last.Checkpoint())
		}
		checkLedger(t, ctx, e.pool)
		if got := dumpLedger(t, ctx, e.pool); got != liveRows {
			t.Errorf("rebuilt rows differ from the live ones")
		}
		if got := schemaShape(t, ctx, e.pool); got != liveShape {
			t.Errorf("rebuilt tables' shape:\n%s\nwant the live one's:\n%s", got, liveShape)
		}
	})
}

// TestRebuildWhileWriting: writers append from many goroutines and the live
// runner projects while a rebuild runs; after the swap the live runner
// carries on from the rebuilt checkpoint, and once it has caught up the read
// model equals the fold of every stored event: nothing lost, nothing
// applied twice. Every instance is told about the rebuild (OnRebuild).
func TestRebuildWhileWriting(t *testing.T) {
	bothPaths(t, func(t *testing.T, proj projection.Projection) {
		e := newLedgerEnv(t)
		ctx := testCtx(t)
		appendEvents(t, ctx, e.store, 2000)

		var rebuilt sync.Map // instance -> Update
		cfg := func(i int) projection.Config {
			return projection.Config{
				BatchSize: 50, PollInterval: 200 * time.Millisecond, LockRetryInterval: 100 * time.Millisecond,
				OnRebuild: func(u projection.Update) { rebuilt.Store(i, u) },
			}
		}
		// Two instances: one runs the projection, the other stands by.
		runs := []*running{start(t, ctx, e.pool, cfg(0), proj), start(t, ctx, e.openPool(t, 4), cfg(1), proj)}

		wctx, stopWriters := context.WithCancel(ctx)
		var (
			wg       sync.WaitGroup
			appended atomic.Int64
			failed   atomic.Value
		)
		for range 8 {
			wg.Go(func() {
				for wctx.Err() == nil {
					if _, err := tryAppendEvents(wctx, e.store, 3); err != nil {
						if wctx.Err() == nil {
							failed.Store(err)
						}
						return
					}
					appended.Add(3)
				}
			})
		}
		var res projection.RebuildResult
		var err error
		for range 2 { // a second rebuild right after the first, on the rebuilt tables
			res, err = projection.Rebuild(ctx, e.pool, proj, projection.RebuildOptions{BatchSize: 97, Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
		}
		atSwap := appended.Load()
		// Writers keep going a little after the swap, on the new tables.
		eventually(t, "appends after the swap", func() bool { return appended.Load() > atSwap+300 })
		stopWriters()
		wg.Wait()
		if err, _ := failed.Load().(error); err != nil {
			t.Fatal(err)
		}
		last := lastEvent(t, ctx, e.pool)
		for _, r := range runs {
			waitFor(t, r.eng, "ledger", last)
		}
		checkLedger(t, ctx, e.pool)
		for i := range runs {
			eventually(t, fmt.Sprintf("instance %d told of the last rebuild", i), func() bool {
				u, ok := rebuilt.Load(i)
				return ok && u.(projection.Update).Projection == "ledger" && u.(projection.Update).Checkpoint == res.Checkpoint
			})
		}
		t.Logf("rebuild read %d events; %d appended during the test", res.Events, appended.Load())
	})
}

// TestRebuildRefusesSecond: while one rebuild runs, a second of the same
// projection fails at once with ErrRebuildInProgress; the first completes.
func TestRebuildRefusesSecond(t *testing.T) {
	e := newLedgerEnv(t)
	ctx := testCtx(t)
	appendEvents(t, ctx, e.store, 300)
	inReplay, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	first := make(chan error, 1)
	go func() {
		_, err := projection.Rebuild(ctx, e.pool, bulkLedger{}, projection.RebuildOptions{
			BatchSize: 50, Logger: testLogger(t),
			Progress: func(projection.RebuildProgress) {
				once.Do(func() { close(inReplay); <-release })
			},
		})
		first <- err
	}()
	select {
	case <-inReplay:
	case err := <-first:
		t.Fatalf("first rebuild ended before its replay: %v", err)
	}
	_, err := projection.Rebuild(ctx, e.openPool(t, 2), bulkLedger{}, projection.RebuildOptions{Logger: testLogger(t)})
	if !errors.Is(err, projection.ErrRebuildInProgress) {
		t.Errorf("second rebuild: %v, want ErrRebuildInProgress", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first rebuild: %v", err)
	}
	checkLedger(t, ctx, e.pool)
}

// The crash test runs a rebuild in a child process (this test binary) and
// kills it mid-replay.
const crashEnv = "CHRONICLE_REBUILD_CRASH_DB"

// TestRebuildCrashHelper is the child: it rebuilds the ledger of the
// database in crashEnv, says "replaying" after its first batch and waits to
// be killed.
func TestRebuildCrashHelper(t *testing.T) {
	url := os.Getenv(crashEnv)
	if url == "" {
		t.Skip("the child process of TestRebuildCrash")
	}
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	_, err = projection.Rebuild(context.Background(), pool, bulkLedger{}, projection.RebuildOptions{
		BatchSize: 50,
		Progress: func(p projection.RebuildProgress) {
			if p.Phase == projection.PhaseReplay && p.Events > 0 {
				fmt.Println("replaying")
				select {}
			}
		},
	})
	t.Fatalf("rebuild returned %v", err)
}

// TestRebuildCrash: a rebuild killed mid-replay leaves the live read model
// and checkpoint as they were, and its scratch schema behind; the next
// rebuild drops that and succeeds.
func TestRebuildCrash(t *testing.T) {
	e := newLedgerEnv(t)
	ctx := testCtx(t)
	last := appendEvents(t, ctx, e.store, 500)
	run := start(t, ctx, e.pool, projection.Config{}, bulkLedger{})
	waitFor(t, run.eng, "ledger", last.Checkpoint())
	run.stop(t)
	before := dumpLedger(t, ctx, e.pool)

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRebuildCrashHelper$", "-test.v")
	cmd.Env = append(os.Environ(), crashEnv+"="+e.url)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	var seen []string
	for lines.Scan() && lines.Text() != "replaying" {
		seen = append(seen, lines.Text())
	}
	if lines.Text() != "replaying" {
		_ = cmd.Process.Kill()
		t.Fatalf("child ended before replaying: %s", strings.Join(seen, "\n"))
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	var scratch bool
	if err := e.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'chronicle_rebuild_ledger')`).Scan(&scratch); err != nil {
		t.Fatal(err)
	}
	if !scratch {
		t.Error("the killed rebuild left no scratch schema: the test did not kill it mid-rebuild")
	}
	if got := dumpLedger(t, ctx, e.pool); got != before {
		t.Error("the killed rebuild changed the live read model")
	}
	if got := storedCheckpoint(t, ctx, e.pool, "ledger"); got != last.Checkpoint() {
		t.Errorf("checkpoint after the killed rebuild %+v, want %+v", got, last.Checkpoint())
	}

	// The killed child's rebuild lock goes with its connection.
	eventually(t, "rerun after the crash", func() bool {
		_, err := projection.Rebuild(ctx, e.pool, bulkLedger{}, projection.RebuildOptions{BatchSize: 50, Logger: testLogger(t)})
		if errors.Is(err, projection.ErrRebuildInProgress) {
			return false
		}
		if err != nil {
			t.Fatalf("rerun: %v", err)
		}
		return true
	})
	checkLedger(t, ctx, e.pool)
	if got := dumpLedger(t, ctx, e.pool); got != before {
		t.Error("the rerun's read model differs from the live one")
	}
	if err := e.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'chronicle_rebuild_ledger')`).Scan(&scratch); err != nil {
		t.Fatal(err)
	}
	if scratch {
		t.Error("scratch schema left after a successful rebuild")
	}
}

// TestRebuildRefusesUnsupported: projections without Tables, and tables a
// swap could not carry over, are refused with ErrNotRebuildable before
// anything is created.
func TestRebuildRefusesUnsupported(t *testing.T) {
	e := newLedgerEnv(t)
	ctx := testCtx(t)
	if _, err := projection.Rebuild(ctx, e.pool, &recorder{name: "recorder"}, projection.RebuildOptions{}); !errors.Is(err, projection.ErrNotRebuildable) {
		t.Errorf("projection without Tables: %v, want ErrNotRebuildable", err)
	}
	for _, ddl := range []string{
		`CREATE VIEW ledger_view AS SELECT * FROM ledger_streams`,
		`CREATE TABLE ledger_notes (stream_id uuid REFERENCES ledger_streams (stream_id))`,
		`CREATE FUNCTION ledger_noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
		 CREATE TRIGGER ledger_noop BEFORE INSERT ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_noop()`,
		`ALTER TABLE ledger_entries ADD COLUMN seq bigserial`,
	} {
		if _, err := e.pool.Exec(ctx, ddl); err != nil {
			t.Fatal(err)
		}
		_, err := projection.Rebuild(ctx, e.pool, bulkLedger{}, projection.RebuildOptions{})
		if !errors.Is(err, projection.ErrNotRebuildable) {
			t.Errorf("after %q: %v, want ErrNotRebuildable", ddl, err)
		}
		for _, undo := range []string{`DROP VIEW IF EXISTS ledger_view`, `DROP TABLE IF EXISTS ledger_notes`,
			`DROP TRIGGER IF EXISTS ledger_noop ON ledger_entries`, `ALTER TABLE ledger_entries DROP COLUMN IF EXISTS seq`} {
			if _, err := e.pool.Exec(ctx, undo); err != nil {
				t.Fatal(err)
			}
		}
	}
}
