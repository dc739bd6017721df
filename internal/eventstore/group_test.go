package eventstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/database"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The group commit (eventstore.WithAppendGroups): appends that arrive while
// the store has its limit of statements in flight go out together, in one
// transaction, each still succeeding or failing by itself. These tests hold
// the store's one statement slot with a lock on the events table, queue
// appends behind it, and let go.

// appended is what one Append returned.
type appended struct {
	res eventstore.AppendResult
	err error
}

// appendAsync runs s.Append(ctx, r) in a goroutine; its outcome arrives on
// the channel.
func appendAsync(ctx context.Context, s *eventstore.Store, r eventstore.AppendRequest) <-chan appended {
	c := make(chan appended, 1)
	go func() {
		res, err := s.Append(ctx, r)
		c <- appended{res, err}
	}()
	return c
}

// receive waits for one outcome, failing t after 10 s.
func receive(t *testing.T, c <-chan appended) appended {
	t.Helper()
	select {
	case a := <-c:
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("append did not return within 10 s")
		return appended{}
	}
}

// newGroupDB gives t a database and a store that sends one append
// statement at a time, and a connection of its own to the database.
func newGroupDB(t *testing.T) (*eventstore.Store, *pgxpool.Pool, *pgx.Conn) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	pool, err := database.Open(ctx, url, maxConns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return eventstore.New(pool, eventstore.WithAppendGroups(1)), pool, conn
}

// holdSlot locks the events table against inserts on conn and appends to a
// new stream, which then holds the store's one statement slot until the
// returned release commits the lock. The append's outcome arrives on the
// returned channel.
func holdSlot(t *testing.T, ctx context.Context, s *eventstore.Store, conn *pgx.Conn) (release func(), first <-chan appended) {
	t.Helper()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE events IN SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	first = appendAsync(ctx, s, req(uuid.New(), eventstore.NoStream, ev("First", payload{})))
	waitFor(t, "the first append to wait for the table lock", func() bool {
		var waiting int
		err := tx.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`).Scan(&waiting)
		return err == nil && waiting == 1
	})
	return func() {
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}, first
}

// waitFor polls cond every 5 ms for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitQueued waits until n appends are queued in s's group commit.
func waitQueued(t *testing.T, s *eventstore.Store, n int) {
	t.Helper()
	waitFor(t, "appends to queue", func() bool { return eventstore.QueuedAppends(s) == n })
}

// TestQueuedAppendsCommitTogether: appends queued behind a statement in
// flight commit in one transaction, each with its own expected version
// (no stream, any, exact), each reported by itself: a stale one fails with
// a wrong expected version and the others commit; two appends to one
// stream go out in two groups, in the order they came.
func TestQueuedAppendsCommitTogether(t *testing.T) {
	t.Parallel()
	s, pool, conn := newGroupDB(t)
	ctx := testCtx(t)
	existing := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	for _, id := range existing {
		mustAppend(t, ctx, s, req(id, eventstore.NoStream, ev("Opened", payload{})))
	}
	fresh := []uuid.UUID{uuid.New(), uuid.New()}
	twice := uuid.New()

	release, first := holdSlot(t, ctx, s, conn)
	requests := []eventstore.AppendRequest{
		req(fresh[0], eventstore.NoStream, ev("Created", payload{N: 1}), ev("Created", payload{N: 2})),
		req(existing[0], 1, ev("Exact", payload{N: 2})),
		req(twice, eventstore.Any, ev("Twice", payload{N: 1})),
		req(existing[1], 5, ev("Stale", payload{N: 2})), // the stream is at 1
		req(existing[2], eventstore.Any, ev("Any", payload{N: 2})),
		req(fresh[1], eventstore.Any, ev("Any", payload{N: 1})),
		req(twice, eventstore.Any, ev("Twice", payload{N: 2})),
	}
	outcomes := make([]<-chan appended, len(requests))
	for i, r := range requests {
		outcomes[i] = appendAsync(ctx, s, r)
		waitQueued(t, s, i+1) // in this order
	}
	release()
	if a := receive(t, first); a.err != nil {
		t.Fatalf("first append: %v", a.err)
	}
	got := make([]appended, len(requests))
	for i, c := range outcomes {
		got[i] = receive(t, c)
	}

	checkWrongVersion(t, got[3].err, existing[1], 5, 1)
	group := got[0].res.TransactionID
	for i, want := range []struct{ from, to int64 }{{1, 2}, {2, 2}, {1, 1}, {}, {2, 2}, {1, 1}, {2, 2}} {
		if i == 3 {
			continue
		}
		a := got[i]
		if a.err != nil {
			t.Fatalf("append %d: %v", i, a.err)
		}
		if a.res.StreamID != requests[i].StreamID || a.res.FromVersion != want.from || a.res.ToVersion != want.to || a.res.Duplicate {
			t.Fatalf("append %d: result %+v, want versions %d..%d", i, a.res, want.from, want.to)
		}
		inGroup := a.res.TransactionID == group
		if inGroup != (i != 6) {
			t.Fatalf("append %d: transaction %d, the group's is %d: want the later append to %s alone in the next", i, a.res.TransactionID, group, twice)
		}
	}
	if got[6].res.TransactionID <= group {
		t.Fatalf("the second append to one stream committed in transaction %d, not after the first's %d", got[6].res.TransactionID, group)
	}

	// What the results say is what is stored.
	for i, r := range requests {
		if i == 3 {
			continue
		}
		events := readAll(t, ctx, s, r.StreamID)
		checkStreamShape(t, events)
		e := events[got[i].res.ToVersion-1]
		if e.Position != got[i].res.LastPosition || e.TransactionID != got[i].res.TransactionID || e.Type != r.Events[len(r.Events)-1].Type {
			t.Fatalf("append %d: stored %+v, result %+v", i, e, got[i].res)
		}
	}
	if n := countEvents(t, ctx, pool, existing[1]); n != 1 {
		t.Fatalf("the stale append stored something: its stream has %d events", n)
	}
}

// TestLockedStreamLeavesTheGroup: an append whose stream another
// transaction has locked is appended alone, waiting for the lock, while the
// rest of its group commits without it.
func TestLockedStreamLeavesTheGroup(t *testing.T) {
	t.Parallel()
	s, _, conn := newGroupDB(t)
	ctx := testCtx(t)
	busy, free1, free2 := uuid.New(), uuid.New(), uuid.New()
	mustAppend(t, ctx, s, req(busy, eventstore.NoStream, ev("Opened", payload{})))

	lock := lockStreamOn(t, ctx, conn, busy)

	release, first := holdSlot(t, ctx, s, conn)
	busyDone := appendAsync(ctx, s, req(busy, 1, ev("Later", payload{N: 2})))
	waitQueued(t, s, 1)
	free := []<-chan appended{
		appendAsync(ctx, s, req(free1, eventstore.NoStream, ev("Free", payload{}))),
		appendAsync(ctx, s, req(free2, eventstore.NoStream, ev("Free", payload{}))),
	}
	waitQueued(t, s, 3)
	release()
	receive(t, first)
	for i, c := range free {
		if a := receive(t, c); a.err != nil {
			t.Fatalf("append %d beside the locked stream: %v", i, a.err)
		}
	}
	select {
	case a := <-busyDone:
		t.Fatalf("the append to the locked stream returned while its lock was held: %+v", a)
	default:
	}
	if err := lock.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	a := receive(t, busyDone)
	if a.err != nil || a.res.FromVersion != 2 || a.res.ToVersion != 2 {
		t.Fatalf("append to the stream once unlocked: %+v, %v", a.res, a.err)
	}
}

// lockStreamOn takes stream's lock (as the store takes it) in a
// transaction on a new connection to conn's database, and returns the
// transaction: committing it lets go.
func lockStreamOn(t *testing.T, ctx context.Context, conn *pgx.Conn, stream uuid.UUID) pgx.Tx {
	t.Helper()
	holder, err := pgx.Connect(ctx, conn.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Close(context.Background()) })
	lock, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('chronicle stream ' || $1::uuid::text, 0))`, stream); err != nil {
		t.Fatal(err)
	}
	return lock
}

// TestLockedStreamHoldsNoSlot: an append sent at once (a free slot, a group
// of one) whose stream another transaction has locked waits for the lock
// without holding the store's one statement slot: an append to another
// stream goes out meanwhile.
func TestLockedStreamHoldsNoSlot(t *testing.T) {
	t.Parallel()
	s, _, conn := newGroupDB(t)
	ctx := testCtx(t)
	busy := uuid.New()
	mustAppend(t, ctx, s, req(busy, eventstore.NoStream, ev("Opened", payload{})))
	lock := lockStreamOn(t, ctx, conn, busy)
	busyDone := appendAsync(ctx, s, req(busy, 1, ev("Later", payload{N: 2})))
	waitFor(t, "the append to wait for its stream's lock", func() bool {
		var waiting int
		err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`).Scan(&waiting)
		return err == nil && waiting == 1
	})
	if a := receive(t, appendAsync(ctx, s, req(uuid.New(), eventstore.NoStream, ev("Free", payload{})))); a.err != nil {
		t.Fatalf("append beside the one waiting for its lock: %v", a.err)
	}
	if err := lock.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if a := receive(t, busyDone); a.err != nil || a.res.ToVersion != 2 {
		t.Fatalf("append to the stream once unlocked: %+v, %v", a.res, a.err)
	}
}

// TestFailedGroupAppendsEachAlone: when the grouped statement fails (here
// one stream has an event stored around the store, at the version its
// append expects to write), nothing of it commits and each append is
// appended alone: that one fails as a wrong expected version, the others
// commit.
func TestFailedGroupAppendsEachAlone(t *testing.T) {
	t.Parallel()
	s, pool, conn := newGroupDB(t)
	ctx := testCtx(t)
	corrupt, ok1, ok2 := uuid.New(), uuid.New(), uuid.New()
	mustAppend(t, ctx, s, req(corrupt, eventstore.NoStream, ev("Opened", payload{})))
	if _, err := pool.Exec(ctx, `INSERT INTO events (event_id, stream_id, stream_type, version, type, data)
		VALUES (gen_random_uuid(), $1, $2, 2, 'Around', '{}')`, corrupt, streamType); err != nil {
		t.Fatal(err)
	}

	release, first := holdSlot(t, ctx, s, conn)
	outcomes := []<-chan appended{
		appendAsync(ctx, s, req(ok1, eventstore.NoStream, ev("Fine", payload{}))),
		appendAsync(ctx, s, req(corrupt, 1, ev("Clash", payload{}))),
		appendAsync(ctx, s, req(ok2, eventstore.NoStream, ev("Fine", payload{}))),
	}
	waitQueued(t, s, 3)
	release()
	receive(t, first)
	got := []appended{receive(t, outcomes[0]), receive(t, outcomes[1]), receive(t, outcomes[2])}
	checkWrongVersion(t, got[1].err, corrupt, 1, 2)
	for _, i := range []int{0, 2} {
		if got[i].err != nil || got[i].res.ToVersion != 1 {
			t.Fatalf("append %d beside the failing one: %+v, %v", i, got[i].res, got[i].err)
		}
	}
	if got[0].res.TransactionID == got[2].res.TransactionID {
		t.Fatal("the appends of the failed group committed together, want each alone")
	}
	if n := countEvents(t, ctx, pool, ok1, ok2, corrupt); n != 4 {
		t.Fatalf("%d events stored, want 4 (2 fine, and 2 on the corrupt stream)", n)
	}
}

// TestQueuedAppendLeavesWithItsContext: an append still queued when its
// context ends returns the context's error and is never sent.
func TestQueuedAppendLeavesWithItsContext(t *testing.T) {
	t.Parallel()
	s, pool, conn := newGroupDB(t)
	ctx := testCtx(t)
	release, first := holdSlot(t, ctx, s, conn)
	stream := uuid.New()
	cctx, cancel := context.WithCancel(ctx)
	left := appendAsync(cctx, s, req(stream, eventstore.NoStream, ev("Never", payload{})))
	waitQueued(t, s, 1)
	cancel()
	if a := receive(t, left); !errors.Is(a.err, context.Canceled) {
		t.Fatalf("queued append whose context ended: %+v, %v; want context.Canceled", a.res, a.err)
	}
	if n := eventstore.QueuedAppends(s); n != 0 {
		t.Fatalf("%d appends still queued", n)
	}
	release()
	receive(t, first)
	if n := countEvents(t, ctx, pool, stream); n != 0 {
		t.Fatalf("the append that left stored %d events", n)
	}
}

// TestGroupCommitRace: 32 goroutines append to 8 shared streams with the
// version they last saw (exact expected version, retried on a conflict) and
// to streams of their own, through a store grouping its appends; every
// success is stored where its result says, versions stay contiguous, and
// nothing else is stored.
func TestGroupCommitRace(t *testing.T) {
	t.Parallel()
	s, pool, _ := newDB(t)
	ctx := testCtx(t)
	const goroutines, appends, shared = 32, 25, 8
	streams := make([]uuid.UUID, shared)
	for i := range streams {
		streams[i] = uuid.New()
		mustAppend(t, ctx, s, req(streams[i], eventstore.NoStream, ev("Opened", payload{G: -1})))
	}
	var (
		mu   sync.Mutex
		wins = make(map[uuid.UUID]map[int64]eventstore.AppendResult)
		own  []uuid.UUID
	)
	record := func(res eventstore.AppendResult) {
		mu.Lock()
		defer mu.Unlock()
		if wins[res.StreamID] == nil {
			wins[res.StreamID] = make(map[int64]eventstore.AppendResult)
		}
		if _, dup := wins[res.StreamID][res.ToVersion]; dup {
			t.Errorf("two appends got version %d of %s", res.ToVersion, res.StreamID)
		}
		wins[res.StreamID][res.ToVersion] = res
	}
	race(goroutines, func(g int) {
		mine := uuid.New()
		mu.Lock()
		own = append(own, mine)
		mu.Unlock()
		for n := range appends {
			stream := streams[(g+n)%shared]
			for {
				v, err := s.StreamVersion(ctx, stream)
				if err != nil {
					t.Error(err)
					return
				}
				res, err := s.Append(ctx, req(stream, v, ev("Shared", payload{N: int64(n), G: g})))
				if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				record(res)
				break
			}
			res, err := s.Append(ctx, req(mine, int64(n), ev("Own", payload{N: int64(n), G: g})))
			if err != nil {
				t.Error(err)
				return
			}
			record(res)
		}
	})
	if t.Failed() {
		return
	}
	total := int64(shared)
	for _, id := range append(streams, own...) {
		events := readAll(t, ctx, s, id)
		checkStreamShape(t, events)
		for _, e := range events {
			if e.Type == "Opened" {
				continue
			}
			res, ok := wins[id][e.Version]
			if !ok || res.LastPosition != e.Position || res.TransactionID != e.TransactionID {
				t.Fatalf("%s version %d at (%d, %d): no result says so (%+v)", id, e.Version, e.TransactionID, e.Position, res)
			}
		}
		total += int64(len(wins[id]))
	}
	if n := countEvents(t, ctx, pool, append(streams, own...)...); n != total {
		t.Fatalf("%d events stored, %d appends succeeded", n, total)
	}
}
