package datasubject

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Email is the data subject of a customer's e-mail address (payments,
// orders, and accounts opened with an owner e-mail): "email:" and the
// address, trimmed and lower-cased, so that one person is one subject
// however the address was typed.
func Email(address string) string {
	return "email:" + strings.ToLower(strings.TrimSpace(address))
}

// Owner is the data subject of an account owner known by name only (an
// account opened without an owner e-mail): "owner:" and the trimmed name.
func Owner(name string) string { return "owner:" + strings.TrimSpace(name) }

// StreamType is the stream type of the erasure events: one stream per data
// subject of an organization.
const StreamType = "datasubject"

// EventErased is the stored type of DataSubjectErased.
const EventErased = "DataSubjectErased"

// DataSubjectErased records that a data subject's key was deleted. Stored
// as {"keyId","streams":[{"id","type"}]}: the streams that held values
// sealed with it, whose read models replace those values with Erased. It
// names neither the subject nor its data.
type DataSubjectErased struct {
	KeyID   string      `json:"keyId"`
	Streams []StreamRef `json:"streams"`
}

// StreamRef names one stream.
type StreamRef struct {
	ID   uuid.UUID `json:"id"`
	Type string    `json:"type"`
}

// ErasedStreams returns the ids of the streams of streamType that e erases,
// when e is a DataSubjectErased event; ok is false for any other event.
// Projections call it on every event they read, to scrub their rows.
func ErasedStreams(e eventstore.RecordedEvent, streamType string) (ids []uuid.UUID, ok bool) {
	if e.StreamType != StreamType || e.Type != EventErased {
		return nil, false
	}
	var erased DataSubjectErased
	if err := json.Unmarshal(e.Data, &erased); err != nil {
		return nil, false
	}
	for _, s := range erased.Streams {
		if s.Type == streamType {
			ids = append(ids, s.ID)
		}
	}
	return ids, true
}

// Appender appends under a transaction of its own (*eventstore.Store).
type Appender interface {
	AppendPrepared(ctx context.Context, req eventstore.AppendRequest, prepare eventstore.PrepareFunc) (eventstore.AppendResult, error)
}

// Erasure is the outcome of Erase.
type Erasure struct {
	// Erased is false when the subject had no key: nothing of it is
	// stored (never, or not since its last erasure).
	Erased bool
	// Streams are the streams that held its sealed values.
	Streams []StreamRef
	// Result is the append of the DataSubjectErased event (zero when
	// nothing was erased).
	Result eventstore.AppendResult
}

// ErrNoSubject is returned by Erase for an empty subject.
var ErrNoSubject = errors.New("no data subject")

// Erase deletes subject's key in the organization of meta.Tenant and, in
// the same transaction, appends DataSubjectErased naming the streams that
// held its values (to the subject's stream, whose id is derived from the
// subject's keyed hash, not from the subject). The key row is locked
// first, so an erasure waits for appends sealing with the key to commit.
// Erasing a subject without a key appends nothing and reports Erased false.
//
// Errors: ErrNoSubject; the store's and the database's.
func (k *Keys) Erase(ctx context.Context, store Appender, subject string, meta eventstore.Metadata) (Erasure, error) {
	if subject == "" || meta.Tenant == "" {
		return Erasure{}, ErrNoSubject
	}
	index := k.master.subjectIndex(meta.Tenant, subject)
	var out Erasure
	req := eventstore.AppendRequest{
		StreamID:        uuid.NewSHA1(subjectStreams, index),
		StreamType:      StreamType,
		ExpectedVersion: eventstore.Any,
		Metadata:        meta,
		Command:         "EraseDataSubject",
	}
	res, err := store.AppendPrepared(ctx, req, func(ctx context.Context, tx pgx.Tx) ([]eventstore.EventData, error) {
		var keyID uuid.UUID
		err := tx.QueryRow(ctx, `SELECT key_id FROM data_subject_keys WHERE organization = $1 AND subject_index = $2 FOR UPDATE`,
			meta.Tenant, index).Scan(&keyID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("find data key: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT stream_id, stream_type FROM data_subject_streams WHERE key_id = $1 ORDER BY stream_id`, keyID)
		if err != nil {
			return nil, fmt.Errorf("streams of data key: %w", err)
		}
		streams, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (StreamRef, error) {
			var s StreamRef
			err := r.Scan(&s.ID, &s.Type)
			return s, err
		})
		if err != nil {
			return nil, fmt.Errorf("streams of data key: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM data_subject_keys WHERE key_id = $1`, keyID); err != nil {
			return nil, fmt.Errorf("delete data key: %w", err)
		}
		data, err := json.Marshal(DataSubjectErased{KeyID: keyID.String(), Streams: streams})
		if err != nil {
			return nil, err
		}
		out.Erased, out.Streams = true, streams
		return []eventstore.EventData{{Type: EventErased, SchemaVersion: 1, Data: data}}, nil
	})
	if err != nil {
		return Erasure{}, err
	}
	if out.Erased {
		out.Result = res
	}
	return out, nil
}

// subjectStreams is the UUIDv5 namespace of the subjects' erasure streams.
var subjectStreams = uuid.MustParse("6f1c2f8e-5b0a-4d7e-9a43-2e7b9c1d0a51")

// OpeningReader reads streams through a store and opens their sealed
// values: what history and time travel read (history.StreamReader).
type OpeningReader struct {
	Store interface {
		ReadStream(ctx context.Context, streamID uuid.UUID, afterVersion int64, limit int) ([]eventstore.RecordedEvent, error)
	}
	Keys *Keys
	// Querier reads the keys (the store's pool).
	Querier eventstore.Querier
}

// ReadStream returns the store's events with their sealed values opened
// (Keys.Open); a nil Keys opens nothing.
func (r OpeningReader) ReadStream(ctx context.Context, streamID uuid.UUID, afterVersion int64, limit int) ([]eventstore.RecordedEvent, error) {
	events, err := r.Store.ReadStream(ctx, streamID, afterVersion, limit)
	if err != nil || r.Keys == nil {
		return events, err
	}
	return events, r.Keys.Open(ctx, r.Querier, events)
}
