package aggregate_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A counter that may not go above its limit: the smallest aggregate with an
// invariant that concurrent commands can break if the repository lets them.
type counter struct{ Value, Limit int }

type (
	created     struct{ Limit int }
	incremented struct{ By int }
)

func (created) EventType() string     { return "Created" }
func (incremented) EventType() string { return "Incremented" }

var errOverLimit = apperr.New("OVER_LIMIT", "over limit")

// counterEvents registers the counter's events, both at schema version 1.
var counterEvents = func() *aggregate.Events {
	r := aggregate.NewEvents("counter")
	aggregate.Register[created](r, 1)
	aggregate.Register[incremented](r, 1)
	return r
}()

var counterType = aggregate.Type[counter]{
	StreamType: "counter",
	Initial:    func() counter { return counter{} },
	Evolve: func(c counter, e aggregate.Event) counter {
		switch e := e.(type) {
		case created:
			c.Limit = e.Limit
		case incremented:
			c.Value += e.By
		}
		return c
	},
	Events: counterEvents,
}

func increment(c counter) ([]aggregate.Event, error) {
	if c.Value+1 > c.Limit {
		return nil, errOverLimit
	}
	return []aggregate.Event{incremented{By: 1}}, nil
}

// newRepository returns a counter repository on a database of its own, and
// the database's pool.
func newRepository(t *testing.T) (*aggregate.Repository[counter], *pgxpool.Pool) {
	t.Helper()
	pool, _ := pgtest.NewPool(t)
	return aggregate.NewRepository(eventstore.New(pool), counterType, nil), pool
}

func newCounter(t *testing.T, limit int) (*aggregate.Repository[counter], *eventstore.Store, uuid.UUID) {
	t.Helper()
	pool, _ := pgtest.NewPool(t)
	store := eventstore.New(pool)
	repo := aggregate.NewRepository(store, counterType, nil)
	id := uuid.New()
	_, err := repo.Handle(context.Background(), id, "Create", aggregate.Options{}, func(counter) ([]aggregate.Event, error) {
		return []aggregate.Event{created{Limit: limit}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return repo, store, id
}

// create creates a counter of limit 5, unless it exists.
func create(c counter) ([]aggregate.Event, error) {
	if c.Limit != 0 {
		return nil, errors.New("already created")
	}
	return []aggregate.Event{created{Limit: 5}}, nil
}

func ptr[T any](v T) *T { return &v }

func TestHandleWithoutExpectedVersionSerialisesConcurrentCommands(t *testing.T) {
	t.Parallel()
	const writers, limit = 40, 30
	repo, store, id := newCounter(t, limit)

	var wg sync.WaitGroup
	var ok, over atomic.Int32
	for range writers {
		wg.Go(func() {
			_, err := repo.Handle(context.Background(), id, "Increment", aggregate.Options{}, increment)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, errOverLimit):
				over.Add(1)
			default:
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	wg.Wait()
	// Every command ran on the latest state: exactly `limit` succeed and the
	// invariant holds, although all of them raced.
	if ok.Load() != limit || over.Load() != writers-limit {
		t.Fatalf("succeeded %d, refused %d; want %d and %d", ok.Load(), over.Load(), limit, writers-limit)
	}
	state, version, err := repo.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if state.Value != limit || version != limit+1 {
		t.Fatalf("state %+v at version %d; want value %d at version %d", state, version, limit, limit+1)
	}
	events, err := store.ReadStream(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range events {
		if e.Version != int64(i+1) {
			t.Fatalf("event %d has version %d", i, e.Version)
		}
	}
}

func TestHandleWithExpectedVersionFailsOnConflict(t *testing.T) {
	t.Parallel()
	repo, store, id := newCounter(t, 100)
	ctx := context.Background()

	const writers = 20
	var wg sync.WaitGroup
	var won, conflicted atomic.Int32
	for range writers {
		wg.Go(func() {
			_, err := repo.Handle(ctx, id, "Increment", aggregate.Options{ExpectedVersion: ptr[int64](1)}, increment)
			var wrong *eventstore.WrongExpectedVersionError
			switch {
			case err == nil:
				won.Add(1)
			case errors.As(err, &wrong) && wrong.Expected == 1:
				conflicted.Add(1)
				if code, _ := apperr.CodeOf(err); code != apperr.Conflict {
					t.Errorf("code %q, want CONFLICT", code)
				}
			default:
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 || conflicted.Load() != writers-1 {
		t.Fatalf("won %d, conflicted %d; want 1 and %d", won.Load(), conflicted.Load(), writers-1)
	}
	if v, err := store.StreamVersion(ctx, id); err != nil || v != 2 {
		t.Fatalf("stream version %d (%v), want 2", v, err)
	}

	// A stale expected version is refused before deciding anything.
	decided := false
	_, err := repo.Handle(ctx, id, "Increment", aggregate.Options{ExpectedVersion: ptr[int64](1)}, func(c counter) ([]aggregate.Event, error) {
		decided = true
		return increment(c)
	})
	if !errors.Is(err, eventstore.ErrWrongExpectedVersion) || decided {
		t.Fatalf("err %v, decided %v; want a conflict without deciding", err, decided)
	}
}

func TestHandleIdempotencyKeyDecidesOnce(t *testing.T) {
	t.Parallel()
	repo, store, id := newCounter(t, 100)
	ctx := context.Background()

	var decisions atomic.Int32
	decide := func(c counter) ([]aggregate.Event, error) {
		decisions.Add(1)
		return increment(c)
	}
	opts := aggregate.Options{IdempotencyKey: "k-" + uuid.NewString(), ExpectedVersion: ptr[int64](1)}
	first, err := repo.Handle(ctx, id, "Increment", opts, decide)
	if err != nil {
		t.Fatal(err)
	}
	// The retry carries the now stale expected version: it must still get
	// the original result, not a conflict.
	again, err := repo.Handle(ctx, id, "Increment", opts, decide)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.LastPosition != first.LastPosition || again.ToVersion != first.ToVersion {
		t.Fatalf("retry %+v, want the original %+v marked duplicate", again, first)
	}
	if decisions.Load() != 1 {
		t.Fatalf("decided %d times, want 1", decisions.Load())
	}
	if v, _ := store.StreamVersion(ctx, id); v != 2 {
		t.Fatalf("stream version %d, want 2", v)
	}
	// The same key for another command is refused.
	_, err = repo.Handle(ctx, id, "Other", opts, decide)
	if !errors.Is(err, eventstore.ErrIdempotencyKeyReused) {
		t.Fatalf("err %v, want ErrIdempotencyKeyReused", err)
	}
}

func TestHandleDomainErrorAppendsNothing(t *testing.T) {
	t.Parallel()
	repo, store, id := newCounter(t, 0)
	ctx := context.Background()
	_, err := repo.Handle(ctx, id, "Increment", aggregate.Options{}, increment)
	if !errors.Is(err, errOverLimit) {
		t.Fatalf("err %v, want errOverLimit", err)
	}
	if v, _ := store.StreamVersion(ctx, id); v != 1 {
		t.Fatalf("stream version %d, want 1", v)
	}
}

func TestHandleCreatesStreamOnce(t *testing.T) {
	t.Parallel()
	repo, _ := newRepository(t)
	id := uuid.New()
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range 20 {
		wg.Go(func() {
			if _, err := repo.Handle(context.Background(), id, "Create", aggregate.Options{}, create); err == nil {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d creations succeeded, want exactly 1", ok.Load())
	}
}

func TestHandleRefusesANegativeExpectedVersion(t *testing.T) {
	t.Parallel()
	repo, store, id := newCounter(t, 5)
	ctx := context.Background()
	_, err := repo.Handle(ctx, id, "Increment", aggregate.Options{ExpectedVersion: ptr(int64(-1))}, increment)
	if !errors.Is(err, aggregate.ErrInvalidExpectedVersion) || err.Error() != "invalid input: expectedVersion must be at least 0, got -1" {
		t.Fatalf("err %v, want ErrInvalidExpectedVersion", err)
	}
	if code, _ := apperr.CodeOf(err); code != apperr.BadUserInput {
		t.Fatalf("code %q, want BAD_USER_INPUT", code)
	}
	if v, _ := store.StreamVersion(ctx, id); v != 1 {
		t.Fatalf("stream version %d, want 1", v)
	}
}
