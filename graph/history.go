package graph

import (
	"context"
	"time"

	"github.com/chronicle-es/chronicle/graph/model"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/history"
	"github.com/google/uuid"
)

// The history part every entity type shares: its audit trail (history,
// accountHistory) and its lastChange, read from its stream for the caller's
// organization.

// historyOf answers an entity's history(first, after, types).
func historyOf(ctx context.Context, h *history.Reader, parse func(string) (uuid.UUID, error), rawID string,
	first *int, after *string, types []string) (*model.StoredEventConnection, error) {
	org, id, err := orgAndID(ctx, rawID, parse)
	if err != nil {
		return nil, err
	}
	p, err := h.Events(ctx, org, id, first, deref(after), types)
	if err != nil {
		return nil, err
	}
	return &model.StoredEventConnection{
		Edges: edgesOf(p, func(c string, e eventstore.RecordedEvent) *model.StoredEventEdge {
			return &model.StoredEventEdge{Cursor: c, Node: storedEventOf(e)}
		}),
		PageInfo: pageInfoOf(p, after),
	}, nil
}

// lastChangeOf answers an entity's lastChange: the event of its stream at
// the version the entity shows.
func lastChangeOf(ctx context.Context, h *history.Reader, parse func(string) (uuid.UUID, error), rawID string, version int) (*model.LastChange, error) {
	org, id, err := orgAndID(ctx, rawID, parse)
	if err != nil {
		return nil, err
	}
	e, err := h.At(ctx, org, id, int64(version))
	if err != nil {
		return nil, err
	}
	return &model.LastChange{
		Position:      e.Position,
		EventID:       e.EventID.String(),
		Type:          e.Type,
		RecordedAt:    e.RecordedAt,
		Actor:         optional(e.Metadata.Actor),
		CommandID:     optional(e.Metadata.CommandID),
		CorrelationID: optional(e.Metadata.CorrelationID),
	}, nil
}

// pastOr is an entity's by-id read: the read model's current row (get), or,
// with asOf or atVersion, the entity as it was then (at: time travel).
func pastOr[V any](get func(context.Context, string, uuid.UUID) (V, error),
	at func(context.Context, string, uuid.UUID, *time.Time, *int64) (V, error),
	asOf *time.Time, atVersion *int) func(context.Context, string, uuid.UUID) (V, error) {
	if asOf == nil && atVersion == nil {
		return get
	}
	return func(ctx context.Context, org string, id uuid.UUID) (V, error) {
		return at(ctx, org, id, asOf, int64Ptr(atVersion))
	}
}
