package eventstore_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/google/uuid"
)

// observed records the calls of an AppendObserver.
type observed struct {
	mu    sync.Mutex
	calls []string // "streamType:n"
}

func (o *observed) observe(streamType string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, fmt.Sprintf("%s:%d", streamType, n))
}

// take returns the calls since the last take.
func (o *observed) take() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	calls := o.calls
	o.calls = nil
	return calls
}

// TestAppendObserver: the observer hears of every committed append with its
// event count, and of nothing else: not a wrong expected version, not a
// duplicate idempotency key, not an AppendLocked that decided nothing.
func TestAppendObserver(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.NewPool(t)
	var o observed
	s := eventstore.New(pool, eventstore.WithAppendObserver(o.observe))
	ctx := testCtx(t)
	stream := uuid.New()
	check := func(what string, want ...string) {
		t.Helper()
		if got := o.take(); !slices.Equal(got, want) {
			t.Errorf("%s: observed %q, want %q", what, got, want)
		}
	}

	mustAppend(t, ctx, s, req(stream, eventstore.NoStream, ev("A", payload{N: 1}), ev("B", payload{N: 2})))
	check("append of 2", streamType+":2")

	if _, err := s.Append(ctx, req(stream, 1, ev("C", payload{}))); !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("stale append: %v, want a wrong expected version", err)
	}
	check("stale append")

	keyed := req(stream, eventstore.Any, ev("C", payload{N: 3}))
	keyed.IdempotencyKey, keyed.Command = "observer-"+uuid.NewString(), "c"
	mustAppend(t, ctx, s, keyed)
	check("keyed append", streamType+":1")
	if res := mustAppend(t, ctx, s, keyed); !res.Duplicate {
		t.Fatalf("second keyed append: %+v, want a duplicate", res)
	}
	check("duplicate keyed append")

	locked := req(stream, eventstore.Any)
	if _, err := s.AppendLocked(ctx, locked, func([]eventstore.RecordedEvent) ([]eventstore.EventData, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	check("AppendLocked deciding nothing")
	if _, err := s.AppendLocked(ctx, locked, func([]eventstore.RecordedEvent) ([]eventstore.EventData, error) {
		return []eventstore.EventData{ev("D", payload{}), ev("E", payload{}), ev("F", payload{})}, nil
	}); err != nil {
		t.Fatal(err)
	}
	check("AppendLocked of 3", streamType+":3")
	refused := errors.New("refused")
	if _, err := s.AppendLocked(ctx, locked, func([]eventstore.RecordedEvent) ([]eventstore.EventData, error) { return nil, refused }); !errors.Is(err, refused) {
		t.Fatalf("AppendLocked refused: %v", err)
	}
	check("AppendLocked refused")

	// A store without an observer appends as before.
	mustAppend(t, ctx, eventstore.New(pool), req(uuid.New(), eventstore.NoStream, ev("A", payload{})))
	check("store without observer")
}
