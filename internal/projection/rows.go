package projection

import (
	"context"
	"strings"

	"github.com/chronicle-es/chronicle/internal/datasubject"

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

// Erasures returns the ids of the streams of streamType that the erasure
// events among events name (datasubject.DataSubjectErased), each once.
func Erasures(events []eventstore.RecordedEvent, streamType string) []uuid.UUID {
	var ids []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, re := range events {
		erased, ok := datasubject.ErasedStreams(re, streamType)
		if !ok {
			continue
		}
		for _, id := range erased {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// Scrubbed is a read-model row that Scrub changed.
type Scrubbed struct {
	ID           uuid.UUID
	Organization string
}

// Scrub replaces, within tx, the personal columns of table's rows whose id
// is among ids with datasubject.Erased, and returns the rows it changed
// (table must have id and organization columns). A projection calls it
// after writing its batch, with Erasures of the batch: the rows written
// before the erasure held the values opened then; every value opened after
// it reads Erased already. Errors: the database's, wrapped with "scrub "
// and table.
func Scrub(ctx context.Context, tx pgx.Tx, table string, columns []string, ids []uuid.UUID) ([]Scrubbed, error) {
	if len(ids) == 0 || len(columns) == 0 {
		return nil, nil
	}
	set := make([]string, len(columns))
	for i, c := range columns {
		set[i] = pgx.Identifier{c}.Sanitize() + " = $2"
	}
	rows, err := tx.Query(ctx, `UPDATE `+pgx.Identifier{table}.Sanitize()+` SET `+strings.Join(set, ", ")+
		` WHERE id = ANY($1) RETURNING id, organization`, ids, datasubject.Erased)
	return database.All(rows, err, func(r pgx.Row) (Scrubbed, error) {
		var s Scrubbed
		err := r.Scan(&s.ID, &s.Organization)
		return s, err
	}, "scrub "+table)
}

// SendBatch sends batch within tx and closes it; an empty batch (one of
// erasures only, say) sends nothing.
func SendBatch(ctx context.Context, tx pgx.Tx, batch *pgx.Batch) error {
	if batch.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, batch).Close()
}
