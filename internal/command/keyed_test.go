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
	"github.com/google/uuid"
)

var errNoteTaken = apperr.New("NOTE_TAKEN", "a note has this title")

// titleNote writes the note named by its title: a Keyed command (titles
// compare in lower case).
type titleNote struct{ Title string }

func (titleNote) Name() string   { return "TitleNote" }
func (titleNote) Target() string { return "" }
func (c titleNote) Key() (string, error) {
	t := strings.ToLower(strings.TrimSpace(c.Title))
	if t == "" {
		return "", errNoteInvalid
	}
	return t, nil
}
func (c titleNote) Decide(n note, env command.Env) ([]aggregate.Event, error) {
	if n.ID != "" {
		return nil, errNoteTaken
	}
	return []aggregate.Event{noteWritten{ID: env.StreamID.String(), Organization: env.Organization, Text: env.StreamKey, By: env.Actor}}, nil
}

// TestKeyedCommands: a Keyed command's stream is KeyedID(context,
// organization, key); of 10 concurrent ones with one key exactly one
// creates it and the others are decided on its state; another organization
// has its own stream of the key; a malformed key appends nothing.
func TestKeyedCommands(t *testing.T) {
	f := newNotes(t, upToDate, nil, nil)
	ctx := context.Background()
	const n = 10
	errs := make([]error, n)
	results := make([]command.Result[note], n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = f.handler.Handle(ctx, titleNote{Title: []string{"Groceries", " groceries "}[i%2]}, command.Options{Caller: acme})
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won < 0:
			won = i
		case errors.Is(err, errNoteTaken):
		default:
			t.Fatalf("attempt %d: %v (won: %d)", i, err, won)
		}
	}
	if won < 0 || results[won].ID != command.KeyedID("note", "acme", "groceries") || results[won].View.Text != "groceries" {
		t.Fatalf("winner %d: %+v", won, results[won])
	}
	if got := f.events(t); got != 1 {
		t.Errorf("%d events stored, want 1", got)
	}
	other, err := f.handler.Handle(ctx, titleNote{Title: "groceries"}, command.Options{Caller: caller.Caller{Actor: "eve", Organization: "globex"}})
	if err != nil || other.ID == results[won].ID || other.ID != command.KeyedID("note", "globex", "groceries") {
		t.Errorf("another organization's note: %+v, %v", other.ID, err)
	}
	if _, err := f.handler.Handle(ctx, titleNote{Title: " "}, command.Options{Caller: acme}); !errors.Is(err, errNoteInvalid) {
		t.Errorf("empty key: %v, want errNoteInvalid", err)
	}
	if got := f.events(t); got != 2 {
		t.Errorf("%d events stored, want 2", got)
	}
}

// TestAdmit: Spec.Admit refuses a command before anything is read or
// appended, and sees the caller's organization and the command.
func TestAdmit(t *testing.T) {
	f := newNotes(t, upToDate, nil, nil)
	errClosed := apperr.New(apperr.Forbidden, "closed")
	var seen []string
	h := command.NewHandler(command.Deps{Store: f.store, Waiter: upToDate, Wait: time.Second}, command.Spec[note, note]{
		Context: "note", Type: noteType, ParseID: func(string) (uuid.UUID, error) { return uuid.Nil, errNoteInvalid }, Projection: "notes",
		Read: f.read, NotFound: errNoteNotFound,
		Admit: func(_ context.Context, organization string, cmd command.Command[note]) error {
			seen = append(seen, organization+" "+cmd.Name())
			if organization == "globex" {
				return errClosed
			}
			return nil
		},
	})
	if _, err := h.Handle(context.Background(), titleNote{Title: "a"}, command.Options{Caller: caller.Caller{Organization: "globex"}}); !errors.Is(err, errClosed) {
		t.Errorf("refused command: %v", err)
	}
	if got := f.events(t); got != 0 {
		t.Errorf("a refused command stored %d events", got)
	}
	if _, err := h.Handle(context.Background(), titleNote{Title: "a"}, command.Options{Caller: acme}); err != nil {
		t.Errorf("admitted command: %v", err)
	}
	if strings.Join(seen, ",") != "globex TitleNote,acme TitleNote" {
		t.Errorf("Admit saw %q", seen)
	}
}
