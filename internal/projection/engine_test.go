package projection_test

// Tests of the projection engine against a real PostgreSQL: a small test
// projection records every event it applies in its own table, keyed by
// position, so applying an event twice fails loudly and a skipped event shows
// up as a missing row. Every test gets its own migrated database (pgtest).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/database"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	testStreamType = "test"
	// waitLimit bounds every wait for a projection: the transaction-id
	// horizon is cluster-wide, so other tests' open transactions may hold
	// projections back for a while.
	waitLimit = 20 * time.Second
)

// env is one test's database.
type env struct {
	pool  *pgxpool.Pool
	url   string
	store *eventstore.Store
}

func newEnv(t *testing.T) *env {
	t.Helper()
	t.Parallel()
	pool, url := pgtest.NewPool(t)
	ctx := testCtx(t)
	_, err := pool.Exec(ctx, `
		CREATE TABLE applied (
			seq            bigserial NOT NULL,
			projection     text      NOT NULL,
			position       bigint    NOT NULL,
			transaction_id bigint    NOT NULL,
			stream_id      uuid      NOT NULL,
			version        bigint    NOT NULL,
			PRIMARY KEY (projection, position)
		);
		CREATE TABLE apply_counts (
			projection text   PRIMARY KEY,
			events     bigint NOT NULL,
			batches    bigint NOT NULL
		)`)
	if err != nil {
		t.Fatal(err)
	}
	return &env{pool: pool, url: url, store: eventstore.New(pool)}
}

// openPool opens another pool on the test's database (another "instance").
func (e *env) openPool(t *testing.T, conns int32) *pgxpool.Pool {
	t.Helper()
	pool, err := database.Open(context.Background(), e.url, conns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// testLogger logs to t until the test has finished.
func testLogger(t *testing.T) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

var _ io.Writer = (*testWriter)(nil)

// recorder is the test projection. Each event it applies becomes a row of
// applied (PRIMARY KEY (projection, position)); apply_counts counts events
// and batches in the same transaction. The Go counters count attempts,
// including batches that were rolled back.
type recorder struct {
	name string
	// hook, when set, applies the batch instead of the default: it must call
	// write for the events it wants recorded. batch counts Apply calls of this
	// instance from 1.
	hook func(ctx context.Context, tx pgx.Tx, batch int64, events []eventstore.RecordedEvent, write func([]eventstore.RecordedEvent) error) error

	batches atomic.Int64 // Apply calls
	events  atomic.Int64 // events written (committed or not)
}

func (p *recorder) Name() string { return p.name }

func (p *recorder) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) ([]string, error) {
	n := p.batches.Add(1)
	if len(events) == 0 {
		return nil, errors.New("Apply called with no events")
	}
	write := func(evs []eventstore.RecordedEvent) error {
		if len(evs) == 0 {
			return nil
		}
		positions := make([]int64, len(evs))
		txids := make([]int64, len(evs))
		streams := make([]uuid.UUID, len(evs))
		versions := make([]int64, len(evs))
		for i, e := range evs {
			positions[i], txids[i], streams[i], versions[i] = e.Position, int64(e.TransactionID), e.StreamID, e.Version
		}
		if _, err := tx.Exec(ctx, `INSERT INTO applied (projection, position, transaction_id, stream_id, version)
			SELECT $1, p, x, s, v FROM unnest($2::bigint[], $3::bigint[], $4::uuid[], $5::bigint[]) WITH ORDINALITY AS u(p, x, s, v, o)
			ORDER BY o`, p.name, positions, txids, streams, versions); err != nil {
			return err
		}
		p.events.Add(int64(len(evs)))
		return nil
	}
	var err error
	if p.hook != nil {
		err = p.hook(ctx, tx, n, events, write)
	} else {
		err = write(events)
	}
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO apply_counts (projection, events, batches) VALUES ($1, $2, 1)
		ON CONFLICT (projection) DO UPDATE SET events = apply_counts.events + $2, batches = apply_counts.batches + 1`,
		p.name, len(events)); err != nil {
		return nil, err
	}
	keys := make(map[string]struct{})
	for _, e := range events {
		keys[e.StreamID.String()] = struct{}{}
	}
	return slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	}), nil
}

// running is an Engine whose Run is in progress.
type running struct {
	eng    *projection.Engine
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// start runs an engine with projections until parent ends or stop is called
// (at the latest at the end of the test).
func start(t *testing.T, parent context.Context, pool *pgxpool.Pool, cfg projection.Config, projs ...projection.Projection) *running {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	eng, err := projection.NewEngine(pool, cfg, projs...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(parent)
	r := &running{eng: eng, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- eng.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels Run and waits for it to return; Run must return the context's
// error.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
			if !errors.Is(r.err, context.Canceled) {
				t.Errorf("Run returned %v, want context.Canceled", r.err)
			}
		case <-time.After(waitLimit):
			t.Errorf("Run did not return %v after its context was cancelled", waitLimit)
		}
	})
}

// waitDone waits for Run to return by itself (its parent context ended).
func (r *running) waitDone(t *testing.T) {
	t.Helper()
	select {
	case err := <-r.done:
		r.once.Do(func() { r.err = err })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	case <-time.After(waitLimit):
		t.Fatalf("Run did not return %v after its context was cancelled", waitLimit)
	}
}

// waitFor waits (bounded) until eng's projection name has passed target.
func waitFor(t *testing.T, eng *projection.Engine, name string, target eventstore.Checkpoint) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := eng.WaitFor(ctx, name, target); err != nil {
		cp, _ := eng.Checkpoint(name)
		t.Fatalf("WaitFor(%s, %+v): %v (engine knows %+v)", name, target, err, cp)
	}
}

// eventually polls cond until it holds or the wait limit passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, waitLimit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func eventData(n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		b, _ := json.Marshal(map[string]int{"i": i})
		out[i] = eventstore.EventData{Type: "Tested", SchemaVersion: 1, Data: b}
	}
	return out
}

// appendEvents appends n events through the store, 1-3 per append, spread
// over a few streams, and returns the last append's result.
func appendEvents(t *testing.T, ctx context.Context, store *eventstore.Store, n int) eventstore.AppendResult {
	t.Helper()
	res, err := tryAppendEvents(ctx, store, n)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func tryAppendEvents(ctx context.Context, store *eventstore.Store, n int) (eventstore.AppendResult, error) {
	streams := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	var last eventstore.AppendResult
	for i := 0; n > 0; i++ {
		k := min(1+i%3, n)
		res, err := store.Append(ctx, eventstore.AppendRequest{
			StreamID: streams[i%len(streams)], StreamType: testStreamType,
			ExpectedVersion: eventstore.Any, Events: eventData(k),
		})
		if err != nil {
			return last, err
		}
		last, n = res, n-k
	}
	return last, nil
}

// rawInsert inserts one event into stream within tx the way the store does
// (the streams row moves with it) and returns its position.
// insertSilently commits one event of a new stream with raw SQL: no
// notification, no in-process wake.
func insertSilently(t *testing.T, ctx context.Context, e *env) {
	t.Helper()
	tx, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rawInsert(ctx, tx, uuid.New()); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

func rawInsert(ctx context.Context, tx pgx.Tx, stream uuid.UUID) (int64, error) {
	var pos int64
	err := tx.QueryRow(ctx, `
		WITH s AS (
			INSERT INTO streams (stream_id, stream_type, version) VALUES ($1, $2, 1)
			ON CONFLICT (stream_id) DO UPDATE SET version = streams.version + 1, updated_at = now()
			RETURNING version
		)
		INSERT INTO events (event_id, stream_id, stream_type, version, type, data)
		SELECT $3, $1, $2, s.version, 'Raw', '{}' FROM s
		RETURNING position`, stream, testStreamType, uuid.Must(uuid.NewV7())).Scan(&pos)
	return pos, err
}

func parseXid(t testing.TB, s string) uint64 {
	t.Helper()
	x, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// lastEvent is the checkpoint of the last committed event in read order: the
// point a projection must reach to have applied everything.
func lastEvent(t *testing.T, ctx context.Context, q eventstore.Querier) eventstore.Checkpoint {
	t.Helper()
	var (
		txid string
		cp   eventstore.Checkpoint
	)
	err := q.QueryRow(ctx, `SELECT transaction_id::text, position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1`).Scan(&txid, &cp.Position)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventstore.Checkpoint{}
	}
	if err != nil {
		t.Fatal(err)
	}
	cp.TransactionID = parseXid(t, txid)
	return cp
}

// storedCheckpoint reads name's checkpoint row.
func storedCheckpoint(t *testing.T, ctx context.Context, q eventstore.Querier, name string) eventstore.Checkpoint {
	t.Helper()
	var (
		txid string
		cp   eventstore.Checkpoint
	)
	if err := q.QueryRow(ctx, `SELECT transaction_id::text, position FROM projection_checkpoints WHERE name = $1`, name).Scan(&txid, &cp.Position); err != nil {
		t.Fatalf("checkpoint of %s: %v", name, err)
	}
	cp.TransactionID = parseXid(t, txid)
	return cp
}

type pair struct{ tx, pos int64 }

// consistency checks, in one snapshot, that projection name's applied rows
// are exactly the committed events up to its stored checkpoint, applied in
// (transaction_id, position) order: nothing missing, nothing extra, nothing
// twice, and that apply_counts agrees. It returns the checkpoint and the
// number of applied events.
func consistency(ctx context.Context, pool *pgxpool.Pool, name string) (eventstore.Checkpoint, int, error) {
	var cp eventstore.Checkpoint
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return cp, 0, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	var txid string
	if err := tx.QueryRow(ctx, `SELECT transaction_id::text, position FROM projection_checkpoints WHERE name = $1`, name).Scan(&txid, &cp.Position); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			txid = "0"
		} else {
			return cp, 0, err
		}
	}
	if cp.TransactionID, err = strconv.ParseUint(txid, 10, 64); err != nil {
		return cp, 0, err
	}
	collect := func(sql string, args ...any) ([]pair, error) {
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(r pgx.CollectableRow) (pair, error) {
			var p pair
			err := r.Scan(&p.tx, &p.pos)
			return p, err
		})
	}
	want, err := collect(`SELECT transaction_id::text::bigint, position FROM events
		WHERE (transaction_id, position) <= ($1::text::xid8, $2) ORDER BY transaction_id, position`, txid, cp.Position)
	if err != nil {
		return cp, 0, err
	}
	got, err := collect(`SELECT transaction_id, position FROM applied WHERE projection = $1 ORDER BY seq`, name)
	if err != nil {
		return cp, 0, err
	}
	if !slices.Equal(got, want) {
		return cp, 0, fmt.Errorf("projection %s at %+v: applied %s; want the %d events up to the checkpoint",
			name, cp, diffPairs(got, want), len(want))
	}
	var counted int64
	if err := tx.QueryRow(ctx, `SELECT coalesce((SELECT events FROM apply_counts WHERE projection = $1), 0)`, name).Scan(&counted); err != nil {
		return cp, 0, err
	}
	if counted != int64(len(want)) {
		return cp, 0, fmt.Errorf("projection %s: apply_counts says %d events, %d applied", name, counted, len(want))
	}
	return cp, len(want), nil
}

// diffPairs describes how got differs from want.
func diffPairs(got, want []pair) string {
	wantSet := make(map[int64]bool, len(want))
	for _, p := range want {
		wantSet[p.pos] = true
	}
	gotSet := make(map[int64]int, len(got))
	var extra, twice, missing []int64
	for _, p := range got {
		gotSet[p.pos]++
		if gotSet[p.pos] == 2 {
			twice = append(twice, p.pos)
		}
		if !wantSet[p.pos] {
			extra = append(extra, p.pos)
		}
	}
	for _, p := range want {
		if gotSet[p.pos] == 0 {
			missing = append(missing, p.pos)
		}
	}
	s := fmt.Sprintf("%d events (missing positions %v, extra %v, twice %v)", len(got), head(missing), head(extra), head(twice))
	if len(missing)+len(extra)+len(twice) == 0 {
		s += " in the wrong order"
	}
	return s
}

func head(s []int64) []int64 { return s[:min(len(s), 10)] }

// checkConsistent is consistency as a test assertion.
func checkConsistent(t *testing.T, ctx context.Context, pool *pgxpool.Pool, name string) (eventstore.Checkpoint, int) {
	t.Helper()
	cp, n, err := consistency(ctx, pool, name)
	if err != nil {
		t.Fatal(err)
	}
	return cp, n
}

// checkComplete asserts that name has applied every committed event once,
// in order, and that its checkpoint is the last event's.
func checkComplete(t *testing.T, ctx context.Context, pool *pgxpool.Pool, name string) int {
	t.Helper()
	cp, n := checkConsistent(t, ctx, pool, name)
	if last := lastEvent(t, ctx, pool); cp != last {
		t.Fatalf("checkpoint of %s is %+v, the last event is at %+v", name, cp, last)
	}
	var total int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if n != total {
		t.Fatalf("projection %s applied %d events, %d are stored", name, n, total)
	}
	return n
}

// updates collects OnUpdate calls.
type updates struct {
	mu   sync.Mutex
	list []projection.Update
}

func (u *updates) add(up projection.Update) {
	u.mu.Lock()
	defer u.mu.Unlock()
	up.Keys = slices.Clone(up.Keys)
	u.list = append(u.list, up)
}

func (u *updates) get() []projection.Update {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.list)
}

// TestNeverSkips is the core requirement: while many writers append through
// the store and others hold transactions open (taking their transaction id
// early or late) and roll some back, the projection applies exactly the
// committed events, each once, in (transaction_id, position) order.
func TestNeverSkips(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	writers := e.openPool(t, 24)
	store := eventstore.New(writers)

	const (
		name        = "never-skips"
		appenders   = 16
		rawWriters  = 4
		totalEvents = 1500
	)
	var ups updates
	proj := &recorder{name: name}
	eng := start(t, ctx, e.pool, projection.Config{BatchSize: 7, PollInterval: 50 * time.Millisecond, OnUpdate: ups.add}, proj)

	streams := make([]uuid.UUID, 40)
	for i := range streams {
		streams[i] = uuid.New()
	}
	var (
		budget    atomic.Int64
		appending sync.WaitGroup
		stop      = make(chan struct{})
		others    sync.WaitGroup
	)
	budget.Store(totalEvents)
	for g := range appenders {
		appending.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(g), uint64(time.Now().UnixNano())))
			for {
				k := 1 + rnd.IntN(3)
				if budget.Add(int64(-k)) < 0 {
					return
				}
				req := eventstore.AppendRequest{
					StreamID: streams[rnd.IntN(len(streams))], StreamType: testStreamType,
					ExpectedVersion: eventstore.Any, Events: eventData(k),
				}
				switch rnd.IntN(5) {
				case 0:
					req.StreamID, req.ExpectedVersion = uuid.New(), eventstore.NoStream
				case 1:
					req.IdempotencyKey, req.Command = uuid.NewString(), "Test"
				}
				if _, err := store.Append(ctx, req); err != nil {
					t.Errorf("append: %v", err)
					return
				}
			}
		})
	}

	// Raw writers hold transactions open for 10-300 ms: some take their
	// transaction id first and insert late (low transaction id, high
	// position), others insert first and commit late; a quarter roll back.
	var (
		mu         sync.Mutex
		rolledBack []int64
		committed  int
		earlyXact  int
	)
	for g := range rawWriters {
		others.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(100+g), uint64(time.Now().UnixNano())))
			for {
				select {
				case <-stop:
					return
				default:
				}
				hold := time.Duration(10+rnd.IntN(291)) * time.Millisecond
				early := rnd.IntN(2) == 0
				rollback := rnd.IntN(4) == 0
				err := func() error {
					tx, err := writers.Begin(ctx)
					if err != nil {
						return err
					}
					defer tx.Rollback(ctx) //nolint:errcheck
					if early {
						if _, err := tx.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
							return err
						}
						time.Sleep(hold)
					}
					stream := uuid.New()
					var positions []int64
					for range 1 + rnd.IntN(3) {
						pos, err := rawInsert(ctx, tx, stream)
						if err != nil {
							return err
						}
						positions = append(positions, pos)
					}
					if !early {
						time.Sleep(hold)
					}
					mu.Lock()
					defer mu.Unlock()
					if rollback {
						rolledBack = append(rolledBack, positions...)
						return tx.Rollback(ctx)
					}
					committed++
					if early {
						earlyXact++
					}
					return tx.Commit(ctx)
				}()
				if err != nil {
					t.Errorf("raw writer: %v", err)
					return
				}
			}
		})
	}

	// Meanwhile the read model must be consistent at every moment: exactly
	// the events up to its checkpoint.
	others.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(25 * time.Millisecond):
			}
			if _, _, err := consistency(ctx, e.pool, name); err != nil {
				t.Errorf("while writing: %v", err)
				return
			}
		}
	})

	appending.Wait()
	// Let the raw writers finish at least a few rounds.
	eventually(t, "raw writers committed and rolled back", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return committed >= 8 && len(rolledBack) >= 2 && earlyXact >= 2
	})
	close(stop)
	others.Wait()
	if t.Failed() {
		t.FailNow()
	}

	last := lastEvent(t, ctx, e.pool)
	waitFor(t, eng.eng, name, last)
	n := checkComplete(t, ctx, e.pool, name)
	if n < totalEvents-3 {
		t.Fatalf("only %d events", n)
	}
	var leaked int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM applied WHERE position = ANY($1)`, rolledBack).Scan(&leaked); err != nil {
		t.Fatal(err)
	}
	if leaked != 0 {
		t.Fatalf("%d rolled-back events were applied", leaked)
	}
	// Each stream was applied in version order, none skipped.
	rows, err := e.pool.Query(ctx, `SELECT stream_id, version FROM applied WHERE projection = $1 ORDER BY seq`, name)
	if err != nil {
		t.Fatal(err)
	}
	streamAt := make(map[uuid.UUID]int64)
	var (
		stream  uuid.UUID
		version int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&stream, &version}, func() error {
		if version != streamAt[stream]+1 {
			return fmt.Errorf("stream %s: version %d applied after version %d", stream, version, streamAt[stream])
		}
		streamAt[stream] = version
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := proj.events.Load(); got != int64(n) {
		t.Fatalf("the projection wrote %d events, %d are stored", got, n)
	}
	if b := proj.batches.Load(); b < int64(n/7) {
		t.Fatalf("%d batches for %d events of batch size 7", b, n)
	}

	// OnUpdate saw every batch, in order, ending at the last event.
	eventually(t, "OnUpdate of the last batch", func() bool {
		l := ups.get()
		return len(l) > 0 && l[len(l)-1].Checkpoint == last
	})
	l := ups.get()
	if int64(len(l)) != proj.batches.Load() {
		t.Fatalf("%d updates for %d batches", len(l), proj.batches.Load())
	}
	for i, up := range l {
		if up.Projection != name || len(up.Keys) == 0 {
			t.Fatalf("update %d: %+v", i, up)
		}
		if i > 0 && up.Checkpoint.Compare(l[i-1].Checkpoint) <= 0 {
			t.Fatalf("update %d at %+v does not follow %+v", i, up.Checkpoint, l[i-1].Checkpoint)
		}
	}
	t.Logf("%d events (%d raw transactions committed, %d raw events rolled back) in %d batches",
		n, committed, len(rolledBack), proj.batches.Load())
}

// TestCrashSafety: whatever happens to a batch half-way (an error, the
// engine's context cancelled, its connection killed), every event ends up
// applied exactly once, by the same engine or by a fresh one.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	const (
		name      = "crash"
		batchSize = 7
		before    = 40 // events before the first engine starts
		afterward = 20 // events appended before the second engine starts
		badBatch  = 3
	)
	type outcome int
	const (
		continues   outcome = iota // the first engine goes on and applies everything
		stopsAfter                 // Run returns, the bad batch committed
		stopsBefore                // Run returns, the bad batch rolled back
	)
	tests := []struct {
		name string
		// bad applies the bad batch; cancel cancels the engine's context.
		bad  func(t *testing.T, ctx context.Context, pool *pgxpool.Pool, tx pgx.Tx, events []eventstore.RecordedEvent, write func([]eventstore.RecordedEvent) error, cancel func()) error
		want outcome
	}{
		{
			name: "ApplyFailsHalfWay",
			bad: func(_ *testing.T, _ context.Context, _ *pgxpool.Pool, _ pgx.Tx, events []eventstore.RecordedEvent, write func([]eventstore.RecordedEvent) error, _ func()) error {
				if err := write(events[:len(events)/2]); err != nil {
					return err
				}
				return errors.New("boom half-way through the batch")
			},
			want: continues,
		},
		{
			name: "CancelledHalfWay",
			bad: func(_ *testing.T, _ context.Context, _ *pgxpool.Pool, _ pgx.Tx, events []eventstore.RecordedEvent, write func([]eventstore.RecordedEvent) error, cancel func()) error {
				if err := write(events[:len(events)/2]); err != nil {
					return err
				}
				cancel()
				time.Sleep(20 * time.Millisecond)
				return write(events[len(events)/2:])
			},
			want: stopsAfter,
		},
		{
			name: "CancelledHalfWayThenFails",
			bad: func(_ *testing.T, _ context.Context, _ *pgxpool.Pool, _ pgx.Tx, events []eventstore.RecordedEvent, write func([]eventstore.RecordedEvent) error, cancel func()) error {
				if err := write(events[:len(events)/2]); err != nil {
					return err
				}
				cancel()
				return errors.New("crash after cancel")
			},
			want: stopsBefore,
		},
		{
			name: "ConnectionKilledHalfWay",
			bad: func(t *testing.T, ctx context.Context, pool *pgxpool.Pool, tx pgx.Tx, events []eventstore.RecordedEvent, write func([]eventstore.RecordedEvent) error, _ func()) error {
				var pid int
				if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
					return err
				}
				if err := write(events[:len(events)/2]); err != nil {
					return err
				}
				var killed bool
				if err := pool.QueryRow(ctx, `SELECT pg_terminate_backend($1, 5000)`, pid).Scan(&killed); err != nil || !killed {
					t.Errorf("pg_terminate_backend(%d) = %v, %v", pid, killed, err)
				}
				err := write(events[len(events)/2:])
				if err == nil {
					t.Errorf("write after the connection was killed succeeded")
				}
				return err
			},
			want: continues,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := testCtx(t)
			appendEvents(t, ctx, e.store, before)

			runCtx, cancelRun := context.WithCancel(ctx)
			defer cancelRun()
			var (
				badAttempts atomic.Int64
				badIndex    atomic.Int64                               // which Apply call was the bad one
				badBatchAt  atomic.Pointer[[]eventstore.RecordedEvent] // the bad batch's events
				nextBatchAt atomic.Pointer[[]eventstore.RecordedEvent] // the batch after it
				prevLast    atomic.Pointer[eventstore.Checkpoint]      // the last event before it
			)
			first := &recorder{name: name}
			first.hook = func(bctx context.Context, tx pgx.Tx, batch int64, events []eventstore.RecordedEvent, write func([]eventstore.RecordedEvent) error) error {
				// The bad batch is the first from the third on that can fail
				// half-way (the cluster-wide horizon may cut batches short).
				bad := badIndex.Load()
				switch {
				case bad == 0 && batch >= badBatch && len(events) >= 2:
					badIndex.Store(batch)
					badAttempts.Add(1)
					badBatchAt.Store(&events)
					return tc.bad(t, bctx, e.pool, tx, events, write, cancelRun)
				case bad != 0 && batch == bad+1:
					nextBatchAt.Store(&events)
				}
				if err := write(events); err != nil {
					return err
				}
				if bad == 0 {
					cp := events[len(events)-1].Checkpoint()
					prevLast.Store(&cp)
				}
				return nil
			}
			r := start(t, runCtx, e.pool, projection.Config{BatchSize: batchSize, PollInterval: 50 * time.Millisecond}, first)

			switch tc.want {
			case continues:
				last := lastEvent(t, ctx, e.pool)
				waitFor(t, r.eng, name, last)
				checkComplete(t, ctx, e.pool, name)
				if badAttempts.Load() != 1 {
					t.Fatalf("bad batch attempted %d times", badAttempts.Load())
				}
				// The batch after the failed one is its retry, from the same
				// checkpoint.
				bad, next := *badBatchAt.Load(), nextBatchAt.Load()
				if next == nil || (*next)[0].Position != bad[0].Position {
					t.Fatalf("the failed batch (from position %d) was not retried next", bad[0].Position)
				}
				r.stop(t)
			case stopsAfter, stopsBefore:
				r.waitDone(t)
				cp, _ := checkConsistent(t, ctx, e.pool, name)
				bad := *badBatchAt.Load()
				want := bad[len(bad)-1].Checkpoint() // the batch was finished
				if tc.want == stopsBefore {
					want = *prevLast.Load() // the batch was rolled back
				}
				if cp != want {
					t.Fatalf("checkpoint after the crash %+v, want %+v", cp, want)
				}
				if first.batches.Load() != badIndex.Load() {
					t.Fatalf("%d batches after the crash, the bad one was batch %d", first.batches.Load(), badIndex.Load())
				}
			}
			_, applied := checkConsistent(t, ctx, e.pool, name)

			// A fresh engine picks up exactly where the checkpoint is.
			appendEvents(t, ctx, e.store, afterward)
			second := &recorder{name: name}
			r2 := start(t, ctx, e.pool, projection.Config{BatchSize: batchSize, PollInterval: 50 * time.Millisecond}, second)
			waitFor(t, r2.eng, name, lastEvent(t, ctx, e.pool))
			n := checkComplete(t, ctx, e.pool, name)
			if n != before+afterward {
				t.Fatalf("%d events applied, want %d", n, before+afterward)
			}
			if got := second.events.Load(); got != int64(n-applied) {
				t.Fatalf("the fresh engine applied %d events, want %d", got, n-applied)
			}
			r2.stop(t)
		})
	}
}

// TestOneActiveRunner: two engines (two instances) run the same projection;
// only one applies batches, every event is applied once, and when the
// active one stops the other takes over.
func TestOneActiveRunner(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	const name = "single"
	cfg := projection.Config{BatchSize: 5, PollInterval: 50 * time.Millisecond, LockRetryInterval: 100 * time.Millisecond}
	pa, pb := &recorder{name: name}, &recorder{name: name}
	ra := start(t, ctx, e.pool, cfg, pa)
	rb := start(t, ctx, e.openPool(t, 4), cfg, pb)

	// Append while both run, a little at a time.
	for range 20 {
		appendEvents(t, ctx, e.store, 3)
		time.Sleep(5 * time.Millisecond)
	}
	last := lastEvent(t, ctx, e.pool)
	waitFor(t, ra.eng, name, last)
	waitFor(t, rb.eng, name, last) // the standby knows too
	checkComplete(t, ctx, e.pool, name)

	active, standby, pActive, pStandby := ra, rb, pa, pb
	if pb.batches.Load() > 0 {
		active, standby, pActive, pStandby = rb, ra, pb, pa
	}
	if pActive.batches.Load() == 0 || pStandby.batches.Load() != 0 {
		t.Fatalf("batches applied: %d and %d; want exactly one active instance", pa.batches.Load(), pb.batches.Load())
	}
	var locks int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
		WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()`).Scan(&locks); err != nil {
		t.Fatal(err)
	}
	if locks != 1 {
		t.Fatalf("%d advisory locks held, want 1", locks)
	}

	// Takeover: the active instance goes away, its lock with it.
	activeBatches := pActive.batches.Load()
	active.stop(t)
	res := appendEvents(t, ctx, e.store, 12)
	waitFor(t, standby.eng, name, res.Checkpoint())
	checkComplete(t, ctx, e.pool, name)
	if pStandby.batches.Load() == 0 {
		t.Fatal("the standby did not take over")
	}
	if pActive.batches.Load() != activeBatches {
		t.Fatal("the stopped instance applied batches")
	}
	if got := pa.events.Load() + pb.events.Load(); got != 72 {
		t.Fatalf("the instances wrote %d events, want 72", got)
	}
}

// TestFencing: when the checkpoint moves under a runner (as if another
// runner had applied those events), the runner's batch is rolled back and it
// continues from the stored checkpoint instead of applying events twice.
func TestFencing(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	const name = "fenced"
	appendEvents(t, ctx, e.store, 20)

	blocked := make(chan []eventstore.RecordedEvent, 1)
	release := make(chan struct{})
	var ups updates
	p := &recorder{name: name}
	p.hook = func(ctx context.Context, tx pgx.Tx, batch int64, events []eventstore.RecordedEvent, write func([]eventstore.RecordedEvent) error) error {
		if batch == 2 {
			blocked <- events
			select {
			case <-release:
			case <-time.After(waitLimit):
				return errors.New("not released")
			}
		}
		return write(events)
	}
	r := start(t, ctx, e.pool, projection.Config{BatchSize: 5, PollInterval: 50 * time.Millisecond, OnUpdate: ups.add}, p)

	var fenced []eventstore.RecordedEvent
	select {
	case fenced = <-blocked:
	case <-time.After(waitLimit):
		t.Fatal("second batch not reached")
	}
	moved := fenced[len(fenced)-1].Checkpoint()
	tag, err := e.pool.Exec(ctx, `UPDATE projection_checkpoints SET transaction_id = $2::text::xid8, position = $3 WHERE name = $1`,
		name, strconv.FormatUint(moved.TransactionID, 10), moved.Position)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("move checkpoint: %v, %v", tag, err)
	}
	close(release)

	res := appendEvents(t, ctx, e.store, 10)
	waitFor(t, r.eng, name, res.Checkpoint())

	// The applied rows are everything but the fenced batch, each once.
	rows, err := e.pool.Query(ctx, `SELECT position FROM applied WHERE projection = $1 ORDER BY seq`, name)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	rows, err = e.pool.Query(ctx, `SELECT position FROM events ORDER BY transaction_id, position`)
	if err != nil {
		t.Fatal(err)
	}
	all, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	want := slices.DeleteFunc(slices.Clone(all), func(pos int64) bool {
		return slices.ContainsFunc(fenced, func(e eventstore.RecordedEvent) bool { return e.Position == pos })
	})
	if !slices.Equal(got, want) {
		t.Fatalf("applied positions %v\nwant %v (all but the fenced batch %d..%d)", got, want, fenced[0].Position, fenced[len(fenced)-1].Position)
	}
	if cp := storedCheckpoint(t, ctx, e.pool, name); cp != lastEvent(t, ctx, e.pool) {
		t.Fatalf("checkpoint %+v, last event %+v", cp, lastEvent(t, ctx, e.pool))
	}
	for _, up := range ups.get() {
		if up.Checkpoint == moved {
			t.Fatalf("OnUpdate announced the fenced batch: %+v", up)
		}
	}
	if p.events.Load() != int64(len(all)) {
		t.Fatalf("%d events written (including the rolled-back batch), want %d", p.events.Load(), len(all))
	}
}

// TestWaitFor covers read-your-writes waits and OnUpdate.
func TestWaitFor(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	const name = "waited"
	var ups updates
	p := &recorder{name: name}
	eng, err := projection.NewEngine(e.pool, projection.Config{PollInterval: 50 * time.Millisecond, OnUpdate: ups.add, Logger: testLogger(t)}, p)
	if err != nil {
		t.Fatal(err)
	}
	done, cancelled := context.WithCancel(context.Background())
	cancelled()

	// Before Run: unknown names fail, the zero checkpoint is passed.
	if err := eng.WaitFor(ctx, "nope", eventstore.Checkpoint{}); err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("WaitFor of an unknown projection: %v", err)
	}
	if _, ok := eng.Checkpoint("nope"); ok {
		t.Fatal("Checkpoint of an unknown projection reports ok")
	}
	if err := eng.WaitFor(done, name, eventstore.Checkpoint{}); err != nil {
		t.Fatalf("WaitFor(zero checkpoint): %v", err)
	}
	if _, err := projection.NewEngine(e.pool, projection.Config{}, p, &recorder{name: name}); err == nil {
		t.Fatal("NewEngine accepted a name twice")
	}

	runCtx, stop := context.WithCancel(ctx)
	r := &running{eng: eng, cancel: stop, done: make(chan error, 1)}
	go func() { r.done <- eng.Run(runCtx) }()
	t.Cleanup(func() { r.stop(t) })

	// One append: one batch, its checkpoint and its stream as the key.
	stream := uuid.New()
	res, err := e.store.Append(ctx, eventstore.AppendRequest{StreamID: stream, StreamType: testStreamType, ExpectedVersion: eventstore.NoStream, Events: eventData(3)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, eng, name, res.Checkpoint())
	// Passed: returns at once, even with a dead context.
	if err := eng.WaitFor(done, name, res.Checkpoint()); err != nil {
		t.Fatalf("WaitFor of a passed checkpoint: %v", err)
	}
	if cp, ok := eng.Checkpoint(name); !ok || cp != res.Checkpoint() {
		t.Fatalf("Checkpoint = %+v, %v; want %+v", cp, ok, res.Checkpoint())
	}
	eventually(t, "OnUpdate of the first append", func() bool { return len(ups.get()) == 1 })
	if up := ups.get()[0]; up.Projection != name || up.Checkpoint != res.Checkpoint() || !slices.Equal(up.Keys, []string{stream.String()}) {
		t.Fatalf("update %+v, want %s at %+v with key %s", up, name, res.Checkpoint(), stream)
	}

	// An open transaction's event: WaitFor blocks until it commits.
	tx, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	s1, s2 := uuid.New(), uuid.New()
	if _, err := rawInsert(ctx, tx, s1); err != nil {
		t.Fatal(err)
	}
	pos, err := rawInsert(ctx, tx, s2)
	if err != nil {
		t.Fatal(err)
	}
	var txid string
	if err := tx.QueryRow(ctx, `SELECT pg_current_xact_id()::text`).Scan(&txid); err != nil {
		t.Fatal(err)
	}
	pending := eventstore.Checkpoint{TransactionID: parseXid(t, txid), Position: pos}

	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	err = eng.WaitFor(short, name, pending)
	cancelShort()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitFor of an uncommitted event with a 100ms timeout: %v", err)
	}
	waited := make(chan error, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, waitLimit)
		defer cancel()
		waited <- eng.WaitFor(wctx, name, pending)
	}()
	select {
	case err := <-waited:
		t.Fatalf("WaitFor returned %v before the transaction committed", err)
	case <-time.After(150 * time.Millisecond):
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-waited; err != nil {
		t.Fatalf("WaitFor after commit: %v", err)
	}
	// The transaction's two events came as one batch with both keys.
	eventually(t, "OnUpdate of the transaction", func() bool { return len(ups.get()) == 2 })
	want := []string{s1.String(), s2.String()}
	slices.Sort(want)
	if up := ups.get()[1]; up.Projection != name || up.Checkpoint != pending || !slices.Equal(up.Keys, want) {
		t.Fatalf("update %+v, want %s at %+v with keys %v", up, name, pending, want)
	}
	checkComplete(t, ctx, e.pool, name)

	// A checkpoint that is never reached: the context's error.
	never := eventstore.Checkpoint{TransactionID: pending.TransactionID + 1<<40}
	short, cancelShort = context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	if err := eng.WaitFor(short, name, never); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitFor of an unreachable checkpoint: %v", err)
	}
	cctx, cancelNow := context.WithCancel(ctx)
	go func() { time.Sleep(20 * time.Millisecond); cancelNow() }()
	if err := eng.WaitFor(cctx, name, never); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitFor with a cancelled context: %v", err)
	}
}

// TestRestart: an engine stopped and a new one started later apply every
// event once between them.
func TestRestart(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	const name = "restarted"
	cfg := projection.Config{BatchSize: 4, PollInterval: 50 * time.Millisecond}

	p1 := &recorder{name: name}
	r1 := start(t, ctx, e.pool, cfg, p1)
	res := appendEvents(t, ctx, e.store, 30)
	waitFor(t, r1.eng, name, res.Checkpoint())
	// Keep appending while it stops.
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := tryAppendEvents(ctx, e.store, 30); err != nil {
			t.Error(err)
		}
	})
	time.Sleep(5 * time.Millisecond)
	r1.stop(t)
	wg.Wait()
	cp, n1 := checkConsistent(t, ctx, e.pool, name)
	if n1 < 30 || p1.events.Load() != int64(n1) {
		t.Fatalf("first engine: %d applied, %d written", n1, p1.events.Load())
	}
	if cp.Compare(res.Checkpoint()) < 0 {
		t.Fatalf("checkpoint %+v before the waited-for %+v", cp, res.Checkpoint())
	}
	appendEvents(t, ctx, e.store, 30)

	p2 := &recorder{name: name}
	r2 := start(t, ctx, e.pool, cfg, p2)
	waitFor(t, r2.eng, name, lastEvent(t, ctx, e.pool))
	if n := checkComplete(t, ctx, e.pool, name); n != 90 {
		t.Fatalf("%d applied, want 90", n)
	}
	if p2.events.Load() != int64(90-n1) {
		t.Fatalf("second engine wrote %d events, want %d", p2.events.Load(), 90-n1)
	}
}

// TestStandbyWaitFor: an instance that does not run the projection (another
// holds its lock) still answers WaitFor, from the checkpoint notifications.
func TestStandbyWaitFor(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	const name = "announced"
	pa, pb := &recorder{name: name}, &recorder{name: name}
	ra := start(t, ctx, e.pool, projection.Config{PollInterval: 50 * time.Millisecond}, pa)
	res := appendEvents(t, ctx, e.store, 2)
	waitFor(t, ra.eng, name, res.Checkpoint())
	if pa.batches.Load() == 0 {
		t.Fatal("first engine not active")
	}

	// The standby's poll (which would refresh the checkpoints) is far away:
	// it learns only from notifications.
	rb := start(t, ctx, e.openPool(t, 4), projection.Config{PollInterval: time.Hour, LockRetryInterval: 200 * time.Millisecond}, pb)
	for round := range 4 {
		res := appendEvents(t, ctx, e.store, 1+round)
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := rb.eng.WaitFor(wctx, name, res.Checkpoint())
		cancel()
		if err != nil {
			t.Fatalf("round %d: standby WaitFor: %v", round, err)
		}
		if cp, _ := rb.eng.Checkpoint(name); cp.Compare(res.Checkpoint()) < 0 {
			t.Fatalf("round %d: standby checkpoint %+v", round, cp)
		}
	}
	if pb.batches.Load() != 0 {
		t.Fatalf("the standby applied %d batches", pb.batches.Load())
	}
	checkComplete(t, ctx, e.pool, name)
}

// TestWakeInProcess: Engine.Wake makes the active runner read again at once,
// without a NOTIFY and long before the slow poll: the server calls it from
// the store's AppendObserver, right after each commit, since appends no
// longer notify in their transaction. The event here is inserted without
// any notification and the poll is an hour.
func TestWakeInProcess(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	proj := &recorder{name: "wake"}
	r := start(t, ctx, e.pool, projection.Config{PollInterval: time.Hour}, proj)
	// The runner is active and idle once it has applied a first append.
	waitFor(t, r.eng, proj.name, appendEvents(t, ctx, e.store, 1).Checkpoint())

	insertSilently(t, ctx, e)
	r.eng.Wake()
	waitFor(t, r.eng, proj.name, lastEvent(t, ctx, e.pool))
}

// TestBatchesCommitWithoutTheNotifyLock: a batch's commit never waits on
// PostgreSQL's notify lock (Lock:object, which the commit of a transaction
// that sent a NOTIFY takes and holds through its WAL flush): the checkpoint
// is announced after the commit. Eight projections apply the batches of 16
// appending goroutines while another connection samples pg_stat_activity
// until it has seen enough batch commits at work; none may be waiting on
// that lock. With the NOTIFY in the batch's transaction most were.
func TestBatchesCommitWithoutTheNotifyLock(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	const projections, appenders, wantSamples = 8, 16, 200
	pool := e.openPool(t, projections+4)
	projs := make([]projection.Projection, projections)
	for i := range projs {
		projs[i] = &recorder{name: fmt.Sprintf("locked-%d", i)}
	}
	start(t, ctx, pool, projection.Config{}, projs...)
	seen, waiting := pgtest.NotifyLockWaits(t, ctx, e.url, "commit", wantSamples, appenders, func(ctx context.Context) error {
		_, err := tryAppendEvents(ctx, e.store, 1)
		return err
	})
	if waiting > 0 {
		t.Errorf("%d of %d sampled batch commits waited on Lock:object (the notify lock)", waiting, seen)
	}
}

// TestStandbyReloadsWhileNotified: a standby instance reloads the stored
// checkpoints once per poll interval even while notifications keep it
// busy, since a checkpoint notification, sent after its batch's commit,
// can be lost (here the checkpoint moves with no notification at all while
// another session notifies the store's channel every few milliseconds, more
// often than the poll interval). It used to reload only after a whole
// interval without any notification.
func TestStandbyReloadsWhileNotified(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	const name = "reloaded"
	// The projection's lock is held here: the engine stays a standby.
	lockConn, err := pgx.Connect(ctx, e.url)
	if err != nil {
		t.Fatal(err)
	}
	defer lockConn.Close(context.Background())
	if _, err := lockConn.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended('chronicle projection ' || $1, 0))`, name); err != nil {
		t.Fatal(err)
	}
	r := start(t, ctx, e.pool, projection.Config{PollInterval: time.Second}, &recorder{name: name})

	notifyCtx, stopNotifying := context.WithCancel(ctx)
	defer stopNotifying()
	go func() {
		for notifyCtx.Err() == nil {
			_, _ = e.pool.Exec(notifyCtx, `SELECT pg_notify($1, '0')`, eventstore.NotifyChannel)
			time.Sleep(5 * time.Millisecond)
		}
	}()
	// A checkpoint notice proves the listener past its first reload.
	eventually(t, "the standby hears a checkpoint notice", func() bool {
		if _, err := e.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, projection.CheckpointChannel, name+":1:1"); err != nil {
			t.Fatal(err)
		}
		cp, _ := r.eng.Checkpoint(name)
		return cp.Position == 1
	})
	tag, err := e.pool.Exec(ctx, `UPDATE projection_checkpoints SET transaction_id = '2', position = 2 WHERE name = $1`, name)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("move the checkpoint: %v, %d rows", err, tag.RowsAffected())
	}
	waitFor(t, r.eng, name, eventstore.Checkpoint{TransactionID: 2, Position: 2})
}
