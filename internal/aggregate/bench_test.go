package aggregate_test

import (
	"context"
	"testing"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/google/uuid"
)

// BenchmarkLoad loads an aggregate of 20 events (each with a command's
// metadata), what every command does before deciding:
//
//	go test -run '^$' -bench Load -benchmem ./internal/aggregate/
func BenchmarkLoad(b *testing.B) {
	pool, _ := pgtest.NewPool(b)
	repo := aggregate.NewRepository(eventstore.New(pool), counterType, nil)
	ctx := context.Background()
	id := uuid.New()
	opts := aggregate.Options{Metadata: eventstore.Metadata{
		Actor: "user-1", CorrelationID: uuid.NewString(), CommandID: uuid.NewString(), Tenant: "acme",
	}}
	for i := range 20 {
		_, err := repo.Handle(ctx, id, "Increment", opts, func(counter) ([]aggregate.Event, error) {
			if i == 0 {
				return []aggregate.Event{created{Limit: 100}}, nil
			}
			return []aggregate.Event{incremented{By: 1}}, nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if state, version, err := repo.Load(ctx, id); err != nil || version != 20 || state.Value != 19 {
			b.Fatalf("%+v at %d, %v", state, version, err)
		}
	}
}

// BenchmarkCommandOnLongStream runs one command (load, decide, append) on a
// fresh stream, beside the same command on a stream of 10,000 events with
// and without snapshots (taken every 100 events, as SNAPSHOT_EVERY's
// default):
//
//	go test -run '^$' -bench CommandOnLongStream -benchtime 200x ./internal/aggregate/
func BenchmarkCommandOnLongStream(b *testing.B) {
	pool, _ := pgtest.NewPool(b)
	store := eventstore.New(pool)
	ctx := context.Background()
	snaps := aggregate.NewSnapshotter(store, 100, 1024, nil)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = snaps.Run(runCtx) }()
	long := uuid.New()
	// 10,000 events written in bulk, as history that grew over time.
	if _, err := pool.Exec(ctx, `INSERT INTO streams (stream_id, stream_type, version) VALUES ($1, 'counter', 10000)`, long); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO events (event_id, stream_id, stream_type, version, type, data)
		SELECT gen_random_uuid(), $1, 'counter', v, CASE WHEN v = 1 THEN 'Created' ELSE 'Incremented' END,
			CASE WHEN v = 1 THEN '{"Limit": 1000000000}'::jsonb ELSE '{"By": 1}'::jsonb END
		FROM generate_series(1, 10000) v`, long); err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, repo *aggregate.Repository[counter], id func() uuid.UUID) {
		for b.Loop() {
			if _, err := repo.Handle(ctx, id(), "Increment", aggregate.Options{}, func(c counter) ([]aggregate.Event, error) {
				if c.Limit == 0 {
					return []aggregate.Event{created{Limit: 1 << 30}}, nil
				}
				return []aggregate.Event{incremented{By: 1}}, nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("fresh-stream", func(b *testing.B) {
		run(b, aggregate.NewRepository(store, counterType, nil), uuid.New)
	})
	b.Run("10000-events-no-snapshots", func(b *testing.B) {
		run(b, aggregate.NewRepository(store, counterType, nil), func() uuid.UUID { return long })
	})
	b.Run("10000-events-snapshots", func(b *testing.B) {
		run(b, aggregate.NewRepository(store, snapshotted, snaps), func() uuid.UUID { return long })
	})
}
