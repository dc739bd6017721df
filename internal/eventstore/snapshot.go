package eventstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Snapshot is an aggregate's state folded from its stream up to Version,
// encoded as JSON in the shape of the state's own SchemaVersion (which has
// nothing to do with the events' schema versions).
type Snapshot struct {
	StreamID      uuid.UUID
	StreamType    string
	Version       int64
	SchemaVersion int
	State         []byte
	TakenAt       time.Time
}

// ReadStreamForFoldFromSnapshot returns the newest snapshot of the stream
// of stream type streamType and state schema version schemaVersion (nil if
// there is none), and the stream's events after it (after version 0 without
// a snapshot), oldest first, as ReadStreamForFold does: one round trip.
// Snapshots of another schema version or stream type are ignored.
func (s *Store) ReadStreamForFoldFromSnapshot(ctx context.Context, streamID uuid.UUID, streamType string, schemaVersion int) (*Snapshot, []FoldEvent, error) {
	rows, err := s.pool.Query(ctx, `
		WITH snap AS (
			SELECT version, state FROM snapshots
			WHERE stream_id = $1 AND stream_type = $2 AND schema_version = $3
			ORDER BY version DESC LIMIT 1
		)
		SELECT true, '', version, '', 0, state FROM snap
		UNION ALL
		(SELECT false, stream_type, version, type, schema_version, data FROM events
		 WHERE stream_id = $1 AND version > coalesce((SELECT version FROM snap), 0)
		 ORDER BY version)`, streamID, streamType, schemaVersion)
	if err != nil {
		return nil, nil, fmt.Errorf("read stream %s from its snapshot: %w", streamID, err)
	}
	defer rows.Close()
	var (
		snap   *Snapshot
		events []FoldEvent
	)
	for rows.Next() {
		var (
			isSnapshot bool
			e          FoldEvent
		)
		if err := rows.Scan(&isSnapshot, &e.StreamType, &e.Version, &e.Type, &e.SchemaVersion, (*[]byte)(&e.Data)); err != nil {
			return nil, nil, fmt.Errorf("read stream %s from its snapshot: %w", streamID, err)
		}
		if isSnapshot {
			snap = &Snapshot{StreamID: streamID, StreamType: streamType, Version: e.Version, SchemaVersion: schemaVersion, State: e.Data}
			continue
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read stream %s from its snapshot: %w", streamID, err)
	}
	// UNION ALL keeps the subquery's order in practice, not by contract.
	slices.SortFunc(events, func(a, b FoldEvent) int { return cmp.Compare(a.Version, b.Version) })
	return snap, events, nil
}

// SaveSnapshot stores snap and deletes the stream's older snapshots (of any
// schema version, so an outdated one is replaced). A snapshot already taken
// at the same version is kept as it is: the fold of the same events is the
// same state.
func (s *Store) SaveSnapshot(ctx context.Context, snap Snapshot) error {
	_, err := s.pool.Exec(ctx, `
		WITH saved AS (
			INSERT INTO snapshots (stream_id, version, stream_type, schema_version, state)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (stream_id, version) DO NOTHING
		)
		DELETE FROM snapshots WHERE stream_id = $1 AND version < $2`,
		snap.StreamID, snap.Version, snap.StreamType, snap.SchemaVersion, snap.State)
	if err != nil {
		return fmt.Errorf("save snapshot of stream %s at version %d: %w", snap.StreamID, snap.Version, err)
	}
	return nil
}
