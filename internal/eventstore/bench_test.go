package eventstore_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/google/uuid"
)

// The append benchmarks run beside a baseline measured in the same run: the
// same event row inserted by plain SQL with no version check, no stream row,
// no lock and no NOTIFY. Compare ns/op of the pairs:
//
//	go test -run '^$' -bench . -benchtime 3s ./internal/eventstore/

var benchPayload = json.RawMessage(`{"accountId":"0190b2a4-0000-7000-8000-000000000000","amount":100,"description":"coffee"}`)

// BenchmarkBaselineInsert inserts one event row per op, many streams in
// parallel: what PostgreSQL costs without the store.
func BenchmarkBaselineInsert(b *testing.B) {
	pool, _ := pgtest.NewPool(b)
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		stream := uuid.New()
		var version int64
		for pb.Next() {
			version++
			_, err := pool.Exec(ctx, `INSERT INTO events (event_id, stream_id, stream_type, version, type, data, metadata)
				VALUES ($1, $2, 'account', $3, 'AccountCredited', $4, '{}')`,
				uuid.Must(uuid.NewV7()), stream, version, string(benchPayload))
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAppend appends one event per op with an exact expected version,
// each goroutine on its own stream: the store's uncontended hot path.
func BenchmarkAppend(b *testing.B) { benchmarkAppend(b, false) }

// BenchmarkAppendWithIdempotencyKey is BenchmarkAppend with a fresh key per
// append (a transaction of three statements instead of one statement).
func BenchmarkAppendWithIdempotencyKey(b *testing.B) { benchmarkAppend(b, true) }

func benchmarkAppend(b *testing.B, withKey bool) {
	pool, _ := pgtest.NewPool(b)
	store := eventstore.New(pool)
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		stream := uuid.New()
		version := eventstore.NoStream
		for pb.Next() {
			req := eventstore.AppendRequest{
				StreamID: stream, StreamType: "account", ExpectedVersion: version,
				Events: []eventstore.EventData{{Type: "AccountCredited", SchemaVersion: 1, Data: benchPayload}},
			}
			if withKey {
				req.IdempotencyKey, req.Command = uuid.NewString(), "CreditAccount"
			}
			res, err := store.Append(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			version = res.ToVersion
		}
	})
}
