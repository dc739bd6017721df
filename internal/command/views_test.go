package command_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/google/uuid"
)

// viewsFunc is a fake command.ViewSource.
type viewsFunc func(projection, key string, target eventstore.Checkpoint) (any, bool)

func (f viewsFunc) ViewAfter(projection, key string, target eventstore.Checkpoint) (any, bool) {
	return f(projection, key, target)
}

func TestHandedViewIsThePayload(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.NewPool(t)
	store := eventstore.New(pool)
	ctx := context.Background()

	const stored = "as read"
	var reads atomic.Int32
	read := func(_ context.Context, organization string, id uuid.UUID) (note, error) {
		reads.Add(1)
		return note{ID: id.String(), Organization: organization, Text: stored}, nil
	}
	// handed is what the fake projection wrote: the note with text, of
	// organization, for the key and checkpoint of the command's append.
	var handed struct {
		organization, text string
		ok                 bool
	}
	var asked atomic.Value // the key and checkpoint ViewAfter was asked for
	views := viewsFunc(func(projection, key string, target eventstore.Checkpoint) (any, bool) {
		asked.Store([2]any{key, target})
		return note{ID: key, Organization: handed.organization, Text: handed.text}, handed.ok && projection == "notes"
	})
	handler := func(waiter waiterFunc) *command.Handler[note, note] {
		return command.NewHandler(command.Deps{Store: store, Waiter: waiter, Wait: 50 * time.Millisecond, Views: views},
			command.Spec[note, note]{
				Context: "note", Type: noteType, Projection: "notes", Read: read, NotFound: errNoteNotFound,
				ParseID:      func(raw string) (uuid.UUID, error) { return command.ParseUUID(raw, "note", errNoteInvalid) },
				Organization: func(n note) string { return n.Organization },
			})
	}
	h := handler(upToDate)
	write := func(h *command.Handler[note, note]) command.Result[note] {
		t.Helper()
		res, err := h.Handle(ctx, writeNote{Text: "x"}, command.Options{Caller: acme})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	// The caller's own: the payload, without a read.
	handed.organization, handed.text, handed.ok = "acme", "handed", true
	res := write(h)
	if res.View == nil || res.View.Text != "handed" || !res.UpToDate || reads.Load() != 0 {
		t.Fatalf("view %+v, upToDate %v, %d reads; want the handed view, no read", res.View, res.UpToDate, reads.Load())
	}
	if got := asked.Load().([2]any); got[0] != res.ID.String() || got[1] != res.Checkpoint {
		t.Fatalf("asked for %v, want the append's stream %s and checkpoint %+v", got, res.ID, res.Checkpoint)
	}

	// Another organization's row is never the payload.
	handed.organization = "globex"
	if res := write(h); res.View == nil || res.View.Text != stored || reads.Load() != 1 {
		t.Fatalf("view %+v after %d reads; want the read one", res.View, reads.Load())
	}

	// None handed: read.
	handed.organization, handed.ok = "acme", false
	if res := write(h); res.View == nil || res.View.Text != stored || reads.Load() != 2 {
		t.Fatalf("view %+v after %d reads; want the read one", res.View, reads.Load())
	}

	// The wait ran out: the handed view is not taken (the projection has
	// not passed the append).
	handed.ok = true
	late := handler(func(ctx context.Context, _ string, _ eventstore.Checkpoint) error {
		<-ctx.Done()
		return ctx.Err()
	})
	if res := write(late); res.UpToDate || res.View == nil || res.View.Text != stored {
		t.Fatalf("view %+v, upToDate %v; want the read one, not up to date", res.View, res.UpToDate)
	}
}
