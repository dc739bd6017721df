// Package history reads an entity's own stream for the API: its audit trail
// (every stored event, in version order, in its current shape) and the
// provenance of its current state (the event that last changed it: who,
// when, by which command). Every bounded context's entities get both through
// one Reader, confined to the caller's organization like every read.
package history

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/page"
	"github.com/google/uuid"
)

// StreamReader reads a stream's stored events (*eventstore.Store).
type StreamReader interface {
	ReadStream(ctx context.Context, streamID uuid.UUID, afterVersion int64, limit int) ([]eventstore.RecordedEvent, error)
}

// Reader reads the streams of one aggregate type.
type Reader struct {
	store      StreamReader
	streamType string
	events     *aggregate.Events
	notFound   error
}

// NewReader returns a Reader of the streams of streamType, whose events
// registry upcasts what it returns; notFound is the error (NOT_FOUND) for a
// stream that does not exist, is of another type, or belongs to another
// organization.
func NewReader(store StreamReader, streamType string, events *aggregate.Events, notFound error) *Reader {
	return &Reader{store: store, streamType: streamType, events: events, notFound: notFound}
}

// cursorKind names the cursors of an audit trail.
const cursorKind = "event"

// scanBatch is how many events one read takes when a type filter skips
// some.
const scanBatch = 200

// Events returns a page of the stream's events after the cursor after, in
// version order, each in its current shape (upcast, with its current schema
// version); with types, only events of those types. first is the page size
// (page.Size). Errors: page.ErrInvalidPage for a malformed cursor or size;
// the Reader's notFound when the stream is not organization's.
func (r *Reader) Events(ctx context.Context, organization string, id uuid.UUID, first *int, after string, types []string) (page.Page[eventstore.RecordedEvent], error) {
	size, afterVersion, err := page.Int64After(cursorKind, first, after)
	if err != nil {
		return page.Page[eventstore.RecordedEvent]{}, err
	}
	if err := r.own(ctx, organization, id); err != nil {
		return page.Page[eventstore.RecordedEvent]{}, err
	}
	var out []eventstore.RecordedEvent
	for len(out) <= size {
		batch, err := r.store.ReadStream(ctx, id, afterVersion, max(size+1, scanBatch))
		if err != nil {
			return page.Page[eventstore.RecordedEvent]{}, err
		}
		for _, e := range batch {
			afterVersion = e.Version
			if len(types) > 0 && !slices.Contains(types, e.Type) {
				continue
			}
			if e.Data, e.SchemaVersion, err = r.events.Upgrade(e.Type, e.SchemaVersion, e.Data); err != nil {
				return page.Page[eventstore.RecordedEvent]{}, fmt.Errorf("history of %s %s: %w", r.streamType, id, err)
			}
			if out = append(out, e); len(out) > size {
				break
			}
		}
		if len(batch) < max(size+1, scanBatch) {
			break
		}
	}
	return page.Make(out, size, func(e eventstore.RecordedEvent) string {
		return page.EncodeInt64(cursorKind, e.Version)
	}), nil
}

// At returns the stream's event at version (upcast): the provenance of an
// entity projected at that version. Errors: the Reader's notFound when the
// stream is not organization's or has no such version.
func (r *Reader) At(ctx context.Context, organization string, id uuid.UUID, version int64) (eventstore.RecordedEvent, error) {
	if version < 1 {
		return eventstore.RecordedEvent{}, fmt.Errorf("%w: %s at version %d", r.notFound, id, version)
	}
	events, err := r.store.ReadStream(ctx, id, version-1, 1)
	if err != nil {
		return eventstore.RecordedEvent{}, err
	}
	if len(events) != 1 || events[0].StreamType != r.streamType || events[0].Metadata.Tenant != organization {
		return eventstore.RecordedEvent{}, fmt.Errorf("%w: %s", r.notFound, id)
	}
	e := events[0]
	if e.Data, e.SchemaVersion, err = r.events.Upgrade(e.Type, e.SchemaVersion, e.Data); err != nil {
		return eventstore.RecordedEvent{}, fmt.Errorf("event %d of %s %s: %w", version, r.streamType, id, err)
	}
	return e, nil
}

// own checks that the stream exists, is of the Reader's type and belongs to
// organization: its first event's metadata names the tenant (every command
// records it), so another organization's entity is not found, exactly like
// one that does not exist.
func (r *Reader) own(ctx context.Context, organization string, id uuid.UUID) error {
	first, err := r.store.ReadStream(ctx, id, 0, 1)
	if err != nil {
		return err
	}
	if len(first) == 0 || first[0].StreamType != r.streamType || first[0].Metadata.Tenant != organization || organization == "" {
		return fmt.Errorf("%w: %s", r.notFound, id)
	}
	return nil
}

// ErrInvalidPoint (BAD_USER_INPUT) reports a time-travel point that cannot
// be: both asOf and atVersion, a version below 1 or beyond the stream's last.
var ErrInvalidPoint = apperr.New(apperr.BadUserInput, "invalid input")

// Until returns organization's stream id up to a point in its past: its
// events up to version atVersion, or those recorded at or before asOf
// (exactly one of them is set), upcast, oldest first, for the context to
// fold into the entity as it was then. Errors: ErrInvalidPoint; the Reader's
// notFound when the stream is not organization's, or did not exist yet at
// asOf.
func (r *Reader) Until(ctx context.Context, organization string, id uuid.UUID, asOf *time.Time, atVersion *int64) ([]eventstore.RecordedEvent, error) {
	switch {
	case (asOf == nil) == (atVersion == nil):
		return nil, fmt.Errorf("%w: give exactly one of asOf and atVersion", ErrInvalidPoint)
	case atVersion != nil && *atVersion < 1:
		return nil, fmt.Errorf("%w: atVersion must be at least 1, got %d", ErrInvalidPoint, *atVersion)
	}
	if err := r.own(ctx, organization, id); err != nil {
		return nil, err
	}
	var out []eventstore.RecordedEvent
read:
	for after := int64(0); ; {
		batch, err := r.store.ReadStream(ctx, id, after, scanBatch)
		if err != nil {
			return nil, err
		}
		for _, e := range batch {
			after = e.Version
			if (atVersion != nil && e.Version > *atVersion) || (asOf != nil && e.RecordedAt.After(*asOf)) {
				break read
			}
			if e.Data, e.SchemaVersion, err = r.events.Upgrade(e.Type, e.SchemaVersion, e.Data); err != nil {
				return nil, fmt.Errorf("event %d of %s %s: %w", e.Version, r.streamType, id, err)
			}
			out = append(out, e)
		}
		if len(batch) < scanBatch {
			break
		}
	}
	switch {
	case atVersion != nil && int64(len(out)) < *atVersion:
		return nil, fmt.Errorf("%w: atVersion %d is beyond the last version, %d", ErrInvalidPoint, *atVersion, len(out))
	case len(out) == 0:
		return nil, fmt.Errorf("%w: %s did not exist yet at %s", r.notFound, id, asOf.UTC().Format(time.RFC3339Nano))
	}
	return out, nil
}

// Fold returns organization's entity id as it was at a point of its past
// (exactly one of asOf and atVersion): the events of its stream up to that
// point (Until), each decoded by the Reader's registry and applied, oldest
// first, to a zero V by apply (e is the decoded event value). Given the
// read model's own fold as apply, the result is by construction the row the
// read model held then, and its version and time are those of the last
// event folded. The stream's first event creates the entity, so the result
// is never the zero V. Errors: those of
// Until (ErrInvalidPoint; the Reader's notFound, also before the entity
// existed); an event that does not decode.
func Fold[V any](ctx context.Context, r *Reader, organization string, id uuid.UUID, asOf *time.Time, atVersion *int64,
	apply func(v *V, re eventstore.RecordedEvent, e any)) (V, error) {
	var v V
	events, err := r.Until(ctx, organization, id, asOf, atVersion)
	if err != nil {
		return v, err
	}
	for _, re := range events {
		e, err := r.events.Decode(re.Type, re.SchemaVersion, re.Data)
		if err != nil {
			return v, fmt.Errorf("event %d of %s %s: %w", re.Version, r.streamType, id, err)
		}
		apply(&v, re, e)
	}
	return v, nil
}
