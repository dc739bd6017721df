package stock

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/command/commandtest"
)

// TestSnapshotPlusTailEqualsFold: for 200 random stock histories (restocks,
// reservations, commits and releases), a snapshot after any event plus the
// events after it folds to the state of the whole history.
func TestSnapshotPlusTailEqualsFold(t *testing.T) {
	const pid = "0193a1b2-0000-7000-8000-0000000000aa"
	for seed := range uint64(200) {
		rnd := rand.New(rand.NewPCG(seed, 3))
		events := []aggregate.Event{StockRestocked{ProductID: pid, Organization: "acme", Quantity: 1 + rnd.Int64N(50), RestockedBy: "a"}}
		var held []string
		for i := range rnd.IntN(30) {
			switch k := rnd.IntN(4); {
			case k == 0:
				events = append(events, StockRestocked{ProductID: pid, Organization: "acme", Quantity: 1 + rnd.Int64N(10), RestockedBy: "a"})
			case k == 1 && len(held) > 0:
				events = append(events, ReservationCommitted{ProductID: pid, OrderID: held[0], Quantity: 1, CommittedBy: "p"})
				held = held[1:]
			case k == 2 && len(held) > 0:
				events = append(events, ReservationReleased{ProductID: pid, OrderID: held[0], Quantity: 1, Reason: "r", ReleasedBy: "p"})
				held = held[1:]
			default:
				order := fmt.Sprintf("order-%d", i)
				events = append(events, StockReserved{ProductID: pid, Organization: "acme", OrderID: order, Quantity: 1, ReservedBy: "p"})
				held = append(held, order)
			}
		}
		commandtest.SnapshotPlusTailEqualsFold(t, Type, events)
	}
}
