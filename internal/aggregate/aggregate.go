// Package aggregate holds the pieces every event-sourced aggregate shares:
// the Event interface, the Type that tells the repository how to fold and
// decode an aggregate's events, and the Repository that runs commands.
//
// The domain side follows the "decider" shape: state is a plain Go value
// rebuilt by folding events (Type.Evolve), and a command is a pure function
// from state to new events or a typed domain error. No I/O happens in the
// domain; the Repository does the loading and appending.
package aggregate

import (
	"encoding/json"
	"fmt"
)

// Event is a domain event: a Go value that names the type under which it is
// stored. The name is part of the stored contract and must never change for
// an existing event (add an upcaster instead).
type Event interface {
	EventType() string
}

// Type describes one kind of aggregate to the repository.
type Type[S any] struct {
	// StreamType is stored with every event of the stream, e.g. "account".
	StreamType string
	// Initial returns the state before any event.
	Initial func() S
	// Evolve folds one event into the state. It must not fail: events are
	// facts that already happened.
	Evolve func(state S, event Event) S
	// Decode turns a stored event back into its Go value. schemaVersion is
	// the stored schema version, for upcasting old shapes.
	Decode func(eventType string, schemaVersion int, data []byte) (Event, error)
}

// Fold applies events in order to the initial state.
func (t Type[S]) Fold(events ...Event) S {
	s := t.Initial()
	for _, e := range events {
		s = t.Evolve(s, e)
	}
	return s
}

// ErrUnknownEventType is wrapped by Decode functions for a type they do not know.
var ErrUnknownEventType = fmt.Errorf("unknown event type")

// DecodeJSON decodes data, the JSON payload of a stored event of type
// eventType, into an E, for Decode functions of event types stored as plain
// JSON. context names the bounded context in error messages ("account").
// Errors (internal): a schemaVersion other than want, malformed JSON.
func DecodeJSON[E Event](context, eventType string, schemaVersion, want int, data []byte) (Event, error) {
	if schemaVersion != want {
		return nil, fmt.Errorf("%s: %s: unsupported schema version %d (want %d)", context, eventType, schemaVersion, want)
	}
	var e E
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("%s: decode %s: %w", context, eventType, err)
	}
	return e, nil
}
