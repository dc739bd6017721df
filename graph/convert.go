package graph

import (
	"github.com/chronicle-es/chronicle/graph/model"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/money"
	"github.com/chronicle-es/chronicle/internal/page"
)

// moneyOf formats minor units of currency code as the Money type.
func moneyOf(minor int64, code string) *model.Money {
	return &model.Money{Amount: money.FormatAmount(minor, money.StoredCurrency(code)), Currency: code}
}

func storedEventOf(e eventstore.RecordedEvent) *model.StoredEvent {
	return &model.StoredEvent{
		EventID:       e.EventID.String(),
		Position:      e.Position,
		Version:       int(e.Version),
		Type:          e.Type,
		SchemaVersion: e.SchemaVersion,
		Payload:       model.JSON(e.Data),
		Metadata: &model.EventMetadata{
			Actor:         optional(e.Metadata.Actor),
			CorrelationID: optional(e.Metadata.CorrelationID),
			CausationID:   optional(e.Metadata.CausationID),
			CommandID:     optional(e.Metadata.CommandID),
		},
		RecordedAt: e.RecordedAt,
	}
}

// pageInfoOf is the PageInfo of a forward page (first/after).
func pageInfoOf[T any](p page.Page[T], after *string) *model.PageInfo {
	info := &model.PageInfo{HasNextPage: p.HasNextPage, HasPreviousPage: deref(after) != ""}
	if n := len(p.Cursors); n > 0 {
		info.StartCursor, info.EndCursor = &p.Cursors[0], &p.Cursors[n-1]
	}
	return info
}

// edgesOf maps a page's items to edges made by edge(cursor, node).
func edgesOf[T, E any](p page.Page[T], edge func(cursor string, item T) E) []E {
	out := make([]E, len(p.Items))
	for i, it := range p.Items {
		out[i] = edge(p.Cursors[i], it)
	}
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func int64Ptr(i *int) *int64 {
	if i == nil {
		return nil
	}
	v := int64(*i)
	return &v
}
