package aggregate_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// countingStore counts the stream reads a repository makes to load
// aggregates.
type countingStore struct {
	*eventstore.Store
	reads atomic.Int64
}

func (s *countingStore) ReadStreamForFold(ctx context.Context, id uuid.UUID) ([]eventstore.FoldEvent, error) {
	s.reads.Add(1)
	return s.Store.ReadStreamForFold(ctx, id)
}

// instance is one server process's view of the shared database: its own
// store and a repository with a state cache.
type instance struct {
	store *countingStore
	repo  *aggregate.Repository[counter]
}

// twoInstances returns two instances with caches of 10 streams on a
// database of the test's own (the test runs in parallel).
func twoInstances(t *testing.T) (instance, instance) {
	t.Helper()
	t.Parallel()
	pool, _ := pgtest.NewPool(t)
	return newInstance(pool, 10), newInstance(pool, 10)
}

func newInstance(pool *pgxpool.Pool, cacheSize int) instance {
	store := &countingStore{Store: eventstore.New(pool)}
	return instance{store: store, repo: aggregate.NewRepository[counter](store, counterType, nil, aggregate.CacheStates(cacheSize))}
}

// incrementBy runs n increments of counter id on repo.
func incrementBy(t *testing.T, repo *aggregate.Repository[counter], id uuid.UUID, n int) {
	t.Helper()
	for range n {
		if _, err := repo.Handle(context.Background(), id, "Increment", aggregate.Options{}, increment); err != nil {
			t.Fatal(err)
		}
	}
}

func createCounter(t *testing.T, repo *aggregate.Repository[counter], limit int) uuid.UUID {
	t.Helper()
	id := uuid.New()
	_, err := repo.Handle(context.Background(), id, "Create", aggregate.Options{}, func(counter) ([]aggregate.Event, error) {
		return []aggregate.Event{created{Limit: limit}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestCachedStateSkipsTheStreamRead(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.NewPool(t)
	a := newInstance(pool, 10)
	ctx := context.Background()
	id := createCounter(t, a.repo, 3)
	incrementBy(t, a.repo, id, 3)
	// Only the creation read the (empty) stream.
	if n := a.store.reads.Load(); n != 1 {
		t.Fatalf("%d stream reads for 4 commands, want 1", n)
	}
	// Refused on the cached state (value 3 of 3): the refusal is final
	// only on the stored stream, which is read; nothing is appended.
	if _, err := a.repo.Handle(ctx, id, "Increment", aggregate.Options{}, increment); !errors.Is(err, errOverLimit) {
		t.Fatalf("err %v, want errOverLimit", err)
	}
	if n := a.store.reads.Load(); n != 2 {
		t.Fatalf("%d stream reads after a refusal, want 2", n)
	}
	if state, version, err := a.repo.Load(ctx, id); err != nil || state.Value != 3 || version != 4 {
		t.Fatalf("state %+v at version %d (%v), want value 3 at version 4", state, version, err)
	}
}

func TestStaleCachedStateIsDecidedAgainOnTheStoredStream(t *testing.T) {
	a, b := twoInstances(t)
	ctx := context.Background()
	id := createCounter(t, a.repo, 3) // a caches value 0 at version 1

	// Another instance takes the counter to its limit.
	incrementBy(t, b.repo, id, 3)
	// a's cached state (value 0) would allow it; the stored stream does not.
	if _, err := a.repo.Handle(ctx, id, "Increment", aggregate.Options{}, increment); !errors.Is(err, errOverLimit) {
		t.Fatalf("err %v, want errOverLimit from the stored state", err)
	}
	if v, err := a.store.StreamVersion(ctx, id); err != nil || v != 4 {
		t.Fatalf("stream version %d (%v), want 4", v, err)
	}
}

func TestRefusalOnAStaleCachedStateIsDecidedAgain(t *testing.T) {
	a, b := twoInstances(t)
	ctx := context.Background()
	id := createCounter(t, a.repo, 5) // a caches value 0
	incrementBy(t, b.repo, id, 2)
	// Allowed from value 2 on: a's cached state (value 0) refuses it, the
	// stored stream (value 2) allows it.
	atLeastTwo := func(c counter) ([]aggregate.Event, error) {
		if c.Value < 2 {
			return nil, errOverLimit
		}
		return increment(c)
	}
	if res, err := a.repo.Handle(ctx, id, "Increment", aggregate.Options{}, atLeastTwo); err != nil || res.ToVersion != 4 {
		t.Fatalf("result %+v, err %v; want version 4 from the stored state", res, err)
	}
}

func TestStaleCachedStateWithTheExpectedVersionOfTheStore(t *testing.T) {
	a, b := twoInstances(t)
	ctx := context.Background()
	id := createCounter(t, a.repo, 10) // a caches version 1
	incrementBy(t, b.repo, id, 1)
	// The client saw version 2 (b's write); a's cache is at 1. The command
	// is decided on the stored stream, not refused for a's stale version.
	res, err := a.repo.Handle(ctx, id, "Increment", aggregate.Options{ExpectedVersion: ptr[int64](2)}, increment)
	if err != nil || res.ToVersion != 3 {
		t.Fatalf("result %+v, err %v; want version 3", res, err)
	}
	// An expected version that neither the cache nor the store has is a
	// conflict that reports the stored version.
	_, err = a.repo.Handle(ctx, id, "Increment", aggregate.Options{ExpectedVersion: ptr[int64](2)}, increment)
	var wrong *eventstore.WrongExpectedVersionError
	if !errors.As(err, &wrong) || wrong.Actual != 3 {
		t.Fatalf("err %v, want a conflict at version 3", err)
	}
}

func TestStateCacheKeepsTheMostRecentlyUsedStreams(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.NewPool(t)
	a := newInstance(pool, 2)
	ctx := context.Background()
	ids := []uuid.UUID{createCounter(t, a.repo, 9), createCounter(t, a.repo, 9), createCounter(t, a.repo, 9)}
	reads := a.store.reads.Load() // 3: one per creation; ids[0] is out
	for _, id := range []uuid.UUID{ids[2], ids[1], ids[0]} {
		if _, err := a.repo.Handle(ctx, id, "Increment", aggregate.Options{}, increment); err != nil {
			t.Fatal(err)
		}
	}
	if n := a.store.reads.Load() - reads; n != 1 {
		t.Fatalf("%d stream reads, want 1 (the evicted stream only)", n)
	}
}

// A tally's Evolve updates its map in place, like Stock's reservations: a
// cache that handed one state to two commands at once would race (-race).
type tally struct{ Seen map[string]int }

type counted struct{ Key string }

func (counted) EventType() string { return "Counted" }

var tallyType = aggregate.Type[tally]{
	StreamType: "tally",
	Initial:    func() tally { return tally{} },
	Evolve: func(t tally, e aggregate.Event) tally {
		if c, ok := e.(counted); ok {
			if t.Seen == nil {
				t.Seen = map[string]int{}
			}
			t.Seen[c.Key]++
		}
		return t
	},
	Events: func() *aggregate.Events {
		r := aggregate.NewEvents("tally")
		aggregate.Register[counted](r, 1)
		return r
	}(),
}

func TestCachedStatesUnderConcurrentCommandsOnTwoInstances(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.NewPool(t)
	ctx := context.Background()
	const (
		instances, writers, perWriter = 2, 12, 10
		keys                          = 4 // distinct keys a tally may count, its invariant
	)
	var repos []*aggregate.Repository[tally]
	for range instances {
		repos = append(repos, aggregate.NewRepository[tally](eventstore.New(pool), tallyType, nil, aggregate.CacheStates(100)))
	}
	streams := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range instances * writers {
		repo := repos[i%instances]
		wg.Go(func() {
			for j := range perWriter {
				id := streams[(i+j)%len(streams)]
				key := fmt.Sprint((i * j) % (keys + 2))
				// At most `keys` distinct keys per tally: decided on the
				// state, so a stale one would let a fifth key in.
				_, err := repo.Handle(ctx, id, "Count", aggregate.Options{}, func(s tally) ([]aggregate.Event, error) {
					// The state must not change under a decision: a state
					// shared with another command would (its Evolve).
					before := maps.Clone(s.Seen)
					time.Sleep(time.Millisecond)
					if !maps.Equal(before, s.Seen) {
						t.Error("the state changed while a command decided on it")
					}
					if _, seen := s.Seen[key]; !seen && len(s.Seen) >= keys {
						return nil, errOverLimit
					}
					return []aggregate.Event{counted{Key: key}}, nil
				})
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, errOverLimit):
					refused.Add(1)
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}
		})
	}
	wg.Wait()
	var stored int64
	for _, id := range streams {
		s, v, err := aggregate.NewRepository[tally](eventstore.New(pool), tallyType, nil).Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Seen) > keys {
			t.Errorf("stream %s counted %d distinct keys, at most %d allowed", id, len(s.Seen), keys)
		}
		stored += v
	}
	if stored != ok.Load() || ok.Load()+refused.Load() != instances*writers*perWriter {
		t.Fatalf("%d events stored, %d commands succeeded and %d refused, of %d", stored, ok.Load(), refused.Load(), instances*writers*perWriter)
	}
}

func TestCachedStateIsHeldByOneCommandAtATime(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.NewPool(t)
	repo := aggregate.NewRepository[tally](eventstore.New(pool), tallyType, nil, aggregate.CacheStates(10))
	ctx := context.Background()
	id := uuid.New()
	count := func(key string) aggregate.Decide[tally] {
		return func(tally) ([]aggregate.Event, error) { return []aggregate.Event{counted{Key: key}}, nil }
	}
	if _, err := repo.Handle(ctx, id, "Count", aggregate.Options{}, count("a")); err != nil {
		t.Fatal(err)
	}
	// A decides on the cached state and waits; B runs to its end meanwhile.
	deciding, release := make(chan tally), make(chan struct{})
	done := make(chan error)
	go func() {
		var once sync.Once // decided again, on the stored stream, after B
		_, err := repo.Handle(ctx, id, "Count", aggregate.Options{}, func(s tally) ([]aggregate.Event, error) {
			once.Do(func() {
				deciding <- s
				<-release
			})
			return []aggregate.Event{counted{Key: "a"}}, nil
		})
		done <- err
	}()
	held := <-deciding
	before := maps.Clone(held.Seen)
	if _, err := repo.Handle(ctx, id, "Count", aggregate.Options{}, count("b")); err != nil {
		t.Fatal(err)
	}
	// B's Evolve must not have touched the map A is deciding on.
	if !maps.Equal(before, held.Seen) {
		t.Fatalf("the state under a decision changed from %v to %v", before, held.Seen)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s, v, err := repo.Load(ctx, id)
	if err != nil || v != 3 || s.Seen["a"] != 2 || s.Seen["b"] != 1 {
		t.Fatalf("state %v at version %d (%v), want a:2 b:1 at version 3", s.Seen, v, err)
	}
}
