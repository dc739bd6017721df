package eventstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

const eventColumns = `position, transaction_id::text, event_id, stream_id, stream_type, version, type, schema_version, data, metadata, recorded_at`

// ReadStream returns the stream's events with version > afterVersion, oldest
// first, at most limit of them (limit <= 0: all). A stream that does not
// exist has no events.
func (s *Store) ReadStream(ctx context.Context, streamID uuid.UUID, afterVersion int64, limit int) ([]RecordedEvent, error) {
	return readStream(ctx, s.pool, streamID, afterVersion, limit)
}

// FoldEvent is the part of a stored event that rebuilding state from a
// stream needs (see ReadStreamForFold).
type FoldEvent struct {
	// StreamType is the stream's type, the same for all its events.
	StreamType string
	// Version is the 1-based index of the event within its stream.
	Version       int64
	Type          string
	SchemaVersion int
	Data          json.RawMessage
}

// ReadStreamForFold returns the stream's events, oldest first, with only
// what folding them into state needs: version, type, schema version and
// payload. A stream that does not exist has no events.
//
// Why not ReadStream: every command loads its aggregate, so this read runs
// once per command over the whole stream; leaving out the ids, the
// transaction id (sent as text), the timestamp and the metadata (decoded with
// encoding/json) made it about half as costly. ReadStream stays the
// audit-trail read.
func (s *Store) ReadStreamForFold(ctx context.Context, streamID uuid.UUID) ([]FoldEvent, error) {
	rows, err := s.pool.Query(ctx, `SELECT stream_type, version, type, schema_version, data FROM events
		WHERE stream_id = $1 ORDER BY version`, streamID)
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", streamID, err)
	}
	defer rows.Close()
	var events []FoldEvent
	for rows.Next() {
		var e FoldEvent
		if err := rows.Scan(&e.StreamType, &e.Version, &e.Type, &e.SchemaVersion, (*[]byte)(&e.Data)); err != nil {
			return nil, fmt.Errorf("read stream %s: %w", streamID, err)
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read stream %s: %w", streamID, err)
	}
	return events, nil
}

// FoldEvent returns the part of e that FoldEvent holds.
func (e RecordedEvent) FoldEvent() FoldEvent {
	return FoldEvent{StreamType: e.StreamType, Version: e.Version, Type: e.Type, SchemaVersion: e.SchemaVersion, Data: e.Data}
}

func readStream(ctx context.Context, q Querier, streamID uuid.UUID, afterVersion int64, limit int) ([]RecordedEvent, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := q.Query(ctx, `SELECT `+eventColumns+` FROM events
		WHERE stream_id = $1 AND version > $2 ORDER BY version
		LIMIT NULLIF($3::bigint, -1)`, streamID, afterVersion, limit)
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", streamID, err)
	}
	events, err := scanEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", streamID, err)
	}
	return events, nil
}

// ReadCommitted returns up to limit events after checkpoint `after`, in
// (transaction_id, position) order, that were appended by transactions below
// the transaction-id horizon: older than every transaction still running.
//
// Why: positions are taken at INSERT but become visible at COMMIT, so a
// reader that trusts "position > last seen" skips an event whose transaction
// commits after a later position's. Transaction ids below the horizon can no
// longer gain events, so reading in that order up to the horizon is gap-free.
//
// heldBack is true when the batch came back empty while committed events
// after the checkpoint exist: an older transaction is still open (it may be
// in another database of the cluster), or the horizon has moved since the
// read's snapshot; either way the caller should look again soon. (The look
// runs in a later snapshot: comparing it with the horizon again would miss
// events that were beyond the read's horizon but are below the look's, and
// the caller would wait for the next notification, which may never come.)
// q must not have written in its transaction yet, or its own transaction id
// would lower the horizon.
func ReadCommitted(ctx context.Context, q Querier, after Checkpoint, limit int) (events []RecordedEvent, heldBack bool, err error) {
	tx := strconv.FormatUint(after.TransactionID, 10)
	rows, err := q.Query(ctx, `SELECT `+eventColumns+` FROM events
		WHERE (transaction_id, position) > ($1::text::xid8, $2)
		  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
		ORDER BY events.transaction_id, events.position -- qualified: a bare name would mean the text output column
		LIMIT $3`, tx, after.Position, limit)
	if err != nil {
		return nil, false, fmt.Errorf("read events after %v: %w", after, err)
	}
	if events, err = scanEvents(rows); err != nil {
		return nil, false, fmt.Errorf("read events after %v: %w", after, err)
	}
	if len(events) > 0 {
		return events, false, nil
	}
	err = q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events
		WHERE (transaction_id, position) > ($1::text::xid8, $2))`, tx, after.Position).Scan(&heldBack)
	if err != nil {
		return nil, false, fmt.Errorf("look beyond horizon: %w", err)
	}
	return nil, heldBack, nil
}

func scanEvents(rows pgx.Rows) ([]RecordedEvent, error) {
	defer rows.Close()
	var events []RecordedEvent
	for rows.Next() {
		var (
			e    RecordedEvent
			txid string
		)
		// Data as *[]byte: pgx copies the jsonb text as it is, where a
		// *json.RawMessage would go through json.Unmarshal (a full parse)
		// for the same bytes.
		if err := rows.Scan(&e.Position, &txid, &e.EventID, &e.StreamID, &e.StreamType, &e.Version,
			&e.Type, &e.SchemaVersion, (*[]byte)(&e.Data), &e.Metadata, &e.RecordedAt); err != nil {
			return nil, err
		}
		var err error
		if e.TransactionID, err = strconv.ParseUint(txid, 10, 64); err != nil {
			return nil, fmt.Errorf("parse transaction id %q: %w", txid, err)
		}
		e.RecordedAt = e.RecordedAt.UTC()
		events = append(events, e)
	}
	return events, rows.Err()
}
