// Package aggregate holds the pieces every event-sourced aggregate shares:
// the Event interface, the Type that tells the repository how to fold and
// decode an aggregate's events, and the Repository that runs commands.
//
// The domain side follows the "decider" shape: state is a plain Go value
// rebuilt by folding events (Type.Evolve), and a command is a pure function
// from state to new events or a typed domain error. No I/O happens in the
// domain; the Repository does the loading and appending.
package aggregate

import "fmt"

// Event is a domain event: a Go value that names the type under which it is
// stored. The name is part of the stored contract and must never change for
// an existing event (add an upcaster instead).
type Event interface {
	EventType() string
}

// Personal is an event that holds a data subject's personal data. The
// repository has the store seal (encrypt) the fields it names, under the
// subject's key (package datasubject); aggregates fold the sealed values,
// read models open them.
type Personal interface {
	Event
	// PersonalData returns the data subject (datasubject.Email or
	// datasubject.Owner) and the JSON names of the top-level string
	// fields that hold its data.
	PersonalData() (subject string, fields []string)
}

// Type describes one kind of aggregate to the repository.
type Type[S any] struct {
	// StreamType is stored with every event of the stream, e.g. "account".
	// A stream of another type is, to this aggregate, a stream that does not
	// exist.
	StreamType string
	// Initial returns the state before any event.
	Initial func() S
	// Evolve folds one event into the state. It must not fail: events are
	// facts that already happened.
	Evolve func(state S, event Event) S
	// Events declares the aggregate's event types and their schema
	// versions; it decodes (and upcasts) stored events and stamps new ones.
	Events *Events
	// Snapshots, when set, lets a repository with a Snapshotter load the
	// aggregate from snapshots of its state S, which must then survive a
	// JSON round trip unchanged (exported fields).
	Snapshots *Snapshots
}

// Fold applies events in order to the initial state.
func (t Type[S]) Fold(events ...Event) S {
	s := t.Initial()
	for _, e := range events {
		s = t.Evolve(s, e)
	}
	return s
}

// Decode turns a stored event of this aggregate back into its Go value
// (see Events.Decode).
func (t Type[S]) Decode(eventType string, schemaVersion int, data []byte) (Event, error) {
	return t.Events.Decode(eventType, schemaVersion, data)
}

// ErrUnknownEventType is wrapped by Decode for a type it does not know.
var ErrUnknownEventType = fmt.Errorf("unknown event type")
