package eventstore

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Expected-version values with a special meaning. Any other value n > 0 means
// "the stream is exactly at version n".
const (
	// Any appends whatever the stream's version is (creating it if needed).
	Any int64 = -1
	// NoStream requires that the stream does not exist yet.
	NoStream int64 = 0
)

// Metadata travels with every event of one command. It is stored as the
// event's metadata jsonb and never used to rebuild state.
type Metadata struct {
	Actor         string `json:"actor,omitempty"`
	CorrelationID string `json:"correlationId,omitempty"`
	CausationID   string `json:"causationId,omitempty"`
	CommandID     string `json:"commandId,omitempty"`
	Tenant        string `json:"tenant,omitempty"`
}

// EventData is an event to append: its type name, the version of its payload
// schema (1 for a type's first shape; 0 is taken as 1) and its JSON payload.
type EventData struct {
	Type          string
	SchemaVersion int
	Data          json.RawMessage
	// Personal, when set, names the payload's fields that hold a data
	// subject's personal data: a Store with a Sealer encrypts them before
	// they are stored (package datasubject), replacing Data.
	Personal *Personal
}

// Personal names the personal fields of an event's payload and whose they
// are.
type Personal struct {
	// Subject identifies the data subject within the organization, e.g.
	// "email:ada@example.com" (package datasubject's Email and Owner).
	Subject string
	// Fields are top-level JSON fields of the payload holding strings.
	Fields []string
}

// RecordedEvent is an event as stored.
type RecordedEvent struct {
	// Position is the global, gap-prone order of insertion (an identity).
	Position int64
	// TransactionID is the PostgreSQL transaction (xid8) that appended it;
	// projections read in (TransactionID, Position) order.
	TransactionID uint64
	EventID       uuid.UUID
	StreamID      uuid.UUID
	StreamType    string
	// Version is the 1-based index of the event within its stream.
	Version       int64
	Type          string
	SchemaVersion int
	Data          json.RawMessage
	Metadata      Metadata
	RecordedAt    time.Time
}

// Checkpoint returns the point just at this event in projection read order.
func (e RecordedEvent) Checkpoint() Checkpoint {
	return Checkpoint{TransactionID: e.TransactionID, Position: e.Position}
}

// AppendRequest is one atomic append to one stream.
type AppendRequest struct {
	StreamID   uuid.UUID
	StreamType string
	// ExpectedVersion is the stream version the caller decided on: Any,
	// NoStream, or the exact current version.
	ExpectedVersion int64
	Events          []EventData
	Metadata        Metadata
	// IdempotencyKey, when not empty, makes the append happen at most once:
	// a second request with the same key appends nothing and returns the
	// first one's result with Duplicate set.
	IdempotencyKey string
	// Command names the command, stored with the idempotency key so that a
	// key reused for another command or stream is refused.
	Command string
}

// AppendResult says where an append landed.
type AppendResult struct {
	StreamID uuid.UUID
	// FromVersion and ToVersion are the versions of the first and last
	// appended events; ToVersion is the stream's version afterwards.
	FromVersion, ToVersion int64
	// FirstPosition and LastPosition are the global positions of the first and
	// last appended events.
	FirstPosition, LastPosition int64
	// TransactionID is the xid8 of the appending transaction. With
	// LastPosition it forms the Checkpoint a projection must pass for the
	// append to be visible in its read model.
	TransactionID uint64
	// Duplicate is true when the idempotency key had already been handled
	// and this result is the original one.
	Duplicate bool
}

// Checkpoint returns the projection checkpoint of the append's last event.
func (r AppendResult) Checkpoint() Checkpoint {
	return Checkpoint{TransactionID: r.TransactionID, Position: r.LastPosition}
}

// Checkpoint is a point in the order projections read events by:
// (transaction id, position), compared lexicographically. The zero value is
// before every event.
type Checkpoint struct {
	TransactionID uint64
	Position      int64
}

// Compare returns -1, 0 or +1 as c is before, equal to or after o.
func (c Checkpoint) Compare(o Checkpoint) int {
	switch {
	case c.TransactionID < o.TransactionID:
		return -1
	case c.TransactionID > o.TransactionID:
		return 1
	case c.Position < o.Position:
		return -1
	case c.Position > o.Position:
		return 1
	}
	return 0
}

// Reached reports whether c is at or past target.
func (c Checkpoint) Reached(target Checkpoint) bool { return c.Compare(target) >= 0 }
