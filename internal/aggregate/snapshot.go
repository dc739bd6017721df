package aggregate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/google/uuid"
)

// Snapshots is an aggregate type's snapshot policy (Type.Snapshots).
type Snapshots struct {
	// SchemaVersion is the version of the state's JSON shape. Change it
	// whenever the state type S changes shape: snapshots of another version
	// are then ignored (and replaced by the next one), never decoded wrongly.
	SchemaVersion int
	// Every is how many events a stream may grow past its snapshot before a
	// new one is taken; 0 takes the Snapshotter's default (SNAPSHOT_EVERY).
	Every int64
}

// SnapshotStore is the part of *eventstore.Store that snapshots need.
type SnapshotStore interface {
	ReadStreamForFoldFromSnapshot(ctx context.Context, streamID uuid.UUID, streamType string, schemaVersion int) (*eventstore.Snapshot, []eventstore.FoldEvent, error)
	SaveSnapshot(ctx context.Context, snap eventstore.Snapshot) error
}

// Snapshotter takes snapshots in the background: a repository offers it the
// state a command left (Offer never blocks, and a full queue drops the offer,
// since a snapshot is only an optimisation), and Run writes them. Taking one
// is never part of a command's latency.
type Snapshotter struct {
	store SnapshotStore
	every int64
	queue chan eventstore.Snapshot
	// pending holds the streams with an offer queued or being written:
	// until it is written, the stream's next commands offer nothing (they
	// would see the same old snapshot and offer again on every command).
	pending sync.Map // uuid.UUID -> struct{}
	logger  *slog.Logger
	taken   atomic.Int64
	dropped atomic.Int64
}

// NewSnapshotter returns a snapshotter writing to store; every is the
// default number of events between snapshots of a stream (0 or less: no
// snapshots unless a Type says otherwise); queue bounds the offers waiting.
func NewSnapshotter(store SnapshotStore, every int64, queue int, logger *slog.Logger) *Snapshotter {
	if logger == nil {
		logger = slog.Default()
	}
	return &Snapshotter{store: store, every: every, queue: make(chan eventstore.Snapshot, max(queue, 1)), logger: logger}
}

// Run writes offered snapshots until ctx ends. Errors are logged: a
// snapshot that could not be written is taken again later.
func (s *Snapshotter) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case snap := <-s.queue:
			err := s.store.SaveSnapshot(ctx, snap)
			s.pending.Delete(snap.StreamID)
			if err != nil {
				if !errors.Is(err, context.Canceled) {
					s.logger.WarnContext(ctx, "snapshot not taken", "stream", snap.StreamID, "version", snap.Version, "err", err)
				}
				continue
			}
			s.taken.Add(1)
		}
	}
}

// Taken returns how many snapshots have been written, and how many offers
// were dropped because the queue was full.
func (s *Snapshotter) Taken() (taken, dropped int64) { return s.taken.Load(), s.dropped.Load() }

func (s *Snapshotter) offer(snap eventstore.Snapshot) {
	if _, queued := s.pending.LoadOrStore(snap.StreamID, struct{}{}); queued {
		return
	}
	select {
	case s.queue <- snap:
	default:
		s.pending.Delete(snap.StreamID)
		s.dropped.Add(1)
	}
}

// offering reports whether an offer of stream id is queued or being
// written (then the repository need not encode another).
func (s *Snapshotter) offering(id uuid.UUID) bool {
	_, queued := s.pending.Load(id)
	return queued
}

// snapshotting returns the snapshot policy in force for typ, and whether
// snapshots are on.
func snapshotting[S any](s *Snapshotter, typ Type[S]) (Snapshots, bool) {
	if s == nil || typ.Snapshots == nil {
		return Snapshots{}, false
	}
	p := *typ.Snapshots
	if p.Every <= 0 {
		p.Every = s.every
	}
	return p, p.Every > 0
}

// loadFromSnapshot folds the stream from its newest usable snapshot. It
// returns the state, the stream's version and the snapshot's (0 if none).
func (r *Repository[S]) loadFromSnapshot(ctx context.Context, id uuid.UUID, p Snapshots) (S, int64, int64, error) {
	var zero S
	snap, events, err := r.snapshots.store.ReadStreamForFoldFromSnapshot(ctx, id, r.typ.StreamType, p.SchemaVersion)
	if err != nil {
		return zero, 0, 0, err
	}
	if snap == nil {
		state, version, err := r.fold(id, events)
		return state, version, 0, err
	}
	var state S
	if err := json.Unmarshal(snap.State, &state); err != nil {
		// A snapshot is only an optimisation: fold the whole stream.
		r.snapshots.logger.WarnContext(ctx, "snapshot ignored: it does not decode", "stream", id, "version", snap.Version, "err", err)
		s, v, err := r.Load(ctx, id)
		return s, v, 0, err
	}
	state, err = r.evolveFrom(id, state, events)
	if err != nil {
		return zero, 0, 0, err
	}
	return state, snap.Version + int64(len(events)), snap.Version, nil
}

// offerSnapshot offers the state at version to the snapshotter.
func (r *Repository[S]) offerSnapshot(id uuid.UUID, state S, version int64, p Snapshots) {
	data, err := json.Marshal(state)
	if err != nil {
		r.snapshots.logger.Warn("snapshot not taken: the state does not encode", "stream", id, "err", fmt.Sprint(err))
		return
	}
	r.snapshots.offer(eventstore.Snapshot{StreamID: id, StreamType: r.typ.StreamType, Version: version, SchemaVersion: p.SchemaVersion, State: data})
}
