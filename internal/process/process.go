// Package process is the process-manager engine: event handlers that act.
//
// A process manager reads the event log like a projection (it is one: a
// named checkpoint, gap-free horizon reads through internal/projection's
// runner, one active instance per name across servers through the same
// advisory-lock leadership, takeover when that instance dies). It keeps a
// state per process (per order, say) in process_states, and reacts to
// events with a pure handler: (state, event) -> (new state, commands to
// send, deadlines to set or clear).
//
// Exactly once, by a transactional outbox. In the projection's batch
// transaction the engine loads the states the batch touches (FOR UPDATE),
// runs the handler on each event in order, stores the new states, writes
// the deadlines, and writes every command into process_outbox, all atomic
// with the checkpoint: a crash before the commit redoes the batch from the
// old checkpoint, as if nothing had happened; after it, the commands are
// stored. A dispatcher on the active instance (projection.Leader) sends the
// outbox rows through the bounded contexts' command handlers (the same
// decorators as mutations, Source "process:<name>") with the idempotency
// key of the row, (process manager, triggering event id, step), and then
// deletes the row. A crash between the send and the delete sends the row
// again with the same key: the event store answers the first result
// (Duplicate) and appends nothing, so no command takes effect twice.
//
// Refusals: a command its context refuses with a domain error (an
// apperr code other than INTERNAL) is not retried. It is a fact the process
// must learn: contexts should record it as an event where it matters (stock
// records ReservationRefused), and a Definition may also set OnRefused,
// which the dispatcher runs on the process's state, in one transaction with
// the row's delete, like a step. Other errors (the database away, a
// time-out) leave the row to be sent again later.
//
// Deadlines are rows of process_deadlines (process, kind, due time), fired
// by the active instance once its clock (Config.Now, injected in tests)
// passes the due time: firing runs OnDeadline in one transaction that
// locks the state, deletes the deadline and stores the step's effects.
package process

import (
	"context"
	"encoding/json"
	"time"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/google/uuid"
)

// Event is an event as a handler sees it: the stored facts and the value
// Route decoded.
type Event struct {
	ID         uuid.UUID
	StreamID   uuid.UUID
	StreamType string
	Type       string
	// Version is the event's version in its stream.
	Version int64
	// RecordedAt is when it was stored: handlers compute deadlines from it
	// (never from a clock), so a step decides the same on a retry.
	RecordedAt time.Time
	Metadata   eventstore.Metadata
	// Data is the decoded event.
	Data aggregate.Event
}

// Send is a command a step decides to send.
type Send struct {
	// Step names the command within its trigger (the event or deadline
	// that caused it); it must be unique there, e.g. "reserve:<product>".
	// With the process manager's name and the trigger's id it forms the
	// command's idempotency key (at most command.MaxIdempotencyKeyLength
	// bytes in all).
	Step string
	// Command is the command's name, for Dispatch.
	Command string
	// Payload is the command's data, stored as JSON in the outbox and given
	// to Dispatch as such.
	Payload any
}

// Deadline is a deadline a step sets: when DueAt passes, OnDeadline runs
// with Kind. Setting a kind again moves it.
type Deadline struct {
	Kind  string
	DueAt time.Time
}

// Effects are what a step does besides changing its state.
type Effects struct {
	Send []Send
	// Set sets deadlines, Clear removes the deadlines of these kinds.
	// Clear is applied after Set within one step.
	Set   []Deadline
	Clear []string
}

// Command is one outbox row as Dispatch gets it.
type Command struct {
	// Name and Payload are Send's Command and Payload (as JSON).
	Name    string
	Payload json.RawMessage
	// ProcessID is the process that decided it.
	ProcessID string
	// Key is its idempotency key (also in Dispatch's options).
	Key string
}

// Definition is a process manager's logic. S is its per-process state:
// stored as JSON (so its fields must be exported or tagged), the zero value
// for a process not seen before. Handle, OnDeadline and OnRefused must be
// pure: they may run again on the same input after a crash.
type Definition[S any] struct {
	// Name names the process manager ("fulfilment"); its projection is
	// called "process:" + Name. It must not change once deployed.
	Name string
	// Route picks the events the process manager reacts to: the process
	// an event belongs to and its decoded value, ok false for an event it
	// ignores. An error (an event of a known type that does not decode)
	// fails the batch, which is retried.
	Route func(e eventstore.RecordedEvent) (processID string, data aggregate.Event, ok bool, err error)
	// StreamTypes are the stream types of the events Route picks, so that
	// appends to other streams do not wake the process manager (see
	// projection.Selective; nil: every append wakes it).
	StreamTypes []string
	// Handle is one step on an event.
	Handle func(state S, e Event) (S, Effects)
	// OnDeadline is one step when a deadline of kind is due; now is the
	// engine's clock. Nil: deadlines are never set.
	OnDeadline func(state S, kind string, now time.Time) (S, Effects)
	// OnRefused, when set, is one step after a command was refused by its
	// context with a domain error (see the package doc).
	OnRefused func(state S, c Command, err error) (S, Effects)
	// Dispatch sends c through its context's command handler with opts
	// (idempotency key, caller, causation, Source, SkipView). It returns
	// the handler's error: nil (also for a Duplicate), a domain error (the
	// command is refused), or another error (it is sent again later).
	Dispatch func(ctx context.Context, c Command, opts command.Options) error
}

// ProjectionName is the projection name of process manager name.
func ProjectionName(name string) string { return "process:" + name }
