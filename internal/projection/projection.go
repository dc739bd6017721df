// Package projection keeps read models up to date from the event log.
//
// A Projection is named and has one checkpoint row. Its runner reads events
// after the checkpoint with eventstore.ReadCommitted (gap-free), applies a
// batch to the read model and advances the checkpoint in the same
// transaction, so each event's effect lands exactly once. The checkpoint
// update is a compare-and-set on the previous value, which fences off a
// second runner that believes it holds the projection.
//
// Runners wake on the store's NOTIFY, fall back to a slow poll, and only one
// runner per projection is active across all server instances: it holds a
// session advisory lock on a dedicated connection, and a standby instance
// takes over when that connection dies.
package projection

import (
	"context"
	"fmt"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/jackc/pgx/v5"
)

// Projection turns events into a read model.
type Projection interface {
	// Name identifies the projection's checkpoint and lock; it must not
	// change once deployed.
	Name() string
	// Apply applies events, in order, to the read model within tx, and
	// returns the keys of the read-model rows it changed (for example
	// account ids), in no particular order. An error rolls back the whole
	// batch; the runner retries it later.
	Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) (changed []string, err error)
}

// Selective is a projection that says which streams' events it applies,
// so that an append to a stream of another type does not wake its runner
// (Engine.WakeFor): it passes over those events at its next wake or poll,
// in one read. Only the latency of its read-your-writes waits depends on
// the list: the events of a type left out are still applied, within
// Config.PollInterval.
type Selective interface {
	Projection
	// StreamTypes are the stream types of the events Apply acts on (nil:
	// every type).
	StreamTypes() []string
}

// Update is announced after a batch of projection Name has committed: the
// read model now reflects every event up to Checkpoint, and the rows with
// Keys changed in the batch.
type Update struct {
	Projection string
	Checkpoint eventstore.Checkpoint
	Keys       []string
}

// Leader is implemented by a projection that also works outside its batches
// while, and only while, this instance's runner is the active one (a process
// manager sends its outbox and fires its deadlines so): the runner calls
// Lead in a goroutine of its own when it wins the projection's lock, and
// cancels its context when it steps down (and waits for Lead to return
// before it releases the lock).
type Leader interface {
	Projection
	// Lead works until ctx ends.
	Lead(ctx context.Context)
	// Committed is called from the runner's goroutine after each batch has
	// committed; it must not block.
	Committed(u Update)
}

// Opener opens, in place, the sealed personal fields of events
// (*datasubject.Keys), reading the keys through q.
type Opener interface {
	Open(ctx context.Context, q eventstore.Querier, events []eventstore.RecordedEvent) error
}

// PersonalReader is implemented by a projection whose read model shows
// personal data: the engine and rebuilds open the sealed values of its
// events (Config.Opener, RebuildOptions.Opener) before Apply. Others,
// process managers among them, see the sealed values as stored, so that
// their state never holds personal data in the clear.
type PersonalReader interface {
	Projection
	// ReadsPersonalData marks the projection.
	ReadsPersonalData()
}

// readCommitted is eventstore.ReadCommitted, with the events opened for a
// PersonalReader when opener is set.
func readCommitted(ctx context.Context, q eventstore.Querier, p Projection, opener Opener, after eventstore.Checkpoint, limit int) ([]eventstore.RecordedEvent, bool, error) {
	events, heldBack, err := eventstore.ReadCommitted(ctx, q, after, limit)
	if err != nil || opener == nil || len(events) == 0 {
		return events, heldBack, err
	}
	if _, ok := p.(PersonalReader); !ok {
		return events, heldBack, nil
	}
	if err := opener.Open(ctx, q, events); err != nil {
		return nil, false, fmt.Errorf("open personal data: %w", err)
	}
	return events, heldBack, nil
}
