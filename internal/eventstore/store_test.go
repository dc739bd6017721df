package eventstore_test

// A store test suite in the spirit of hallgren/eventsourcing's shared store
// tests: optimistic concurrency under real races, idempotency, atomicity,
// AppendLocked, the shape of stored events, the gap-free ReadCommitted and
// NOTIFY. Every test gets its own migrated database (pgtest).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/database"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const streamType = "test"

// maxConns is the pool size: large enough that many racing appenders are
// inside PostgreSQL at once, small enough for max_connections.
const maxConns = 16

// newDB gives t its own migrated database and a store on it. Creating a
// database is most of a test's time, so each top-level test makes one and
// its subtests share it, on streams (and keys) of their own.
func newDB(t *testing.T) (*eventstore.Store, *pgxpool.Pool, string) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	pool, err := database.Open(context.Background(), url, maxConns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return eventstore.New(pool), pool, url
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// payload is the test events' data.
type payload struct {
	N     int64 `json:"n"`
	Round int64 `json:"round"`
	G     int   `json:"g"`
}

func ev(typ string, p payload) eventstore.EventData {
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return eventstore.EventData{Type: typ, SchemaVersion: 1, Data: b}
}

func decode(t *testing.T, e eventstore.RecordedEvent) payload {
	t.Helper()
	var p payload
	if err := json.Unmarshal(e.Data, &p); err != nil {
		t.Fatalf("event %d: decode %s: %v", e.Version, e.Data, err)
	}
	return p
}

func req(stream uuid.UUID, expected int64, events ...eventstore.EventData) eventstore.AppendRequest {
	return eventstore.AppendRequest{StreamID: stream, StreamType: streamType, ExpectedVersion: expected, Events: events}
}

func mustAppend(t *testing.T, ctx context.Context, s *eventstore.Store, r eventstore.AppendRequest) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(ctx, r)
	if err != nil {
		t.Fatalf("append to %s: %v", r.StreamID, err)
	}
	return res
}

func readAll(t *testing.T, ctx context.Context, s *eventstore.Store, stream uuid.UUID) []eventstore.RecordedEvent {
	t.Helper()
	events, err := s.ReadStream(ctx, stream, 0, 0)
	if err != nil {
		t.Fatalf("read stream %s: %v", stream, err)
	}
	return events
}

// countEvents counts the stored events of the streams, bypassing the store.
func countEvents(t *testing.T, ctx context.Context, pool *pgxpool.Pool, streams ...uuid.UUID) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE stream_id = ANY($1)`, streams).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkWrongVersion asserts that err is a *WrongExpectedVersionError with
// the given fields.
func checkWrongVersion(t *testing.T, err error, stream uuid.UUID, expected, actual int64) {
	t.Helper()
	if !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("error %v: want errors.Is ErrWrongExpectedVersion", err)
	}
	var wev *eventstore.WrongExpectedVersionError
	if !errors.As(err, &wev) {
		t.Fatalf("error %v (%T): want *WrongExpectedVersionError", err, err)
	}
	if wev.StreamID != stream || wev.Expected != expected || wev.Actual != actual {
		t.Fatalf("wrong expected version error = {stream %s, expected %d, actual %d}, want {%s, %d, %d}",
			wev.StreamID, wev.Expected, wev.Actual, stream, expected, actual)
	}
	if code, ok := apperr.CodeOf(err); !ok || code != apperr.Conflict {
		t.Fatalf("apperr.CodeOf(%v) = %q, %v; want CONFLICT", err, code, ok)
	}
}

// checkStreamShape asserts versions 1..len contiguous, strictly increasing
// positions and unique event ids.
func checkStreamShape(t *testing.T, events []eventstore.RecordedEvent) {
	t.Helper()
	ids := make(map[uuid.UUID]bool, len(events))
	for i, e := range events {
		if e.Version != int64(i+1) {
			t.Fatalf("event %d has version %d, want %d", i, e.Version, i+1)
		}
		if i > 0 && e.Position <= events[i-1].Position {
			t.Fatalf("event version %d position %d not after %d", e.Version, e.Position, events[i-1].Position)
		}
		if ids[e.EventID] {
			t.Fatalf("duplicate event id %s", e.EventID)
		}
		ids[e.EventID] = true
	}
}

// race runs f(i) for i in [0, n) in n goroutines released together.
func race(n int, f func(i int)) {
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-gate
			f(i)
		})
	}
	close(gate)
	wg.Wait()
}

func TestConcurrentAppends(t *testing.T) {
	t.Parallel()
	s, pool, _ := newDB(t)
	t.Run("ExpectedVersion", func(t *testing.T) { t.Parallel(); testAppendConcurrentExpectedVersion(t, s, pool) })
	t.Run("NoStream", func(t *testing.T) { t.Parallel(); testAppendConcurrentNoStream(t, s, pool) })
	t.Run("Any", func(t *testing.T) { t.Parallel(); testAppendConcurrentAny(t, s) })
}

// 1. Of 50 appenders racing on the same expected version, exactly one wins,
// round after round.
func testAppendConcurrentExpectedVersion(t *testing.T, s *eventstore.Store, pool *pgxpool.Pool) {
	ctx := testCtx(t)
	const goroutines, rounds = 50, 8
	stream := uuid.New()
	mustAppend(t, ctx, s, req(stream, eventstore.NoStream, ev("Opened", payload{G: -1})))

	type win struct {
		g   int
		res eventstore.AppendResult
	}
	winners := make(map[int64]win) // by the version the round expected
	for v := int64(1); v <= rounds; v++ {
		results := make([]eventstore.AppendResult, goroutines)
		errs := make([]error, goroutines)
		race(goroutines, func(i int) {
			results[i], errs[i] = s.Append(ctx, req(stream, v, ev("Raced", payload{Round: v, G: i})))
		})
		won := 0
		for i, err := range errs {
			if err != nil {
				// The round is over once every goroutine is back, so a loser
				// sees exactly the winner's version.
				checkWrongVersion(t, err, stream, v, v+1)
				continue
			}
			won++
			r := results[i]
			if r.StreamID != stream || r.FromVersion != v+1 || r.ToVersion != v+1 || r.FirstPosition != r.LastPosition || r.Duplicate || r.TransactionID == 0 {
				t.Fatalf("round %d: winner result %+v", v, r)
			}
			winners[v] = win{g: i, res: r}
		}
		if won != 1 {
			t.Fatalf("round %d: %d appenders won, want exactly 1", v, won)
		}
	}

	events := readAll(t, ctx, s, stream)
	if len(events) != rounds+1 {
		t.Fatalf("stream has %d events, want %d", len(events), rounds+1)
	}
	checkStreamShape(t, events)
	for _, e := range events[1:] {
		p := decode(t, e)
		w := winners[e.Version-1]
		if p.Round != e.Version-1 || p.G != w.g {
			t.Fatalf("event version %d is %+v, want round %d by goroutine %d", e.Version, p, e.Version-1, w.g)
		}
		if e.Position != w.res.LastPosition || e.TransactionID != w.res.TransactionID {
			t.Fatalf("event version %d at (%d, %d), winner's result says (%d, %d)",
				e.Version, e.TransactionID, e.Position, w.res.TransactionID, w.res.LastPosition)
		}
	}
	if n := countEvents(t, ctx, pool, stream); n != rounds+1 {
		t.Fatalf("events table has %d rows, want %d: a loser wrote something", n, rounds+1)
	}
	if v, err := s.StreamVersion(ctx, stream); err != nil || v != rounds+1 {
		t.Fatalf("StreamVersion = %d, %v; want %d", v, err, rounds+1)
	}
}

// 2a. Of 50 creators of one new stream, exactly one wins.
func testAppendConcurrentNoStream(t *testing.T, s *eventstore.Store, pool *pgxpool.Pool) {
	ctx := testCtx(t)
	const goroutines = 50
	stream := uuid.New()
	results := make([]eventstore.AppendResult, goroutines)
	errs := make([]error, goroutines)
	race(goroutines, func(i int) {
		results[i], errs[i] = s.Append(ctx, req(stream, eventstore.NoStream,
			ev("Created", payload{N: 1, G: i}), ev("Created", payload{N: 2, G: i})))
	})
	winner := -1
	for i, err := range errs {
		if err != nil {
			checkWrongVersion(t, err, stream, eventstore.NoStream, 2)
			continue
		}
		if winner >= 0 {
			t.Fatalf("goroutines %d and %d both created the stream", winner, i)
		}
		winner = i
		if r := results[i]; r.FromVersion != 1 || r.ToVersion != 2 || r.LastPosition <= r.FirstPosition {
			t.Fatalf("winner result %+v", r)
		}
	}
	if winner < 0 {
		t.Fatal("nobody created the stream")
	}
	events := readAll(t, ctx, s, stream)
	if len(events) != 2 {
		t.Fatalf("stream has %d events, want 2", len(events))
	}
	checkStreamShape(t, events)
	for i, e := range events {
		if p := decode(t, e); p.G != winner || p.N != int64(i+1) {
			t.Fatalf("event %d is %+v, want the winner's (%d)", e.Version, p, winner)
		}
	}
	if n := countEvents(t, ctx, pool, stream); n != 2 {
		t.Fatalf("events table has %d rows, want 2", n)
	}
}

// 2b. 50 appenders with expected version Any all succeed, one after another.
func testAppendConcurrentAny(t *testing.T, s *eventstore.Store) {
	ctx := testCtx(t)
	const goroutines = 50
	stream := uuid.New() // does not exist yet: Any also races on creating it
	results := make([]eventstore.AppendResult, goroutines)
	errs := make([]error, goroutines)
	race(goroutines, func(i int) {
		results[i], errs[i] = s.Append(ctx, req(stream, eventstore.Any, ev("Any", payload{G: i})))
	})
	byVersion := make(map[int64]int)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("goroutine %d: %v", i, err)
		}
		r := results[i]
		if r.FromVersion != r.ToVersion || r.ToVersion < 1 || r.ToVersion > goroutines {
			t.Fatalf("goroutine %d: result %+v", i, r)
		}
		if other, dup := byVersion[r.ToVersion]; dup {
			t.Fatalf("goroutines %d and %d both got version %d", other, i, r.ToVersion)
		}
		byVersion[r.ToVersion] = i
	}
	events := readAll(t, ctx, s, stream)
	if len(events) != goroutines {
		t.Fatalf("stream has %d events, want %d", len(events), goroutines)
	}
	checkStreamShape(t, events)
	for _, e := range events {
		g := byVersion[e.Version]
		if p := decode(t, e); p.G != g {
			t.Fatalf("version %d holds goroutine %d's event, its result said goroutine %d", e.Version, p.G, g)
		}
		if e.Position != results[g].LastPosition {
			t.Fatalf("version %d at position %d, result said %d", e.Version, e.Position, results[g].LastPosition)
		}
	}
}

// 3. Idempotency keys.
func TestIdempotency(t *testing.T) {
	t.Parallel()
	s, pool, _ := newDB(t)
	t.Run("SequentialDuplicate", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		stream := uuid.New()
		r := req(stream, eventstore.NoStream, ev("A", payload{N: 1}), ev("B", payload{N: 2}))
		r.IdempotencyKey, r.Command = "key-1", "Open"
		first := mustAppend(t, ctx, s, r)
		if first.Duplicate || first.FromVersion != 1 || first.ToVersion != 2 {
			t.Fatalf("first result %+v", first)
		}
		// The same request again, even with other events: nothing appended.
		r.Events = []eventstore.EventData{ev("C", payload{N: 3})}
		second := mustAppend(t, ctx, s, r)
		if !second.Duplicate {
			t.Fatalf("second result %+v: want Duplicate", second)
		}
		second.Duplicate = false
		if second != first {
			t.Fatalf("duplicate result %+v differs from original %+v", second, first)
		}
		if n := countEvents(t, ctx, pool, stream); n != 2 {
			t.Fatalf("%d events stored, want 2", n)
		}
		looked, found, err := s.LookupIdempotencyKey(ctx, "key-1", stream, "Open")
		if err != nil || !found || !looked.Duplicate {
			t.Fatalf("LookupIdempotencyKey = %+v, %v, %v", looked, found, err)
		}
		looked.Duplicate = false
		if looked != first {
			t.Fatalf("looked up %+v, want %+v", looked, first)
		}
		if _, found, err := s.LookupIdempotencyKey(ctx, "unknown", stream, "Open"); err != nil || found {
			t.Fatalf("unknown key: found %v, %v", found, err)
		}
	})

	t.Run("StaleExpectedVersion", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		stream := uuid.New()
		mustAppend(t, ctx, s, req(stream, eventstore.NoStream, ev("A", payload{N: 1})))
		r := req(stream, 1, ev("B", payload{N: 2}))
		r.IdempotencyKey, r.Command = "key-stale", "Deposit"
		first := mustAppend(t, ctx, s, r)
		mustAppend(t, ctx, s, req(stream, 2, ev("C", payload{N: 3})))
		// Expected version 1 is stale now, but the key was handled: the
		// retry gets the original result, not a conflict.
		again, err := s.Append(ctx, r)
		if err != nil {
			t.Fatalf("retry with stale expected version: %v", err)
		}
		if !again.Duplicate || again.ToVersion != first.ToVersion || again.LastPosition != first.LastPosition {
			t.Fatalf("retry result %+v, original %+v", again, first)
		}
		if events := readAll(t, ctx, s, stream); len(events) != 3 {
			t.Fatalf("stream has %d events, want 3", len(events))
		}
	})

	t.Run("FailedAppendReleasesKey", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		stream := uuid.New()
		mustAppend(t, ctx, s, req(stream, eventstore.NoStream, ev("A", payload{N: 1})))
		r := req(stream, 5, ev("B", payload{N: 2}))
		r.IdempotencyKey, r.Command = "key-retry", "Deposit"
		_, err := s.Append(ctx, r)
		checkWrongVersion(t, err, stream, 5, 1)
		if _, found, err := s.LookupIdempotencyKey(ctx, r.IdempotencyKey, stream, r.Command); err != nil || found {
			t.Fatalf("key of a failed append: found %v, %v", found, err)
		}
		r.ExpectedVersion = 1
		res := mustAppend(t, ctx, s, r)
		if res.Duplicate || res.ToVersion != 2 {
			t.Fatalf("retry after conflict: %+v", res)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		const goroutines = 20
		stream := uuid.New()
		mustAppend(t, ctx, s, req(stream, eventstore.NoStream, ev("A", payload{N: 1})))
		for _, exact := range []bool{false, true} {
			expected := eventstore.Any
			if exact {
				// Only the first appender can hold the key; the others
				// would get a conflict were they not duplicates.
				v, err := s.StreamVersion(ctx, stream)
				if err != nil {
					t.Fatal(err)
				}
				expected = v
			}
			key := fmt.Sprintf("key-concurrent-%v", exact)
			before := countEvents(t, ctx, pool, stream)
			results := make([]eventstore.AppendResult, goroutines)
			errs := make([]error, goroutines)
			race(goroutines, func(i int) {
				r := req(stream, expected, ev("X", payload{G: i}), ev("Y", payload{G: i}))
				r.IdempotencyKey, r.Command = key, "Deposit"
				results[i], errs[i] = s.Append(ctx, r)
			})
			original := -1
			for i, err := range errs {
				if err != nil {
					t.Fatalf("expected %d: goroutine %d: %v", expected, i, err)
				}
				if !results[i].Duplicate {
					if original >= 0 {
						t.Fatalf("expected %d: goroutines %d and %d both appended", expected, original, i)
					}
					original = i
				}
			}
			if original < 0 {
				t.Fatalf("expected %d: every result is a duplicate", expected)
			}
			want := results[original]
			for i, r := range results {
				r.Duplicate = false
				if r != want {
					t.Fatalf("expected %d: goroutine %d got %+v, original %+v", expected, i, r, want)
				}
			}
			if n := countEvents(t, ctx, pool, stream); n != before+2 {
				t.Fatalf("expected %d: %d events appended, want 2", expected, n-before)
			}
			events, err := s.ReadStream(ctx, stream, want.FromVersion-1, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 2 || decode(t, events[0]).G != original || decode(t, events[1]).G != original {
				t.Fatalf("expected %d: appended events are not the original's (%d)", expected, original)
			}
		}
	})

	t.Run("KeyReused", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		streamA, streamB := uuid.New(), uuid.New()
		r := req(streamA, eventstore.Any, ev("A", payload{N: 1}))
		r.IdempotencyKey, r.Command = "key-reused", "Deposit"
		mustAppend(t, ctx, s, r)

		other := r
		other.StreamID = streamB
		if _, err := s.Append(ctx, other); !errors.Is(err, eventstore.ErrIdempotencyKeyReused) {
			t.Fatalf("key reused for another stream: %v", err)
		}
		other = r
		other.Command = "Withdraw"
		_, err := s.Append(ctx, other)
		if !errors.Is(err, eventstore.ErrIdempotencyKeyReused) {
			t.Fatalf("key reused for another command: %v", err)
		}
		if code, ok := apperr.CodeOf(err); !ok || code != apperr.BadUserInput {
			t.Fatalf("code of %v = %q, want BAD_USER_INPUT", err, code)
		}
		// AppendLocked checks the key before calling decide.
		other = r
		other.StreamID = streamB
		_, err = s.AppendLocked(ctx, other, func([]eventstore.RecordedEvent) ([]eventstore.EventData, error) {
			t.Error("decide called for a reused key")
			return []eventstore.EventData{ev("B", payload{})}, nil
		})
		if !errors.Is(err, eventstore.ErrIdempotencyKeyReused) {
			t.Fatalf("AppendLocked with reused key: %v", err)
		}
		if _, _, err := s.LookupIdempotencyKey(ctx, r.IdempotencyKey, streamB, r.Command); !errors.Is(err, eventstore.ErrIdempotencyKeyReused) {
			t.Fatalf("LookupIdempotencyKey for another stream: %v", err)
		}
		if n := countEvents(t, ctx, pool, streamA, streamB); n != 1 {
			t.Fatalf("%d events stored, want 1", n)
		}
		if v, err := s.StreamVersion(ctx, streamB); err != nil || v != 0 {
			t.Fatalf("stream B version %d, %v; want 0", v, err)
		}
	})

	t.Run("CreateRetriedWithFreshStreamID", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		r := req(uuid.New(), eventstore.NoStream, ev("Opened", payload{N: 1}))
		r.IdempotencyKey, r.Command = "key-create", "Open"
		first := mustAppend(t, ctx, s, r)
		// The retry of a creating command made up another stream id: the
		// key identifies the command, and the original result comes back.
		retry := r
		retry.StreamID = uuid.New()
		again := mustAppend(t, ctx, s, retry)
		if !again.Duplicate || again.StreamID != r.StreamID {
			t.Fatalf("retry result %+v, want a duplicate of stream %s", again, r.StreamID)
		}
		again.Duplicate = false
		if again != first {
			t.Fatalf("retry result %+v, original %+v", again, first)
		}
		if looked, found, err := s.LookupIdempotencyKey(ctx, r.IdempotencyKey, uuid.Nil, r.Command); err != nil || !found || looked.StreamID != r.StreamID {
			t.Fatalf("LookupIdempotencyKey(any stream) = %+v, %v, %v", looked, found, err)
		}
		if v, err := s.StreamVersion(ctx, retry.StreamID); err != nil || v != 0 {
			t.Fatalf("retry's stream at version %d, %v; want 0", v, err)
		}
		// Another command is still refused.
		retry.Command = "Close"
		if _, err := s.Append(ctx, retry); !errors.Is(err, eventstore.ErrIdempotencyKeyReused) {
			t.Fatalf("key reused for another creating command: %v", err)
		}
		if n := countEvents(t, ctx, pool, r.StreamID, retry.StreamID); n != 1 {
			t.Fatalf("%d events stored, want 1", n)
		}
	})

	t.Run("AppendLockedDuplicate", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		stream := uuid.New()
		mustAppend(t, ctx, s, req(stream, eventstore.NoStream, ev("A", payload{N: 1})))
		r := req(stream, 0)
		r.IdempotencyKey, r.Command = "key-locked", "Count"
		calls := 0
		decide := func(events []eventstore.RecordedEvent) ([]eventstore.EventData, error) {
			calls++
			return []eventstore.EventData{ev("B", payload{N: int64(len(events) + 1)})}, nil
		}
		first, err := s.AppendLocked(ctx, r, decide)
		if err != nil || first.Duplicate || first.ToVersion != 2 {
			t.Fatalf("first AppendLocked = %+v, %v", first, err)
		}
		second, err := s.AppendLocked(ctx, r, decide)
		if err != nil || !second.Duplicate {
			t.Fatalf("second AppendLocked = %+v, %v", second, err)
		}
		second.Duplicate = false
		if second != first || calls != 1 {
			t.Fatalf("duplicate AppendLocked: %+v (decide called %d times), original %+v", second, calls, first)
		}
	})
}

// 4. An append is all or nothing.
func TestAppendAtomicity(t *testing.T) {
	t.Parallel()
	s, pool, _ := newDB(t)
	t.Run("MultiEvent", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		stream := uuid.New()
		var batch []eventstore.EventData
		for i := range 5 {
			batch = append(batch, ev("E", payload{N: int64(i + 1)}))
		}
		res := mustAppend(t, ctx, s, req(stream, eventstore.NoStream, batch...))
		if res.FromVersion != 1 || res.ToVersion != 5 || res.LastPosition <= res.FirstPosition {
			t.Fatalf("result %+v", res)
		}
		res2 := mustAppend(t, ctx, s, req(stream, 5, batch[:3]...))
		if res2.FromVersion != 6 || res2.ToVersion != 8 || res2.FirstPosition <= res.LastPosition || res2.TransactionID <= res.TransactionID {
			t.Fatalf("second result %+v after %+v", res2, res)
		}
		events := readAll(t, ctx, s, stream)
		if len(events) != 8 {
			t.Fatalf("%d events, want 8", len(events))
		}
		checkStreamShape(t, events)
		for i, e := range events {
			r := res
			if i >= 5 {
				r = res2
			}
			if e.TransactionID != r.TransactionID || e.Position < r.FirstPosition || e.Position > r.LastPosition {
				t.Fatalf("event %d at (%d, %d), outside its append %+v", e.Version, e.TransactionID, e.Position, r)
			}
			if want := int64(i%5 + 1); decode(t, e).N != want {
				t.Fatalf("event %d payload %s, want n=%d", e.Version, e.Data, want)
			}
		}
		if events[0].Position != res.FirstPosition || events[4].Position != res.LastPosition ||
			events[5].Position != res2.FirstPosition || events[7].Position != res2.LastPosition {
			t.Fatal("first/last positions of the results do not match the stored events")
		}
	})

	t.Run("InvalidInput", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		existing, newStream := uuid.New(), uuid.New()
		mustAppend(t, ctx, s, req(existing, eventstore.NoStream, ev("A", payload{N: 1})))
		good := ev("Good", payload{N: 1})
		for _, stream := range []uuid.UUID{newStream, existing} {
			cases := map[string]eventstore.AppendRequest{
				"no events":        req(stream, eventstore.Any),
				"no events, exact": req(stream, 1),
				"empty events":     {StreamID: stream, StreamType: streamType, ExpectedVersion: eventstore.Any, Events: []eventstore.EventData{}},
				"invalid JSON":     req(stream, eventstore.Any, good, eventstore.EventData{Type: "Bad", SchemaVersion: 1, Data: json.RawMessage(`{"n":`)}),
				"nil data":         req(stream, eventstore.Any, good, eventstore.EventData{Type: "Bad", SchemaVersion: 1}),
				"empty type":       req(stream, eventstore.Any, good, eventstore.EventData{SchemaVersion: 1, Data: json.RawMessage(`{}`)}),
				"nil stream id":    req(uuid.Nil, eventstore.Any, good),
				"empty streamtype": {StreamID: stream, ExpectedVersion: eventstore.Any, Events: []eventstore.EventData{good}},
				"bad expected":     req(stream, -2, good),
			}
			for name, r := range cases {
				_, err := s.Append(ctx, r)
				if err == nil {
					t.Fatalf("%s: append succeeded", name)
				}
				if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
					t.Fatalf("%s: %v is a version conflict", name, err)
				}
				r.IdempotencyKey, r.Command = "key-invalid-"+name, "Cmd"
				if _, err := s.Append(ctx, r); err == nil {
					t.Fatalf("%s with idempotency key: append succeeded", name)
				}
			}
			_, err := s.AppendLocked(ctx, req(stream, 0), func([]eventstore.RecordedEvent) ([]eventstore.EventData, error) {
				return []eventstore.EventData{good, {Type: "Bad", Data: json.RawMessage(`nope`)}}, nil
			})
			if err == nil {
				t.Fatal("AppendLocked with invalid JSON from decide succeeded")
			}
		}
		if n := countEvents(t, ctx, pool, uuid.Nil, existing, newStream); n != 1 {
			t.Fatalf("%d events stored, want only the first", n)
		}
		var streams, keys int
		if err := pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM streams WHERE stream_id = ANY($1)),
			(SELECT count(*) FROM idempotency_keys WHERE key LIKE 'key-invalid-%')`,
			[]uuid.UUID{uuid.Nil, existing, newStream}).Scan(&streams, &keys); err != nil {
			t.Fatal(err)
		}
		if streams != 1 || keys != 0 {
			t.Fatalf("%d streams and %d idempotency keys stored, want 1 and 0", streams, keys)
		}
		if v, err := s.StreamVersion(ctx, existing); err != nil || v != 1 {
			t.Fatalf("existing stream at version %d, %v; want 1", v, err)
		}
	})

	t.Run("ConflictWritesNothing", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		stream := uuid.New()
		mustAppend(t, ctx, s, req(stream, eventstore.NoStream, ev("A", payload{N: 1}), ev("A", payload{N: 2})))
		batch := []eventstore.EventData{ev("B", payload{N: 3}), ev("B", payload{N: 4}), ev("B", payload{N: 5})}
		for _, expected := range []int64{eventstore.NoStream, 1, 3, 7} {
			_, err := s.Append(ctx, req(stream, expected, batch...))
			checkWrongVersion(t, err, stream, expected, 2)
			r := req(stream, expected, batch...)
			r.IdempotencyKey, r.Command = fmt.Sprintf("key-conflict-%d", expected), "Cmd"
			_, err = s.Append(ctx, r)
			checkWrongVersion(t, err, stream, expected, 2)
		}
		// An exact version on a stream that does not exist does not create it.
		missing := uuid.New()
		_, err := s.Append(ctx, req(missing, 1, batch...))
		checkWrongVersion(t, err, missing, 1, 0)
		if v, err := s.StreamVersion(ctx, missing); err != nil || v != 0 {
			t.Fatalf("missing stream at version %d, %v", v, err)
		}
		if n := countEvents(t, ctx, pool, stream, missing); n != 2 {
			t.Fatalf("%d events stored after conflicts, want 2", n)
		}
		// The next successful append continues without a gap in versions.
		res := mustAppend(t, ctx, s, req(stream, 2, batch...))
		if res.FromVersion != 3 || res.ToVersion != 5 {
			t.Fatalf("append after conflicts: %+v", res)
		}
		checkStreamShape(t, readAll(t, ctx, s, stream))
	})
}

// 5. AppendLocked serialises deciders on the stream's lock.
func TestAppendLocked(t *testing.T) {
	t.Parallel()
	s, pool, _ := newDB(t)
	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		const goroutines = 50
		stream := uuid.New()
		mustAppend(t, ctx, s, req(stream, eventstore.NoStream, ev("Counted", payload{N: 1})))
		results := make([]eventstore.AppendResult, goroutines)
		errs := make([]error, goroutines)
		race(goroutines, func(i int) {
			results[i], errs[i] = s.AppendLocked(ctx, req(stream, eventstore.NoStream), func(events []eventstore.RecordedEvent) ([]eventstore.EventData, error) {
				for j, e := range events {
					if e.Version != int64(j+1) {
						return nil, fmt.Errorf("decide saw version %d at index %d", e.Version, j)
					}
				}
				return []eventstore.EventData{ev("Counted", payload{N: int64(len(events) + 1), G: i})}, nil
			})
		})
		versions := make(map[int64]bool)
		for i, err := range errs {
			if err != nil {
				t.Fatalf("goroutine %d: %v", i, err)
			}
			r := results[i]
			if r.FromVersion != r.ToVersion || versions[r.ToVersion] || r.ToVersion < 2 || r.ToVersion > goroutines+1 {
				t.Fatalf("goroutine %d: result %+v", i, r)
			}
			versions[r.ToVersion] = true
		}
		events := readAll(t, ctx, s, stream)
		if len(events) != goroutines+1 {
			t.Fatalf("stream has %d events, want %d", len(events), goroutines+1)
		}
		checkStreamShape(t, events)
		for _, e := range events {
			p := decode(t, e)
			if p.N != e.Version {
				t.Fatalf("event version %d carries n=%d: decide did not see the latest stream", e.Version, p.N)
			}
			if e.Version > 1 && results[p.G].ToVersion != e.Version {
				t.Fatalf("event version %d from goroutine %d, whose result says %d", e.Version, p.G, results[p.G].ToVersion)
			}
		}
	})

	t.Run("ConcurrentNewStream", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		const goroutines = 50
		stream := uuid.New()
		errs := make([]error, goroutines)
		race(goroutines, func(i int) {
			_, errs[i] = s.AppendLocked(ctx, req(stream, eventstore.Any), func(events []eventstore.RecordedEvent) ([]eventstore.EventData, error) {
				return []eventstore.EventData{ev("Counted", payload{N: int64(len(events) + 1), G: i})}, nil
			})
		})
		// AppendLocked's doc allows creators of a new stream to race (no
		// row to lock yet): a loser may get a version conflict, but no
		// append may be decided on a stale stream.
		succeeded := 0
		for i, err := range errs {
			if err == nil {
				succeeded++
				continue
			}
			var wev *eventstore.WrongExpectedVersionError
			if !errors.As(err, &wev) || wev.Expected != eventstore.NoStream {
				t.Fatalf("goroutine %d: %v, want a conflict creating the stream", i, err)
			}
		}
		events := readAll(t, ctx, s, stream)
		if succeeded == 0 || len(events) != succeeded {
			t.Fatalf("%d appends succeeded, stream has %d events", succeeded, len(events))
		}
		checkStreamShape(t, events)
		for _, e := range events {
			if p := decode(t, e); p.N != e.Version || errs[p.G] != nil {
				t.Fatalf("event version %d carries n=%d from goroutine %d (error %v)", e.Version, p.N, p.G, errs[p.G])
			}
		}
	})

	t.Run("NewStream", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		stream := uuid.New()
		res, err := s.AppendLocked(ctx, req(stream, 7), func(events []eventstore.RecordedEvent) ([]eventstore.EventData, error) {
			if len(events) != 0 {
				t.Errorf("decide got %d events of a new stream", len(events))
			}
			return []eventstore.EventData{ev("A", payload{N: 1}), ev("B", payload{N: 2})}, nil
		})
		if err != nil || res.FromVersion != 1 || res.ToVersion != 2 {
			t.Fatalf("AppendLocked on a new stream = %+v, %v", res, err)
		}
		checkStreamShape(t, readAll(t, ctx, s, stream))
	})

	t.Run("DecideError", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		stream := uuid.New()
		mustAppend(t, ctx, s, req(stream, eventstore.NoStream, ev("A", payload{N: 1})))
		errDecide := errors.New("insufficient funds")
		r := req(stream, eventstore.Any, ev("Ignored", payload{})) // Events are ignored
		r.IdempotencyKey, r.Command = "key-decide", "Withdraw"
		_, err := s.AppendLocked(ctx, r, func(events []eventstore.RecordedEvent) ([]eventstore.EventData, error) {
			if len(events) != 1 {
				t.Errorf("decide got %d events, want 1", len(events))
			}
			return []eventstore.EventData{ev("B", payload{N: 2})}, fmt.Errorf("withdraw: %w", errDecide)
		})
		if !errors.Is(err, errDecide) {
			t.Fatalf("AppendLocked error %v, want decide's", err)
		}
		if n := countEvents(t, ctx, pool, stream); n != 1 {
			t.Fatalf("%d events after decide failed, want 1", n)
		}
		// The key was not consumed by the failed command.
		if _, found, err := s.LookupIdempotencyKey(ctx, r.IdempotencyKey, stream, r.Command); err != nil || found {
			t.Fatalf("key of failed AppendLocked: found %v, %v", found, err)
		}

		// Deciding nothing appends nothing and reports the current version.
		res, err := s.AppendLocked(ctx, req(stream, 0), func([]eventstore.RecordedEvent) ([]eventstore.EventData, error) { return nil, nil })
		if err != nil || res.ToVersion != 1 || res.FromVersion != 1 || res.LastPosition != 0 {
			t.Fatalf("AppendLocked deciding nothing = %+v, %v", res, err)
		}
		if v, err := s.StreamVersion(ctx, stream); err != nil || v != 1 {
			t.Fatalf("stream version %d, %v; want 1", v, err)
		}
	})
}

// 6. What is stored comes back: metadata, ids, times, paging of ReadStream.
func TestStoredEvents(t *testing.T) {
	t.Parallel()
	s, _, _ := newDB(t)
	ctx := testCtx(t)
	stream, otherStream := uuid.New(), uuid.New()
	md := eventstore.Metadata{
		Actor: "user-1", CorrelationID: "corr-1", CausationID: "cause-1", CommandID: "cmd-1", Tenant: "tenant-ü",
	}
	before := time.Now()
	r := req(stream, eventstore.NoStream)
	for i := range 10 {
		e := ev(fmt.Sprintf("Type%d", i), payload{N: int64(i + 1)})
		e.SchemaVersion = i%3 + 1
		r.Events = append(r.Events, e)
	}
	r.Events[9].Data = json.RawMessage(`{"n": 10, "nested": {"list": [1, "two", null, true], "s": "\"quoted\" ✓"}}`)
	r.Metadata = md
	res := mustAppend(t, ctx, s, r)
	other := mustAppend(t, ctx, s, req(otherStream, eventstore.NoStream, ev("Other", payload{N: 1})))
	after := time.Now()

	events := readAll(t, ctx, s, stream)
	if len(events) != 10 {
		t.Fatalf("%d events, want 10", len(events))
	}
	checkStreamShape(t, events)
	for i, e := range events {
		want := r.Events[i]
		if e.StreamID != stream || e.StreamType != streamType || e.Type != want.Type || e.SchemaVersion != want.SchemaVersion {
			t.Fatalf("event %d: %+v, appended %+v", i, e, want)
		}
		if e.Metadata != md {
			t.Fatalf("event %d metadata %+v, want %+v", i, e.Metadata, md)
		}
		var got, exp any
		if err := json.Unmarshal(e.Data, &got); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(want.Data, &exp); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(exp) {
			t.Fatalf("event %d data %s, appended %s", i, e.Data, want.Data)
		}
		if e.EventID.Version() != 7 || e.EventID.Variant() != uuid.RFC4122 {
			t.Fatalf("event id %s is not a UUIDv7", e.EventID)
		}
		if i > 0 && bytes.Compare(e.EventID[:], events[i-1].EventID[:]) <= 0 {
			t.Fatalf("event ids not increasing: %s after %s", e.EventID, events[i-1].EventID)
		}
		if e.RecordedAt.Location() != time.UTC {
			t.Fatalf("RecordedAt %v is not UTC", e.RecordedAt)
		}
		if e.RecordedAt.Before(before.Add(-time.Minute)) || e.RecordedAt.After(after.Add(time.Minute)) {
			t.Fatalf("RecordedAt %v outside [%v, %v]", e.RecordedAt, before, after)
		}
		if e.TransactionID != res.TransactionID || e.Checkpoint() != (eventstore.Checkpoint{TransactionID: res.TransactionID, Position: e.Position}) {
			t.Fatalf("event %d transaction %d, append's %d", i, e.TransactionID, res.TransactionID)
		}
	}
	if res.Checkpoint() != events[9].Checkpoint() {
		t.Fatalf("result checkpoint %+v, last event's %+v", res.Checkpoint(), events[9].Checkpoint())
	}
	otherEvents := readAll(t, ctx, s, otherStream)
	if len(otherEvents) != 1 || otherEvents[0].Metadata != (eventstore.Metadata{}) || otherEvents[0].Position != other.LastPosition {
		t.Fatalf("other stream: %+v", otherEvents)
	}
	if slices.ContainsFunc(events, func(e eventstore.RecordedEvent) bool { return e.EventID == otherEvents[0].EventID }) {
		t.Fatal("event ids not unique across streams")
	}

	for _, tc := range []struct {
		after        int64
		limit        int
		wantVersions []int64
	}{
		{0, 0, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{0, -1, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{0, 1, []int64{1}},
		{3, 4, []int64{4, 5, 6, 7}},
		{8, 0, []int64{9, 10}},
		{8, 100, []int64{9, 10}},
		{10, 0, nil},
		{42, 5, nil},
	} {
		got, err := s.ReadStream(ctx, stream, tc.after, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		var versions []int64
		for _, e := range got {
			versions = append(versions, e.Version)
		}
		if !slices.Equal(versions, tc.wantVersions) {
			t.Fatalf("ReadStream(after %d, limit %d) = versions %v, want %v", tc.after, tc.limit, versions, tc.wantVersions)
		}
	}

	// The aggregate's read returns the same events, cut down to the fold's
	// fields, with the payload byte for byte.
	fold, err := s.ReadStreamForFold(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if len(fold) != len(events) {
		t.Fatalf("ReadStreamForFold: %d events, ReadStream %d", len(fold), len(events))
	}
	for i, fe := range fold {
		if want := events[i].FoldEvent(); fe.Version != want.Version || fe.Type != want.Type ||
			fe.SchemaVersion != want.SchemaVersion || !bytes.Equal(fe.Data, want.Data) {
			t.Fatalf("ReadStreamForFold event %d = %+v, ReadStream's %+v", i, fe, want)
		}
	}

	missing := uuid.New()
	if got, err := s.ReadStream(ctx, missing, 0, 0); err != nil || len(got) != 0 {
		t.Fatalf("ReadStream of a missing stream = %v, %v", got, err)
	}
	if got, err := s.ReadStreamForFold(ctx, missing); err != nil || len(got) != 0 {
		t.Fatalf("ReadStreamForFold of a missing stream = %v, %v", got, err)
	}
	for id, want := range map[uuid.UUID]int64{stream: 10, otherStream: 1, missing: 0} {
		if v, err := s.StreamVersion(ctx, id); err != nil || v != want {
			t.Fatalf("StreamVersion(%s) = %d, %v; want %d", id, v, err, want)
		}
	}
}

// insertRaw inserts into the streams and events tables in tx the way the
// store would, returning the event's id.
func insertRaw(t *testing.T, ctx context.Context, tx pgx.Tx, stream uuid.UUID) uuid.UUID {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	if _, err := tx.Exec(ctx, `INSERT INTO streams (stream_id, stream_type, version) VALUES ($1, $2, 1)`, stream, streamType); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO events (event_id, stream_id, stream_type, version, type, data) VALUES ($1, $2, $3, 1, 'Raw', '{"n": 1}')`,
		id, stream, streamType); err != nil {
		t.Fatal(err)
	}
	return id
}

func currentXact(t *testing.T, ctx context.Context, tx pgx.Tx) uint64 {
	t.Helper()
	var s string
	if err := tx.QueryRow(ctx, `SELECT pg_current_xact_id()::text`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	x, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// expectHeldBack asserts that ReadCommitted after cp returns nothing and
// reports that it is held back.
func expectHeldBack(t *testing.T, ctx context.Context, pool *pgxpool.Pool, cp eventstore.Checkpoint) {
	t.Helper()
	events, heldBack, err := eventstore.ReadCommitted(ctx, pool, cp, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 0 || !heldBack {
		t.Fatalf("ReadCommitted with an older transaction open = %d events, heldBack %v; want none, true", len(events), heldBack)
	}
}

// readCommitted reads from `after` in pages of limit until it has want
// events, retrying while the cluster-wide horizon holds it back, and checks
// that the read is then at the end.
func readCommitted(t *testing.T, ctx context.Context, pool *pgxpool.Pool, after eventstore.Checkpoint, limit, want int) []eventstore.RecordedEvent {
	t.Helper()
	var all []eventstore.RecordedEvent
	deadline := time.Now().Add(10 * time.Second)
	for len(all) < want {
		events, heldBack, err := eventstore.ReadCommitted(ctx, pool, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) > limit {
			t.Fatalf("ReadCommitted(limit %d) returned %d events", limit, len(events))
		}
		if len(events) > 0 && heldBack {
			t.Fatal("ReadCommitted returned events and heldBack")
		}
		for _, e := range events {
			if e.Checkpoint().Compare(after) <= 0 {
				t.Fatalf("event at %+v is not after checkpoint %+v", e.Checkpoint(), after)
			}
			after = e.Checkpoint()
			all = append(all, e)
		}
		if len(events) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("ReadCommitted: %d of %d events after 10s (heldBack %v)", len(all), want, heldBack)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if len(all) != want {
		t.Fatalf("ReadCommitted returned %d events, want %d", len(all), want)
	}
	// Everything was read, so nothing is beyond the horizon either.
	events, heldBack, err := eventstore.ReadCommitted(ctx, pool, after, limit)
	if err != nil || len(events) != 0 || heldBack {
		t.Fatalf("ReadCommitted at the end = %d events, heldBack %v, %v", len(events), heldBack, err)
	}
	return all
}

// 7. ReadCommitted never returns an event while an older transaction may
// still add events before it.
func TestReadCommitted(t *testing.T) {
	t.Parallel()
	s, pool, _ := newDB(t)
	// ReadCommitted reads the whole database, so the subtests run one after
	// the other, each from the checkpoint where the previous one ended.
	var cp eventstore.Checkpoint
	t.Run("OpenTransactionHoldsBack", func(t *testing.T) {
		ctx := testCtx(t)
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck
		held := insertRaw(t, ctx, tx, uuid.New())
		heldXact := currentXact(t, ctx, tx)
		later := mustAppend(t, ctx, s, req(uuid.New(), eventstore.NoStream, ev("Later", payload{N: 2})))
		if later.TransactionID <= heldXact {
			t.Fatalf("later append's transaction %d not after the open one's %d", later.TransactionID, heldXact)
		}
		expectHeldBack(t, ctx, pool, cp)
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		events := readCommitted(t, ctx, pool, cp, 100, 2)
		cp = events[1].Checkpoint()
		if events[0].EventID != held || events[0].TransactionID != heldXact {
			t.Fatalf("first event %s (xact %d), want the held one %s (xact %d)", events[0].EventID, events[0].TransactionID, held, heldXact)
		}
		if events[1].Position != later.LastPosition || events[1].TransactionID != later.TransactionID {
			t.Fatalf("second event at (%d, %d), want the later append's (%d, %d)",
				events[1].TransactionID, events[1].Position, later.TransactionID, later.LastPosition)
		}
	})

	t.Run("TransactionOrderNotPositionOrder", func(t *testing.T) {
		ctx := testCtx(t)
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck
		// Take a transaction id first, append elsewhere, then insert the
		// event: it gets the higher position but the lower transaction id.
		heldXact := currentXact(t, ctx, tx)
		later := mustAppend(t, ctx, s, req(uuid.New(), eventstore.NoStream, ev("Later", payload{N: 2})))
		held := insertRaw(t, ctx, tx, uuid.New())
		expectHeldBack(t, ctx, pool, cp)
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		events := readCommitted(t, ctx, pool, cp, 100, 2)
		cp = events[1].Checkpoint()
		if events[0].EventID != held || events[0].TransactionID != heldXact || events[1].Position != later.LastPosition {
			t.Fatalf("events in order %v/%v, want the held event first", events[0].EventID, events[1].EventID)
		}
		if events[0].Position <= events[1].Position {
			t.Fatalf("held event position %d not after %d: the test did not reorder", events[0].Position, events[1].Position)
		}
		// A reader checkpointed at the later event has passed the held one.
		if !later.Checkpoint().Reached(events[0].Checkpoint()) {
			t.Fatal("checkpoint of the later append does not reach the held event")
		}
	})

	t.Run("RolledBack", func(t *testing.T) {
		ctx := testCtx(t)
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck
		insertRaw(t, ctx, tx, uuid.New())
		later := mustAppend(t, ctx, s, req(uuid.New(), eventstore.NoStream, ev("Later", payload{N: 2})))
		expectHeldBack(t, ctx, pool, cp)
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		events := readCommitted(t, ctx, pool, cp, 100, 1)
		cp = events[0].Checkpoint()
		if events[0].Position != later.LastPosition || events[0].TransactionID != later.TransactionID {
			t.Fatalf("got event at (%d, %d), want the committed append's", events[0].TransactionID, events[0].Position)
		}
	})

	t.Run("StreamInVersionOrder", func(t *testing.T) {
		// Racing appenders of one stream, of every kind: read in
		// transaction order, the stream still comes in version order.
		ctx := testCtx(t)
		const goroutines = 45
		stream := uuid.New()
		errs := make([]error, goroutines)
		race(goroutines, func(i int) {
			r := req(stream, eventstore.Any, ev("Raced", payload{G: i}))
			switch i % 3 {
			case 0:
				_, errs[i] = s.Append(ctx, r)
			case 1:
				r.IdempotencyKey, r.Command = fmt.Sprintf("key-order-%d", i), "Raced"
				_, errs[i] = s.Append(ctx, r)
			case 2:
				r.IdempotencyKey, r.Command = fmt.Sprintf("key-order-%d", i), "Raced"
				_, errs[i] = s.AppendLocked(ctx, r, func([]eventstore.RecordedEvent) ([]eventstore.EventData, error) {
					return r.Events, nil
				})
			}
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("goroutine %d: %v", i, err)
			}
		}
		events := readCommitted(t, ctx, pool, cp, 100, goroutines)
		cp = events[len(events)-1].Checkpoint()
		for i, e := range events {
			if e.StreamID != stream || e.Version != int64(i+1) {
				t.Fatalf("event %d in transaction order is version %d (transaction %d, position %d)", i, e.Version, e.TransactionID, e.Position)
			}
		}
	})

	t.Run("Paging", func(t *testing.T) {
		ctx := testCtx(t)
		var want []int64
		// One three-event append, so a page boundary falls inside a
		// transaction, and two single appends.
		r := mustAppend(t, ctx, s, req(uuid.New(), eventstore.NoStream, ev("A", payload{N: 1}), ev("A", payload{N: 2}), ev("A", payload{N: 3})))
		for p := r.FirstPosition; p <= r.LastPosition; p++ {
			want = append(want, p)
		}
		for i := range 2 {
			r := mustAppend(t, ctx, s, req(uuid.New(), eventstore.NoStream, ev("B", payload{N: int64(i)})))
			want = append(want, r.LastPosition)
		}
		events := readCommitted(t, ctx, pool, cp, 2, 5)
		var got []int64
		for _, e := range events {
			got = append(got, e.Position)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("paged positions %v, want %v", got, want)
		}
		// Reading from the middle of the three-event transaction.
		rest := readCommitted(t, ctx, pool, events[1].Checkpoint(), 2, 3)
		cp = rest[2].Checkpoint()
		if rest[0].Position != want[2] {
			t.Fatalf("read after %+v starts at %d, want %d", events[1].Checkpoint(), rest[0].Position, want[2])
		}
	})
}

// 8. Every committed append notifies NotifyChannel with its last position.
func TestNotify(t *testing.T) {
	t.Parallel()
	s, _, url := newDB(t)
	ctx := testCtx(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{eventstore.NotifyChannel}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	expectNotification := func(res eventstore.AppendResult) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		n, err := conn.WaitForNotification(wctx)
		if err != nil {
			t.Fatalf("no notification for append %+v: %v", res, err)
		}
		if n.Channel != eventstore.NotifyChannel || n.Payload != strconv.FormatInt(res.LastPosition, 10) {
			t.Fatalf("notification %q on %q, want %d on %q", n.Payload, n.Channel, res.LastPosition, eventstore.NotifyChannel)
		}
	}

	stream := uuid.New()
	expectNotification(mustAppend(t, ctx, s, req(stream, eventstore.NoStream, ev("A", payload{N: 1}), ev("A", payload{N: 2}), ev("A", payload{N: 3}))))

	// Appends that do not commit events notify nothing: the next
	// notification is the one of the next successful append.
	if _, err := s.Append(ctx, req(stream, 1, ev("B", payload{}))); err == nil {
		t.Fatal("conflicting append succeeded")
	}
	if _, err := s.Append(ctx, req(stream, eventstore.NoStream, ev("B", payload{}))); err == nil {
		t.Fatal("conflicting append succeeded")
	}
	for _, expected := range []int64{eventstore.Any, eventstore.NoStream, 3} {
		if _, err := s.Append(ctx, req(stream, expected)); err == nil {
			t.Fatal("append without events succeeded")
		}
	}
	keyed := req(stream, 3, ev("C", payload{}))
	keyed.IdempotencyKey, keyed.Command = "key-notify", "Cmd"
	res := mustAppend(t, ctx, s, keyed)
	expectNotification(res)
	if dup := mustAppend(t, ctx, s, keyed); !dup.Duplicate {
		t.Fatal("second keyed append is not a duplicate")
	}
	if _, err := s.AppendLocked(ctx, req(stream, 0), func([]eventstore.RecordedEvent) ([]eventstore.EventData, error) {
		return []eventstore.EventData{ev("D", payload{})}, errors.New("refused")
	}); err == nil {
		t.Fatal("AppendLocked with a failing decide succeeded")
	}
	res, err = s.AppendLocked(ctx, req(stream, 0), func([]eventstore.RecordedEvent) ([]eventstore.EventData, error) {
		return []eventstore.EventData{ev("D", payload{})}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	expectNotification(res)

	// Finally a conflict alone: nothing arrives.
	if _, err := s.Append(ctx, req(stream, 2, ev("E", payload{}))); !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("conflicting append: %v", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if n, err := conn.WaitForNotification(wctx); err == nil {
		t.Fatalf("unexpected notification %q after a conflicting append", n.Payload)
	}
}

// TestEventStoredAroundTheStoreIsAConflict: an event written at a version
// the streams row does not count (raw SQL, around the store) makes an append
// at that version a wrong expected version, as a concurrent writer would,
// not an internal error: a repository then decides again on the log.
func TestEventStoredAroundTheStoreIsAConflict(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.NewPool(t)
	store := eventstore.New(pool)
	ctx := context.Background()
	id := uuid.New()
	event := []eventstore.EventData{{Type: "Happened", Data: []byte(`{}`)}}
	if _, err := store.Append(ctx, eventstore.AppendRequest{StreamID: id, StreamType: streamType, ExpectedVersion: eventstore.NoStream, Events: event}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO events (event_id, stream_id, stream_type, version, type, data)
		VALUES (gen_random_uuid(), $1, $2, 2, 'Happened', '{}')`, id, streamType); err != nil {
		t.Fatal(err)
	}
	_, err := store.Append(ctx, eventstore.AppendRequest{StreamID: id, StreamType: streamType, ExpectedVersion: 1, Events: event})
	var wrong *eventstore.WrongExpectedVersionError
	if !errors.As(err, &wrong) || wrong.Expected != 1 || wrong.Actual != 2 {
		t.Fatalf("err %v, want a wrong expected version 1, actual 2", err)
	}
}
