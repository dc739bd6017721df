package account

import (
	"math/rand/v2"
	"testing"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/command/commandtest"
)

// TestSnapshotPlusTailEqualsFold: for 300 random account histories, a
// snapshot taken after any event, plus the events after it, folds to the
// same state as the whole history.
func TestSnapshotPlusTailEqualsFold(t *testing.T) {
	currencies := []string{"EUR", "JPY", "KWD", "XXX"} // XXX: not a currency the code knows
	for seed := range uint64(300) {
		rnd := rand.New(rand.NewPCG(seed, 7))
		events := []aggregate.Event{AccountOpened{AccountID: id, Organization: testOrg, Owner: "Ada",
			Currency: currencies[rnd.IntN(len(currencies))], InitialBalance: rnd.Int64N(10_000)}}
		balance := events[0].(AccountOpened).InitialBalance
		for range rnd.IntN(40) {
			switch amount := 1 + rnd.Int64N(5_000); {
			case rnd.IntN(3) == 0 && amount <= balance:
				events = append(events, AccountDebited{AccountID: id, Amount: amount, Description: "d"})
				balance -= amount
			default:
				events = append(events, AccountCredited{AccountID: id, Amount: amount, Description: "c"})
				balance += amount
			}
		}
		if rnd.IntN(4) == 0 {
			events = append(events, AccountDebited{AccountID: id, Amount: balance}, AccountClosed{AccountID: id})
		}
		commandtest.SnapshotPlusTailEqualsFold(t, Type, events)
	}
}
