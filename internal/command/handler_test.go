package command_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A note: the smallest aggregate with a creating command and one on an
// existing stream.
type note struct {
	ID, Organization, Text string
}

type (
	noteWritten struct{ ID, Organization, Text, By string }
	noteEdited  struct{ Text, By string }
)

func (noteWritten) EventType() string { return "NoteWritten" }
func (noteEdited) EventType() string  { return "NoteEdited" }

var (
	errNoteInvalid  = apperr.New(apperr.BadUserInput, "invalid input")
	errNoteNotFound = apperr.New(apperr.NotFound, "note not found")
)

var noteType = aggregate.Type[note]{
	StreamType: "note",
	Initial:    func() note { return note{} },
	Evolve: func(n note, e aggregate.Event) note {
		switch e := e.(type) {
		case noteWritten:
			return note{ID: e.ID, Organization: e.Organization, Text: e.Text}
		case noteEdited:
			n.Text = e.Text
		}
		return n
	},
	Events: func() *aggregate.Events {
		r := aggregate.NewEvents("note")
		aggregate.Register[noteWritten](r, 1)
		aggregate.Register[noteEdited](r, 1)
		return r
	}(),
}

// writeNote creates a note under the id the handler picks.
type writeNote struct{ Text string }

func (writeNote) Name() string   { return "WriteNote" }
func (writeNote) Target() string { return "" }
func (writeNote) Creates()       {}
func (c writeNote) Decide(n note, env command.Env) ([]aggregate.Event, error) {
	return []aggregate.Event{noteWritten{ID: env.StreamID.String(), Organization: env.Organization, Text: c.Text, By: env.Actor}}, nil
}

// editNote changes note ID's text.
type editNote struct{ ID, Text string }

func (editNote) Name() string     { return "EditNote" }
func (c editNote) Target() string { return c.ID }
func (c editNote) Decide(n note, env command.Env) ([]aggregate.Event, error) {
	if n.ID == "" || n.Organization != env.Organization {
		return nil, errNoteNotFound
	}
	return []aggregate.Event{noteEdited{Text: c.Text, By: env.Actor}}, nil
}

// waiterFunc is a fake projection.Waiter.
type waiterFunc func(ctx context.Context, projection string, target eventstore.Checkpoint) error

func (f waiterFunc) WaitFor(ctx context.Context, projection string, target eventstore.Checkpoint) error {
	return f(ctx, projection, target)
}

// upToDate is a waiter whose projection has passed every append.
var upToDate = waiterFunc(func(context.Context, string, eventstore.Checkpoint) error { return nil })

var acme = caller.Caller{Actor: "alice", Organization: "acme", CorrelationID: "corr-1"}

// noteFixture is a note handler on its own database.
type noteFixture struct {
	pool    *pgxpool.Pool
	store   *eventstore.Store
	handler *command.Handler[note, note]
}

// read is a Spec.Read that folds the write side: a view that is always
// there once the append committed.
func (f *noteFixture) read(ctx context.Context, organization string, id uuid.UUID) (note, error) {
	n, version, err := f.handler.Load(ctx, id)
	switch {
	case err != nil:
		return note{}, err
	case version == 0 || n.Organization != organization:
		return note{}, errNoteNotFound
	}
	return n, nil
}

// newNotes returns a fixture whose handler waits with waiter and reads with
// read (the fixture's own read when nil).
func newNotes(t *testing.T, waiter waiterFunc, pipeline *command.Pipeline,
	read func(ctx context.Context, organization string, id uuid.UUID) (note, error),
) *noteFixture {
	t.Helper()
	pool, _ := pgtest.NewPool(t)
	f := &noteFixture{pool: pool, store: eventstore.New(pool)}
	if read == nil {
		read = f.read
	}
	f.handler = command.NewHandler(command.Deps{Store: f.store, Waiter: waiter, Wait: time.Second, Pipeline: pipeline},
		command.Spec[note, note]{
			Context:    "note",
			Type:       noteType,
			ParseID:    func(raw string) (uuid.UUID, error) { return command.ParseUUID(raw, "note", errNoteInvalid) },
			Projection: "notes",
			Read:       read,
			NotFound:   errNoteNotFound,
		})
	return f
}

// events counts the stored events.
func (f *noteFixture) events(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// lastEvent returns the stream's last stored event.
func (f *noteFixture) lastEvent(t *testing.T, id uuid.UUID) eventstore.RecordedEvent {
	t.Helper()
	events, err := f.store.ReadStream(context.Background(), id, 0, 0)
	if err != nil || len(events) == 0 {
		t.Fatalf("stream %s: %d events, %v", id, len(events), err)
	}
	return events[len(events)-1]
}

// refused runs cmd, which must fail with an error matching target (errors.Is)
// of code and leave the store without events; it returns the error.
func (f *noteFixture) refused(t *testing.T, cmd command.Command[note], opts command.Options, target error, code apperr.Code) error {
	t.Helper()
	_, err := f.handler.Handle(context.Background(), cmd, opts)
	if !errors.Is(err, target) {
		t.Fatalf("%T%+v: err %v, want %v", cmd, cmd, err, target)
	}
	if got, ok := apperr.CodeOf(err); !ok || got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
	if n := f.events(t); n != 0 {
		t.Fatalf("%T%+v appended %d events, want none", cmd, cmd, n)
	}
	return err
}

func TestHandleCreatorGetsAFreshUUIDv7(t *testing.T) {
	t.Parallel()
	f := newNotes(t, upToDate, nil, nil)
	ctx := context.Background()
	seen := map[uuid.UUID]bool{}
	for range 3 {
		res, err := f.handler.Handle(ctx, writeNote{Text: "hello"}, command.Options{Caller: acme})
		if err != nil {
			t.Fatal(err)
		}
		if res.ID.Version() != 7 || seen[res.ID] {
			t.Fatalf("id %s: want a fresh UUIDv7", res.ID)
		}
		seen[res.ID] = true
		// Decide acted on that id, for the caller.
		if res.View == nil || *res.View != (note{ID: res.ID.String(), Organization: "acme", Text: "hello"}) || !res.UpToDate || res.Version != 1 {
			t.Fatalf("result %+v (view %+v)", res, res.View)
		}
		if e := f.lastEvent(t, res.ID); e.Metadata.Actor != "alice" || e.Metadata.Tenant != "acme" || e.Metadata.CorrelationID != "corr-1" || e.Position != res.Position {
			t.Fatalf("stored event %+v, result %+v", e, res)
		}
	}
}

func TestHandleRefusesAMalformedID(t *testing.T) {
	t.Parallel()
	f := newNotes(t, upToDate, nil, nil)
	for _, id := range []string{"", "x", "00000000-0000-0000-0000-000000000000", strings.Repeat("a", 36)} {
		err := f.refused(t, editNote{ID: id, Text: "x"}, command.Options{Caller: acme}, errNoteInvalid, apperr.BadUserInput)
		if !strings.Contains(err.Error(), "malformed note id") {
			t.Fatalf("id %q: err %v, want the Spec's ParseID error", id, err)
		}
	}
}

func TestHandleRefusesAMalformedIdempotencyKey(t *testing.T) {
	t.Parallel()
	f := newNotes(t, upToDate, nil, nil)
	ctx := context.Background()
	for name, key := range map[string]string{
		"201 bytes":     strings.Repeat("k", command.MaxIdempotencyKeyLength+1),
		"NUL":           "key\x00",
		"invalid UTF-8": "key-\xff",
		"control":       "key\n",
	} {
		err := f.refused(t, writeNote{Text: "x"}, command.Options{Caller: acme, IdempotencyKey: key}, command.ErrInvalidInput, apperr.BadUserInput)
		if !strings.Contains(err.Error(), "idempotencyKey") {
			t.Fatalf("%s: err %v, want one naming the idempotencyKey", name, err)
		}
	}
	// At the limit it is accepted, once.
	opts := command.Options{Caller: acme, IdempotencyKey: strings.Repeat("ü", command.MaxIdempotencyKeyLength/2)}
	first, err := f.handler.Handle(ctx, writeNote{Text: "x"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.handler.Handle(ctx, writeNote{Text: "x"}, opts)
	if err != nil || !again.Duplicate || again.ID != first.ID || again.Position != first.Position {
		t.Fatalf("retry %+v, %v; want the first %+v as a duplicate", again, err, first)
	}
}

func TestHandleWithoutOrganizationIsUnauthenticated(t *testing.T) {
	t.Parallel()
	f := newNotes(t, upToDate, nil, nil)
	for _, cmd := range []command.Command[note]{writeNote{Text: "x"}, editNote{ID: uuid.NewString(), Text: "x"}} {
		f.refused(t, cmd, command.Options{Caller: caller.Caller{Actor: "alice"}}, command.ErrUnauthenticated, apperr.Unauthenticated)
	}
}

// TestHandleAnswersACommittedWriteWhenTheReadFails: once the append has
// committed, the client gets its payload (position and version of the
// append, upToDate false, no view), never an error: a client that retries
// on an error would do the write twice. The per-context services answered
// INTERNAL when the view could not be read.
func TestHandleAnswersACommittedWriteWhenTheReadFails(t *testing.T) {
	t.Parallel()
	failing := func(context.Context, string, uuid.UUID) (note, error) {
		return note{}, errors.New("read model unavailable")
	}
	f := newNotes(t, upToDate, nil, failing)
	ctx := context.Background()

	res, err := f.handler.Handle(ctx, writeNote{Text: "x"}, command.Options{Caller: acme})
	if err != nil {
		t.Fatalf("Handle after a committed append: %v, want no error", err)
	}
	assertCommitted(t, f, res, 1)
	res, err = f.handler.Handle(ctx, editNote{ID: res.ID.String(), Text: "y"}, command.Options{Caller: acme})
	if err != nil {
		t.Fatalf("Handle after a committed append: %v, want no error", err)
	}
	assertCommitted(t, f, res, 2)
}

// TestHandleAnswersACommittedWriteWhenTheRequestEnds: the request's context
// ends right after the append (during the read-your-writes wait): the
// answer is still the committed write, not the context's error, and the
// view is read on a context of its own.
func TestHandleAnswersACommittedWriteWhenTheRequestEnds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var waited []string
	cancelling := waiterFunc(func(waitCtx context.Context, projection string, _ eventstore.Checkpoint) error {
		mu.Lock()
		waited = append(waited, projection)
		mu.Unlock()
		cancel() // the client went away once the append had committed
		<-waitCtx.Done()
		return waitCtx.Err()
	})
	var readErrs []error
	notYet := func(readCtx context.Context, _ string, _ uuid.UUID) (note, error) {
		mu.Lock()
		readErrs = append(readErrs, readCtx.Err())
		mu.Unlock()
		return note{}, errNoteNotFound // the projection is behind
	}
	f := newNotes(t, cancelling, nil, notYet)

	res, err := f.handler.Handle(ctx, writeNote{Text: "x"}, command.Options{Caller: acme})
	if err != nil {
		t.Fatalf("Handle with the request ended after the append: %v, want no error", err)
	}
	assertCommitted(t, f, res, 1)
	if len(waited) != 1 || waited[0] != "notes" {
		t.Fatalf("waited for %v, want the Spec's projection once", waited)
	}
	if len(readErrs) != 1 || readErrs[0] != nil {
		t.Fatalf("the view was read on contexts with errors %v, want one live context", readErrs)
	}
}

// assertCommitted checks that res is the stream's committed append at
// version, answered with upToDate false and no view.
func assertCommitted(t *testing.T, f *noteFixture, res command.Result[note], version int64) {
	t.Helper()
	last := f.lastEvent(t, res.ID)
	if res.Position != last.Position || res.Version != version || last.Version != version || res.Checkpoint != last.Checkpoint() {
		t.Fatalf("result %+v, want the committed append at position %d, version %d", res, last.Position, version)
	}
	if res.UpToDate || res.View != nil || res.Duplicate {
		t.Fatalf("result %+v (view %v), want upToDate false and no view", res, res.View)
	}
}
