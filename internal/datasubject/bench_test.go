package datasubject_test

import (
	"encoding/json"
	"testing"

	"github.com/chronicle-es/chronicle/internal/datasubject"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/google/uuid"
)

// BenchmarkPersonalAppend is the cost of sealing per command (issue 12,
// `make bench`): the append of one event with a customer's name and e-mail
// to a fresh stream, through eventstore.Store, with the fields sealed
// (get-or-create of the subject's key, AES-256-GCM, the stream link, in the
// append's transaction) beside the same append stored as is. Each parallel
// worker is its own customer, as distinct payers would be.
func BenchmarkPersonalAppend(b *testing.B) {
	ctx, pool, keys, sealing := setup(b)
	plain := eventstore.New(pool)
	for _, bc := range []struct {
		name  string
		store *eventstore.Store
	}{{"plain", plain}, {"sealed", sealing}} {
		b.Run(bc.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				c := customer{Name: "Ada Lovelace", Email: uuid.NewString() + "@example.com", Amount: 1200}
				data, _ := json.Marshal(c)
				for pb.Next() {
					_, err := bc.store.Append(ctx, eventstore.AppendRequest{
						StreamID: uuid.New(), StreamType: "customer", ExpectedVersion: eventstore.NoStream,
						Metadata: eventstore.Metadata{Tenant: "acme"},
						Events: []eventstore.EventData{{Type: "CustomerSeen", SchemaVersion: 1, Data: data,
							Personal: &eventstore.Personal{Subject: datasubject.Email(c.Email), Fields: []string{"name", "email"}}}},
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	// Opening, as a projection batch does: 500 events, one key query.
	events, err := sealing.ReadStream(ctx, appendCustomer(b, ctx, sealing, "acme", customer{Name: "Ada", Email: "ada@example.com"}).StreamID, 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	batch := make([]eventstore.RecordedEvent, 500)
	b.Run("open-500", func(b *testing.B) {
		for b.Loop() {
			for i := range batch {
				batch[i] = events[0]
			}
			if err := keys.Open(ctx, pool, batch); err != nil {
				b.Fatal(err)
			}
		}
	})
}
