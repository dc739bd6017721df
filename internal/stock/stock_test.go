package stock

import (
	"testing"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/command/commandtest"
	"github.com/google/uuid"
)

const (
	product = "0192f3a4-5b6c-7d8e-9f00-112233445566"
	order1  = "0192f3a4-0000-7000-8000-000000000001"
	order2  = "0192f3a4-0000-7000-8000-000000000002"
	org     = "acme"
)

// Who sends the commands, on the stock of product: alice of org, the
// fulfilment process of org, eve of another organization.
var (
	alice   = as("alice", org)
	process = as("process:fulfilment", org)
	eve     = as("eve", "globex")
)

func as(actor, organization string) command.Env {
	return command.Env{StreamID: StreamID(organization, uuid.MustParse(product)), Actor: actor, Organization: organization, StreamKey: product}
}

func restocked(q int64) StockRestocked {
	return StockRestocked{ProductID: product, Organization: org, Quantity: q, RestockedBy: "alice"}
}

func reserved(orderID string, q int64) StockReserved {
	return StockReserved{ProductID: product, Organization: org, OrderID: orderID, Quantity: q, ReservedBy: "process:fulfilment"}
}

func committed(orderID string, q int64) ReservationCommitted {
	return ReservationCommitted{ProductID: product, OrderID: orderID, Quantity: q, CommittedBy: "process:fulfilment"}
}

func released(orderID string, q int64, reason string) ReservationReleased {
	return ReservationReleased{ProductID: product, OrderID: orderID, Quantity: q, Reason: reason, ReleasedBy: "process:fulfilment"}
}

func given(es ...aggregate.Event) []aggregate.Event { return es }

func TestKeyIsTheCanonicalProductID(t *testing.T) {
	for _, c := range []command.Keyed{
		RestockProduct{ProductID: "0192F3A4-5B6C-7D8E-9F00-112233445566"},
		ReserveStock{ProductID: product}, CommitReservation{ProductID: product}, ReleaseReservation{ProductID: product},
	} {
		if k, err := c.Key(); err != nil || k != product {
			t.Errorf("%T.Key() = %q, %v; want %q", c, k, err, product)
		}
	}
	for _, bad := range []string{"", "x", "00000000-0000-0000-0000-000000000000", product + " "} {
		if _, err := (RestockProduct{ProductID: bad}).Key(); err == nil {
			t.Errorf("Key of product id %q: no error", bad)
		}
	}
	if StreamID(org, uuid.MustParse(product)) == StreamID("globex", uuid.MustParse(product)) {
		t.Error("two organizations share a stock stream of one product")
	}
}

func TestRestockProduct(t *testing.T) {
	commandtest.Given(t, Type).As(alice).When(RestockProduct{ProductID: product, Quantity: 10}).Then(restocked(10))
	commandtest.Given(t, Type, restocked(10)).As(alice).When(RestockProduct{ProductID: product, Quantity: 5}).Then(restocked(5))
	for _, q := range []int64{0, -1, MaxQuantity + 1} {
		commandtest.Given(t, Type).As(alice).When(RestockProduct{ProductID: product, Quantity: q}).ThenError(ErrInvalidInput)
	}
	full := given()
	for range MaxOnHand / MaxQuantity {
		full = append(full, restocked(MaxQuantity))
	}
	commandtest.Given(t, Type, full...).As(alice).When(RestockProduct{ProductID: product, Quantity: 1}).ThenError(ErrInvalidInput)
	commandtest.Given(t, Type, restocked(10)).As(eve).When(RestockProduct{ProductID: product, Quantity: 1}).ThenError(ErrProductNotFound)
}

func TestReserveStock(t *testing.T) {
	commandtest.Given(t, Type, restocked(10)).As(process).
		When(ReserveStock{ProductID: product, OrderID: order1, Quantity: 10}).Then(reserved(order1, 10))
	// Exactly what is available, and no more.
	commandtest.Given(t, Type, restocked(10), reserved(order1, 7)).As(process).
		When(ReserveStock{ProductID: product, OrderID: order2, Quantity: 3}).Then(reserved(order2, 3))
	commandtest.Given(t, Type, restocked(10), reserved(order1, 7)).As(process).
		When(ReserveStock{ProductID: product, OrderID: order2, Quantity: 4}).ThenError(ErrOutOfStock)
	// Never restocked: nothing is available.
	commandtest.Given(t, Type).As(process).
		When(ReserveStock{ProductID: product, OrderID: order1, Quantity: 1}).ThenError(ErrOutOfStock)
	// Committed units are gone; released ones are back.
	commandtest.Given(t, Type, restocked(10), reserved(order1, 10), committed(order1, 10)).As(process).
		When(ReserveStock{ProductID: product, OrderID: order2, Quantity: 1}).ThenError(ErrOutOfStock)
	commandtest.Given(t, Type, restocked(10), reserved(order1, 10), released(order1, 10, "")).As(process).
		When(ReserveStock{ProductID: product, OrderID: order2, Quantity: 10}).Then(reserved(order2, 10))
}

func TestReserveStockOncePerOrder(t *testing.T) {
	for name, h := range map[string][]aggregate.Event{
		"held":      given(restocked(10), reserved(order1, 2)),
		"committed": given(restocked(10), reserved(order1, 2), committed(order1, 2)),
		"released":  given(restocked(10), reserved(order1, 2), released(order1, 2, "")),
	} {
		t.Run(name, func(t *testing.T) {
			commandtest.Given(t, Type, h...).As(process).
				When(ReserveStock{ProductID: product, OrderID: order1, Quantity: 2}).ThenError(ErrAlreadyReserved)
		})
	}
}

func TestReserveStockInput(t *testing.T) {
	for _, c := range []ReserveStock{
		{ProductID: product, OrderID: "nope", Quantity: 1},
		{ProductID: product, OrderID: order1, Quantity: 0},
		{ProductID: product, OrderID: order1, Quantity: MaxQuantity + 1},
	} {
		commandtest.Given(t, Type, restocked(10)).As(process).When(c).ThenError(ErrInvalidInput)
	}
	commandtest.Given(t, Type, restocked(10)).As(eve).
		When(ReserveStock{ProductID: product, OrderID: order1, Quantity: 1}).ThenError(ErrProductNotFound)
}

func TestCommitReservation(t *testing.T) {
	held := given(restocked(10), reserved(order1, 4))
	commandtest.Given(t, Type, held...).As(process).
		When(CommitReservation{ProductID: product, OrderID: order1}).Then(committed(order1, 4))
	commandtest.Given(t, Type, held...).As(process).
		When(CommitReservation{ProductID: product, OrderID: order2}).ThenError(ErrReservationNotFound)
	commandtest.Given(t, Type).As(process).
		When(CommitReservation{ProductID: product, OrderID: order1}).ThenError(ErrReservationNotFound)
	commandtest.Given(t, Type, append(held, committed(order1, 4))...).As(process).
		When(CommitReservation{ProductID: product, OrderID: order1}).ThenError(ErrInvalidStateTransition)
	commandtest.Given(t, Type, append(held, released(order1, 4, ""))...).As(process).
		When(CommitReservation{ProductID: product, OrderID: order1}).ThenError(ErrInvalidStateTransition)
	commandtest.Given(t, Type, held...).As(eve).
		When(CommitReservation{ProductID: product, OrderID: order1}).ThenError(ErrReservationNotFound)
}

func TestReleaseReservation(t *testing.T) {
	held := given(restocked(10), reserved(order1, 4))
	commandtest.Given(t, Type, held...).As(process).
		When(ReleaseReservation{ProductID: product, OrderID: order1, Reason: " PAYMENT_FAILED "}).
		Then(released(order1, 4, "PAYMENT_FAILED"))
	commandtest.Given(t, Type, held...).As(process).
		When(ReleaseReservation{ProductID: product, OrderID: order2}).ThenError(ErrReservationNotFound)
	commandtest.Given(t, Type, append(held, released(order1, 4, ""))...).As(process).
		When(ReleaseReservation{ProductID: product, OrderID: order1}).ThenError(ErrInvalidStateTransition)
	commandtest.Given(t, Type, append(held, committed(order1, 4))...).As(process).
		When(ReleaseReservation{ProductID: product, OrderID: order1}).ThenError(ErrInvalidStateTransition)
	commandtest.Given(t, Type, held...).As(process).
		When(ReleaseReservation{ProductID: product, OrderID: order1, Reason: "bad\x00"}).ThenError(ErrInvalidInput)
}

// TestInvariant folds a history of every kind of event and checks the
// counts: on hand drops only by committed units, available never below 0.
func TestInvariant(t *testing.T) {
	s := Type.Fold(restocked(10), reserved(order1, 4), reserved(order2, 6), committed(order1, 4), released(order2, 6, "x"))
	if s.OnHand != 6 || s.Reserved != 0 || s.Available() != 6 {
		t.Errorf("onHand %d, reserved %d, available %d; want 6, 0, 6", s.OnHand, s.Reserved, s.Available())
	}
	if s.Reservations[order1].Status != StatusCommitted || s.Reservations[order2].Status != StatusReleased {
		t.Errorf("reservations %+v", s.Reservations)
	}
}
