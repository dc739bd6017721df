package aggregate_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// snapshotted is counterType with snapshots of state schema version 2.
var snapshotted = func() aggregate.Type[counter] {
	t := counterType
	t.Snapshots = &aggregate.Snapshots{SchemaVersion: 2}
	return t
}()

// snapshotRig is a counter repository whose snapshotter runs until the
// test ends, every events apart.
type snapshotRig struct {
	pool  *pgxpool.Pool
	store *eventstore.Store
	snaps *aggregate.Snapshotter
	repo  *aggregate.Repository[counter]
	full  *aggregate.Repository[counter] // the same type without snapshots
}

func newSnapshotRig(t *testing.T, every int64) *snapshotRig {
	t.Helper()
	pool, _ := pgtest.NewPool(t)
	store := eventstore.New(pool)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	snaps := aggregate.NewSnapshotter(store, every, 64, logger)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = snaps.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return &snapshotRig{pool: pool, store: store, snaps: snaps,
		repo: aggregate.NewRepository(store, snapshotted, snaps), full: aggregate.NewRepository(store, counterType, nil)}
}

func (r *snapshotRig) create(t *testing.T, limit int) uuid.UUID {
	t.Helper()
	id := uuid.New()
	if _, err := r.repo.Handle(context.Background(), id, "Create", aggregate.Options{}, func(counter) ([]aggregate.Event, error) {
		return []aggregate.Event{created{Limit: limit}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

// snapshotVersions returns the versions of the stream's snapshots.
func (r *snapshotRig) snapshotVersions(t *testing.T, id uuid.UUID) []int64 {
	t.Helper()
	rows, err := r.pool.Query(context.Background(), `SELECT version FROM snapshots WHERE stream_id = $1 ORDER BY version`, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// waitSnapshot waits until the stream's newest snapshot is at version or
// later (while the snapshotter has not written an offer, the next commands
// offer again, at their versions).
func (r *snapshotRig) waitSnapshot(t *testing.T, id uuid.UUID, version int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if v := r.snapshotVersions(t, id); len(v) > 0 && v[len(v)-1] >= version {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot at version %d (snapshots: %v)", version, r.snapshotVersions(t, id))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSnapshotTakenAndUsed: after every 5 events a snapshot is taken in the
// background and the older one deleted; Load starts from it (a planted
// snapshot with a state no fold could reach shows that it does), and it
// equals the full fold.
func TestSnapshotTakenAndUsed(t *testing.T) {
	t.Parallel()
	r := newSnapshotRig(t, 5)
	ctx := context.Background()
	id := r.create(t, 1000)
	for range 11 {
		if _, err := r.repo.Handle(ctx, id, "Increment", aggregate.Options{}, increment); err != nil {
			t.Fatal(err)
		}
	}
	r.waitSnapshot(t, id, 5)
	got, version, err := r.repo.Load(ctx, id)
	want, wantVersion, _ := r.full.Load(ctx, id)
	if err != nil || got != want || version != wantVersion || version != 12 {
		t.Fatalf("Load = %+v v%d (%v), full fold %+v v%d", got, version, err, want, wantVersion)
	}

	// A planted snapshot at version 12 with Value 500, on a stream whose
	// repository offers no snapshots of its own: Load must start from it
	// (and add the one event after it).
	quiet := aggregate.NewRepository(r.store, snapshotted, aggregate.NewSnapshotter(r.store, 1<<40, 1, nil))
	other := uuid.New()
	if _, err := quiet.Handle(ctx, other, "Create", aggregate.Options{}, func(counter) ([]aggregate.Event, error) {
		return []aggregate.Event{created{Limit: 1000}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	for range 12 {
		if _, err := quiet.Handle(ctx, other, "Increment", aggregate.Options{}, increment); err != nil {
			t.Fatal(err)
		}
	}
	planted, _ := json.Marshal(counter{Value: 500, Limit: 1000})
	if err := r.store.SaveSnapshot(ctx, eventstore.Snapshot{StreamID: other, StreamType: "counter", Version: 12, SchemaVersion: 2, State: planted}); err != nil {
		t.Fatal(err)
	}
	if got, version, err := quiet.Load(ctx, other); err != nil || got.Value != 501 || version != 13 {
		t.Fatalf("Load after a planted snapshot = %+v v%d (%v), want Value 501 at version 13", got, version, err)
	}
}

// TestSnapshotOfAnotherSchemaVersionIgnored: a snapshot stored in an older
// shape of the state (schema version 1, with a field the state no longer
// has and the value under another name) is never decoded: Load folds the
// stream, and the next snapshot replaces it.
func TestSnapshotOfAnotherSchemaVersionIgnored(t *testing.T) {
	t.Parallel()
	r := newSnapshotRig(t, 4)
	ctx := context.Background()
	id := r.create(t, 1000)
	for range 2 {
		if _, err := r.repo.Handle(ctx, id, "Increment", aggregate.Options{}, increment); err != nil {
			t.Fatal(err)
		}
	}
	old := []byte(`{"Count": 999, "Value": 999, "Limit": 1}`)
	if err := r.store.SaveSnapshot(ctx, eventstore.Snapshot{StreamID: id, StreamType: "counter", Version: 3, SchemaVersion: 1, State: old}); err != nil {
		t.Fatal(err)
	}
	if got, version, err := r.repo.Load(ctx, id); err != nil || got != (counter{Value: 2, Limit: 1000}) || version != 3 {
		t.Fatalf("Load with an outdated snapshot = %+v v%d (%v), want the full fold {2 1000} v3", got, version, err)
	}
	if _, err := r.repo.Handle(ctx, id, "Increment", aggregate.Options{}, increment); err != nil {
		t.Fatal(err)
	}
	r.waitSnapshot(t, id, 4)
	if v := r.snapshotVersions(t, id); len(v) != 1 || v[0] != 4 {
		t.Errorf("snapshots at %v, want the outdated one (3) replaced by version 4", v)
	}
}

// TestSnapshotsWhileCommandsRun: 16 goroutines increment one counter while
// snapshots are taken every 3 events; the invariant (never above the limit)
// holds, every increment is counted once, and Load from the snapshot equals
// the full fold.
func TestSnapshotsWhileCommandsRun(t *testing.T) {
	t.Parallel()
	r := newSnapshotRig(t, 3)
	ctx := context.Background()
	const limit = 150
	id := r.create(t, limit)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 12 {
				if _, err := r.repo.Handle(ctx, id, "Increment", aggregate.Options{}, increment); err != nil && err != errOverLimit {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	want, wantVersion, err := r.full.Load(ctx, id)
	if err != nil || want.Value != limit || wantVersion != limit+1 {
		t.Fatalf("full fold = %+v v%d (%v), want Value %d", want, wantVersion, err, limit)
	}
	if taken, _ := r.snaps.Taken(); taken == 0 {
		t.Fatal("no snapshot was taken")
	}
	got, version, err := r.repo.Load(ctx, id)
	if err != nil || got != want || version != wantVersion {
		t.Fatalf("Load = %+v v%d (%v), full fold %+v v%d", got, version, err, want, wantVersion)
	}
}
