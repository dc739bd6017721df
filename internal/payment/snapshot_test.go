package payment

import (
	"math/rand/v2"
	"testing"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/command/commandtest"
)

// TestSnapshotPlusTailEqualsFold: for 300 random payment histories, a
// snapshot taken after any event, plus the events after it, folds to the
// same state as the whole history.
func TestSnapshotPlusTailEqualsFold(t *testing.T) {
	const pid = "0193a1b2-0000-7000-8000-000000000001"
	for seed := range uint64(300) {
		rnd := rand.New(rand.NewPCG(seed, 11))
		amount := 1 + rnd.Int64N(100_000)
		events := []aggregate.Event{PaymentInitiated{PaymentID: pid, Organization: "acme", CustomerName: "C",
			CustomerEmail: "c@example.com", Amount: amount, Currency: []string{"EUR", "JPY", "KWD"}[rnd.IntN(3)], InitiatedBy: "a"}}
		switch rnd.IntN(3) {
		case 0:
			events = append(events, PaymentFailed{PaymentID: pid, Reason: "declined", FailedBy: "b"})
		case 1:
			events = append(events, PaymentProcessed{PaymentID: pid, ProcessedBy: "b"})
			for left := amount; left > 0 && rnd.IntN(3) > 0; {
				part := 1 + rnd.Int64N(left)
				events = append(events, PaymentRefunded{PaymentID: pid, Amount: part, Reason: "r", RefundedBy: "c"})
				left -= part
			}
		}
		commandtest.SnapshotPlusTailEqualsFold(t, Type, events)
	}
}
