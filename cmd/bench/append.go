package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/chronicle-es/chronicle/internal/database"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// storeAppends is item 1's store-only row (issue 14): c goroutines
// appending, through eventstore.Store as the server does, the same event
// row as the baseline, to a fresh stream each (expected version: no
// stream), in the baseline's database. It measures the append path without
// HTTP, GraphQL, the aggregate's load or the projection, beside pgbench's
// INSERT transaction at the same concurrency. The store's coalesced NOTIFY
// goes out as in the server; nobody listens.
func (b *baseline) storeAppends(ctx context.Context, c int, w window) (latencyStats, error) {
	pool, err := database.Open(ctx, b.dbURL, int32(c))
	if err != nil {
		return latencyStats{}, err
	}
	defer pool.Close()
	var md eventstore.Metadata
	if err := json.Unmarshal([]byte(b.row.Metadata), &md); err != nil {
		return latencyStats{}, fmt.Errorf("metadata of the credit row: %w", err)
	}
	store := eventstore.New(pool)
	event := eventstore.EventData{Type: b.row.Type, SchemaVersion: b.row.SchemaVersion, Data: json.RawMessage(b.row.Data)}
	var meter *cpuMeter
	h := hooks{begin: func() { meter = startCPU(ctx, nil) }}
	st := closedLoop(ctx, c, w, h, func(ctx context.Context) error {
		_, err := store.Append(ctx, eventstore.AppendRequest{
			StreamID: uuid.New(), StreamType: b.row.StreamType, ExpectedVersion: eventstore.NoStream,
			Events: []eventstore.EventData{event}, Metadata: md,
		})
		return err
	})
	st.CPU = meter.stop()
	return st, nil
}

// longStreamResult is the long-stream item (issue 14): creditAccount on
// one account whose stream holds Events events, beside creditAccount on
// freshly opened accounts, one client each, on the same server.
type longStreamResult struct {
	Events      int
	Fresh, Long latencyStats
}

// seedLongStream opens an account and credits it once over HTTP, then
// copies that credit event in SQL until the stream holds events events (the
// opening is the first), as if credited again and again: what a command on
// it loads is the same, and seeding takes one statement instead of
// events-2 commands.
func seedLongStream(ctx context.Context, srv *serverProcess, cl *client, events int) (string, error) {
	ids, err := openAccounts(ctx, srv, 1)
	if err != nil {
		return "", err
	}
	if _, err := cl.post(ctx, creditOp.body(ids[0])); err != nil {
		return "", fmt.Errorf("seed a stream of %d events: %w", events, err)
	}
	conn, err := pgx.Connect(ctx, srv.dbURL)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tag, err := conn.Exec(ctx, `
		WITH credit AS (SELECT stream_type, type, schema_version, data, metadata FROM events WHERE stream_id = $1 AND version = 2),
		s AS (UPDATE streams SET version = version + $2, updated_at = now() WHERE stream_id = $1 RETURNING version)
		INSERT INTO events (event_id, stream_id, stream_type, version, type, schema_version, data, metadata)
		SELECT gen_random_uuid(), $1, c.stream_type, v, c.type, c.schema_version, c.data, c.metadata
		FROM credit c, s, generate_series(s.version - $2 + 1, s.version) AS v
		ORDER BY v`, ids[0], events-2)
	if err == nil && tag.RowsAffected() != int64(events-2) {
		err = fmt.Errorf("copied the credit %d times, want %d", tag.RowsAffected(), events-2)
	}
	if err != nil {
		return "", fmt.Errorf("seed a stream of %d events: %w", events, err)
	}
	return ids[0], nil
}
