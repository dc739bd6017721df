package projection

import (
	"context"

	"github.com/chronicle-es/chronicle/internal/database"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// StreamEvents picks a projection's events out of a batch: those of
// streamType, in order, and the ids of the streams among them whose rows
// already exist and must be loaded before the batch is folded: every stream
// whose first event in the batch is not of type created (created "": every
// stream). Each id is listed once.
func StreamEvents(events []eventstore.RecordedEvent, streamType, created string) ([]eventstore.RecordedEvent, []uuid.UUID) {
	var (
		mine    []eventstore.RecordedEvent
		lookups []uuid.UUID
		seen    = map[uuid.UUID]bool{}
	)
	for _, re := range events {
		if re.StreamType != streamType {
			continue
		}
		mine = append(mine, re)
		if !seen[re.StreamID] {
			seen[re.StreamID] = true
			if created == "" || re.Type != created {
				lookups = append(lookups, re.StreamID)
			}
		}
	}
	return mine, lookups
}

// LoadRows reads the read-model rows of ids within tx, by id: query selects
// them with `= ANY($1)` on their id (and should lock them, FOR UPDATE, so
// that a rebuild's swap cannot slip in between), scan reads one, and id
// returns a row's id. No ids: no query. Errors: the query's, wrapped with
// "load " and what ("load products: ...").
func LoadRows[V any](ctx context.Context, tx pgx.Tx, what, query string, ids []uuid.UUID,
	scan func(pgx.Row) (V, error), id func(*V) uuid.UUID) (map[uuid.UUID]*V, error) {
	out := make(map[uuid.UUID]*V, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, query, ids)
	views, err := database.All(rows, err, scan, "load "+what)
	if err != nil {
		return nil, err
	}
	for i := range views {
		out[id(&views[i])] = &views[i]
	}
	return out, nil
}
