package order_test

import (
	"testing"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/command/commandtest"
	"github.com/chronicle-es/chronicle/internal/order"
	"github.com/google/uuid"
)

var (
	orderID  = uuid.MustParse("01900000-0000-7000-8000-000000000001")
	bookA    = "01900000-0000-7000-8000-00000000000a"
	bookB    = "01900000-0000-7000-8000-00000000000b"
	payID    = "01900000-0000-7000-8000-0000000000ff"
	env      = command.Env{StreamID: orderID, Actor: "ada", Organization: "shop"}
	otherOrg = command.Env{StreamID: orderID, Actor: "eve", Organization: "other"}
	prices   = map[string]order.Price{bookA: {Amount: 1250, Currency: "EUR"}, bookB: {Amount: 300, Currency: "EUR"}}
	placed   = order.OrderPlaced{
		OrderID: orderID.String(), Organization: "shop", CustomerName: "Ada", CustomerEmail: "ada@example.com",
		Lines:    []order.Line{{ProductID: bookA, Quantity: 2, UnitPrice: 1250}, {ProductID: bookB, Quantity: 1, UnitPrice: 300}},
		Currency: "EUR", Total: 2800, PlacedBy: "ada",
	}
	reserved = order.OrderStockReserved{OrderID: orderID.String()}
	awaiting = order.OrderAwaitingPayment{OrderID: orderID.String(), PaymentID: payID}
	paid     = order.OrderPaid{OrderID: orderID.String(), PaymentID: payID}
	shipped  = order.OrderShipped{OrderID: orderID.String(), ShippedBy: "ada"}
)

func place(lines ...order.LineInput) order.PlaceOrder {
	return order.PlaceOrder{Lines: lines, CustomerName: " Ada ", CustomerEmail: "ada@EXAMPLE.com", Prices: prices}
}

func TestPlaceOrderTotalsTheCatalogPrices(t *testing.T) {
	commandtest.Given(t, order.Type).As(env).
		When(place(order.LineInput{ProductID: bookA, Quantity: 2}, order.LineInput{ProductID: bookB, Quantity: 1})).
		Then(placed)
	o := order.Type.Fold(placed)
	if o.Status != order.StatusPlaced || o.Total != 2800 || o.Currency.Code != "EUR" {
		t.Fatalf("folded %+v", o)
	}
}

func TestPlaceOrderRefusals(t *testing.T) {
	a := order.LineInput{ProductID: bookA, Quantity: 1}
	mixed := place(a, order.LineInput{ProductID: bookB, Quantity: 1})
	mixed.Prices = map[string]order.Price{bookA: {Amount: 1, Currency: "EUR"}, bookB: {Amount: 1, Currency: "USD"}}
	discontinued := place(a)
	discontinued.Prices = map[string]order.Price{bookA: {Amount: 1, Currency: "EUR", Discontinued: true}}
	huge := place(order.LineInput{ProductID: bookA, Quantity: order.MaxQuantity})
	huge.Prices = map[string]order.Price{bookA: {Amount: 1 << 62, Currency: "EUR"}}
	noEmail := place(a)
	noEmail.CustomerEmail = "Ada <ada@example.com>"
	for name, tc := range map[string]struct {
		cmd  order.PlaceOrder
		want error
	}{
		"mixed currencies":  {mixed, order.ErrInvalidInput},
		"no lines":          {place(), order.ErrInvalidInput},
		"zero quantity":     {place(order.LineInput{ProductID: bookA}), order.ErrInvalidInput},
		"too many":          {place(order.LineInput{ProductID: bookA, Quantity: order.MaxQuantity + 1}), order.ErrInvalidInput},
		"a product twice":   {place(a, a), order.ErrInvalidInput},
		"malformed product": {place(order.LineInput{ProductID: "x", Quantity: 1}), order.ErrInvalidInput},
		"unknown product":   {place(order.LineInput{ProductID: uuid.NewString(), Quantity: 1}), order.ErrProductNotFound},
		"discontinued":      {discontinued, order.ErrInvalidInput},
		"total overflows":   {huge, order.ErrInvalidInput},
		"display-name mail": {noEmail, order.ErrInvalidInput},
	} {
		t.Run(name, func(t *testing.T) {
			commandtest.Given(t, order.Type).As(env).When(tc.cmd).ThenError(tc.want)
		})
	}
	commandtest.Given(t, order.Type, placed).As(env).When(place(a)).ThenError(order.ErrOrderExists)
}

// TestLifecycle walks the happy path one transition at a time.
func TestLifecycle(t *testing.T) {
	id := orderID.String()
	commandtest.Given(t, order.Type, placed).As(env).When(order.MarkStockReserved{ID: id}).Then(reserved)
	commandtest.Given(t, order.Type, placed, reserved).As(env).When(order.AwaitPayment{ID: id, PaymentID: payID}).Then(awaiting)
	commandtest.Given(t, order.Type, placed, reserved, awaiting).As(env).When(order.MarkPaid{ID: id}).Then(paid)
	commandtest.Given(t, order.Type, placed, reserved, awaiting, paid).As(env).When(order.ShipOrder{ID: id}).Then(shipped)
	commandtest.Given(t, order.Type, placed).As(env).When(order.RejectOrder{ID: id}).
		Then(order.OrderRejected{OrderID: id, Reason: "OUT_OF_STOCK"})
	for _, given := range [][]aggregate.Event{{placed}, {placed, reserved}, {placed, reserved, awaiting}} {
		commandtest.Given(t, order.Type, given...).As(env).When(order.CancelOrder{ID: id, Reason: order.ReasonCustomer, Note: " no "}).
			Then(order.OrderCancelled{OrderID: id, Reason: "CUSTOMER", Note: "no", CancelledBy: "ada"})
	}
	commandtest.Given(t, order.Type, placed).As(env).When(order.CancelOrder{ID: id, Reason: "WHIM"}).ThenError(order.ErrInvalidInput)
	commandtest.Given(t, order.Type, placed, reserved).As(env).When(order.AwaitPayment{ID: id, PaymentID: "x"}).ThenError(order.ErrInvalidInput)
}

// TestEveryOtherTransitionIsInvalid: each command from each status that is
// not on its arrow is INVALID_STATE_TRANSITION.
func TestEveryOtherTransitionIsInvalid(t *testing.T) {
	id := orderID.String()
	rejected := order.OrderRejected{OrderID: id, Reason: "OUT_OF_STOCK"}
	cancelled := order.OrderCancelled{OrderID: id, Reason: "CUSTOMER", CancelledBy: "ada"}
	histories := map[order.Status][]aggregate.Event{
		order.StatusPlaced:          {placed},
		order.StatusStockReserved:   {placed, reserved},
		order.StatusAwaitingPayment: {placed, reserved, awaiting},
		order.StatusPaid:            {placed, reserved, awaiting, paid},
		order.StatusShipped:         {placed, reserved, awaiting, paid, shipped},
		order.StatusRejected:        {placed, rejected},
		order.StatusCancelled:       {placed, cancelled},
	}
	allowed := map[string][]order.Status{
		"MarkOrderStockReserved": {order.StatusPlaced},
		"AwaitOrderPayment":      {order.StatusStockReserved},
		"MarkOrderPaid":          {order.StatusAwaitingPayment},
		"ShipOrder":              {order.StatusPaid},
		"RejectOrder":            {order.StatusPlaced},
		"CancelOrder":            {order.StatusPlaced, order.StatusStockReserved, order.StatusAwaitingPayment},
	}
	cmds := []command.Command[order.Order]{
		order.MarkStockReserved{ID: id}, order.AwaitPayment{ID: id, PaymentID: payID}, order.MarkPaid{ID: id},
		order.ShipOrder{ID: id}, order.RejectOrder{ID: id}, order.CancelOrder{ID: id, Reason: order.ReasonCustomer},
	}
	for status, history := range histories {
		if got := order.Type.Fold(history...).Status; got != status {
			t.Fatalf("history folds to %s, want %s", got, status)
		}
		for _, cmd := range cmds {
			ok := false
			for _, s := range allowed[cmd.Name()] {
				ok = ok || s == status
			}
			out := commandtest.Given(t, order.Type, history...).As(env).When(cmd)
			if ok {
				if out.Err() != nil {
					t.Fatalf("%s from %s: %v", cmd.Name(), status, out.Err())
				}
				continue
			}
			out.ThenError(order.ErrInvalidStateTransition)
		}
	}
}

func TestOtherOrganizationsAndNowhere(t *testing.T) {
	id := orderID.String()
	commandtest.Given(t, order.Type, placed).As(otherOrg).When(order.CancelOrder{ID: id, Reason: order.ReasonCustomer}).ThenError(order.ErrOrderNotFound)
	commandtest.Given(t, order.Type).As(env).When(order.ShipOrder{ID: id}).ThenError(order.ErrOrderNotFound)
}
