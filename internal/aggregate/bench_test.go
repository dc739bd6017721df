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
	repo := aggregate.NewRepository(eventstore.New(pool), counterType)
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
