package live_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/projection"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// gateBroker is a Broker whose Publish announces each update on started and
// then waits for a value on release (or for ctx to end).
type gateBroker struct {
	started chan projection.Update
	release chan struct{}
}

func newGateBroker() *gateBroker {
	return &gateBroker{started: make(chan projection.Update, 100), release: make(chan struct{})}
}

func (b *gateBroker) Publish(ctx context.Context, u projection.Update) error {
	b.started <- u
	select {
	case <-b.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *gateBroker) Run(ctx context.Context, _ func(projection.Update), resync func()) error {
	resync()
	<-ctx.Done()
	return ctx.Err()
}

// next waits for the next Publish call.
func (b *gateBroker) next(t *testing.T) projection.Update {
	t.Helper()
	select {
	case u := <-b.started:
		return u
	case <-time.After(5 * time.Second):
		t.Fatal("no publish within 5s")
		return projection.Update{}
	}
}

// none asserts that no Publish call starts within d.
func (b *gateBroker) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case u := <-b.started:
		t.Fatalf("unexpected publish %+v", u)
	case <-time.After(d):
	}
}

// runPublisher runs p until the test ends and checks that Run returns
// ctx's error promptly.
func runPublisher(t *testing.T, p *live.Publisher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Publisher.Run returned %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Publisher.Run did not return after ctx was cancelled")
		}
	})
}

func cp(tx uint64, pos int64) eventstore.Checkpoint {
	return eventstore.Checkpoint{TransactionID: tx, Position: pos}
}

func sortedKeys(u projection.Update) []string {
	k := slices.Clone(u.Keys)
	slices.Sort(k)
	return k
}

func TestPublisherMergesWhilePublishing(t *testing.T) {
	t.Parallel()
	b := newGateBroker()
	p := live.NewPublisher(b, discardLogger())
	runPublisher(t, p)

	first := projection.Update{Projection: "accounts", Checkpoint: cp(1, 1), Keys: []string{"a0"}}
	p.Offer(first)
	if got := b.next(t); got.Projection != "accounts" || got.Checkpoint != cp(1, 1) || !slices.Equal(got.Keys, []string{"a0"}) {
		t.Fatalf("first publish = %+v, want %+v", got, first)
	}

	// The broker is now stuck in Publish; Offer must not wait for it.
	offered := make(chan struct{})
	go func() {
		defer close(offered)
		p.Offer(projection.Update{Projection: "operations", Checkpoint: cp(5, 2), Keys: []string{"o1"}})
		p.Offer(projection.Update{Projection: "accounts", Checkpoint: cp(3, 1), Keys: []string{"a1"}})
		p.Offer(projection.Update{Projection: "accounts", Checkpoint: cp(9, 4), Keys: []string{"a2", "a1"}})
		p.Offer(projection.Update{Projection: "operations", Checkpoint: cp(5, 7), Keys: []string{"o2"}})
		p.Offer(projection.Update{Projection: "operations", Checkpoint: cp(4, 99), Keys: nil})
		p.Offer(projection.Update{Projection: "accounts", Checkpoint: cp(9, 3), Keys: []string{"a3"}})
		for i := range 10_000 {
			p.Offer(projection.Update{Projection: "accounts", Checkpoint: cp(uint64(i%9), 1), Keys: []string{"a1"}})
		}
	}()
	select {
	case <-offered:
	case <-time.After(5 * time.Second):
		t.Fatal("Offer blocked while the broker's Publish was blocked")
	}
	b.none(t, 50*time.Millisecond) // still stuck in the first publish

	b.release <- struct{}{}
	ops := b.next(t)
	if ops.Projection != "operations" {
		t.Fatalf("second publish is of %q, want operations (offered first in this round)", ops.Projection)
	}
	if ops.Checkpoint != cp(5, 7) {
		t.Errorf("operations merged checkpoint = %+v, want the highest {5 7}", ops.Checkpoint)
	}
	if got := sortedKeys(ops); !slices.Equal(got, []string{"o1", "o2"}) {
		t.Errorf("operations merged keys = %v, want [o1 o2]", got)
	}

	b.release <- struct{}{}
	acc := b.next(t)
	if acc.Projection != "accounts" {
		t.Fatalf("third publish is of %q, want accounts", acc.Projection)
	}
	if acc.Checkpoint != cp(9, 4) {
		t.Errorf("accounts merged checkpoint = %+v, want the highest {9 4}", acc.Checkpoint)
	}
	if got := sortedKeys(acc); !slices.Equal(got, []string{"a1", "a2", "a3"}) {
		t.Errorf("accounts merged keys = %v, want [a1 a2 a3] (each once)", got)
	}
	b.release <- struct{}{}
	b.none(t, 100*time.Millisecond) // merged updates go out once

	// A later offer goes out on its own.
	p.Offer(projection.Update{Projection: "accounts", Checkpoint: cp(10, 1), Keys: []string{"z"}})
	if got := b.next(t); got.Checkpoint != cp(10, 1) || !slices.Equal(got.Keys, []string{"z"}) {
		t.Errorf("later publish = %+v, want only its own keys at {10 1}", got)
	}
	b.release <- struct{}{}
}

func TestPublisherKeepsOrderAcrossProjections(t *testing.T) {
	t.Parallel()
	b := newGateBroker()
	p := live.NewPublisher(b, discardLogger())
	// Offered before Run starts: all pending in one round. The caller
	// may reuse its key slices once Offer has returned.
	keys := make([]string, 1, 10)
	keys[0] = "k1"
	p.Offer(projection.Update{Projection: "c", Checkpoint: cp(1, 1), Keys: keys})
	keys[0] = "mutated"
	keys = append(keys[:0], "k2")
	p.Offer(projection.Update{Projection: "a", Checkpoint: cp(2, 1), Keys: keys})
	keys[0] = "mutated"
	p.Offer(projection.Update{Projection: "b", Checkpoint: cp(3, 1)})
	p.Offer(projection.Update{Projection: "c", Checkpoint: cp(4, 1), Keys: []string{"k3"}})
	runPublisher(t, p)

	var got []string
	for range 3 {
		u := b.next(t)
		got = append(got, u.Projection)
		if u.Projection == "a" && !slices.Equal(u.Keys, []string{"k2"}) {
			t.Errorf("a keys = %v, want [k2] (not affected by the caller's later writes)", u.Keys)
		}
		if u.Projection == "c" {
			if k := sortedKeys(u); !slices.Equal(k, []string{"k1", "k3"}) {
				t.Errorf("c keys = %v, want [k1 k3] (not affected by the caller's later writes)", k)
			}
			if u.Checkpoint != cp(4, 1) {
				t.Errorf("c checkpoint = %+v, want {4 1}", u.Checkpoint)
			}
		}
		b.release <- struct{}{}
	}
	if want := []string{"c", "a", "b"}; !slices.Equal(got, want) {
		t.Errorf("publish order = %v, want %v (first offered first)", got, want)
	}
	b.none(t, 50*time.Millisecond)
}

// failBroker fails its first Publish and records the others.
type failBroker struct {
	mu        sync.Mutex
	calls     int
	published chan projection.Update
}

func (b *failBroker) Publish(_ context.Context, u projection.Update) error {
	b.mu.Lock()
	b.calls++
	first := b.calls == 1
	b.mu.Unlock()
	if first {
		return errors.New("broker down")
	}
	b.published <- u
	return nil
}

func (b *failBroker) Run(ctx context.Context, _ func(projection.Update), _ func()) error {
	<-ctx.Done()
	return ctx.Err()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestPublisherSurvivesPublishError(t *testing.T) {
	b := &failBroker{published: make(chan projection.Update, 10)}
	var logs syncBuffer
	p := live.NewPublisher(b, slog.New(slog.NewTextHandler(&logs, nil)))
	runPublisher(t, p)

	p.Offer(projection.Update{Projection: "accounts", Checkpoint: cp(1, 1), Keys: []string{"lost"}})
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "broker down") {
		if time.Now().After(deadline) {
			t.Fatalf("failed publish not logged; logs: %q", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.Offer(projection.Update{Projection: "accounts", Checkpoint: cp(2, 1), Keys: []string{"next"}})
	select {
	case u := <-b.published:
		if u.Checkpoint != cp(2, 1) || !slices.Equal(u.Keys, []string{"next"}) {
			t.Errorf("published %+v after the failure, want the next update alone", u)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Publisher stopped publishing after one failure")
	}
}
