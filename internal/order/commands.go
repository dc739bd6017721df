package order

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/input"
	"github.com/chronicle-es/chronicle/internal/money"
)

// Limits.
const (
	MaxLines              = 50
	MaxQuantity           = 10_000
	MaxCustomerNameLength = 200
	MaxNoteLength         = 500
)

// Command names, stored with idempotency keys.
const (
	cmdPlace         = "PlaceOrder"
	cmdStockReserved = "MarkOrderStockReserved"
	cmdAwaitPayment  = "AwaitOrderPayment"
	cmdPaid          = "MarkOrderPaid"
	cmdShip          = "ShipOrder"
	cmdReject        = "RejectOrder"
	cmdCancel        = "CancelOrder"
)

var (
	_ command.Command[Order] = PlaceOrder{}
	_ command.Creator        = PlaceOrder{}
	_ command.Command[Order] = MarkStockReserved{}
	_ command.Command[Order] = AwaitPayment{}
	_ command.Command[Order] = MarkPaid{}
	_ command.Command[Order] = ShipOrder{}
	_ command.Command[Order] = RejectOrder{}
	_ command.Command[Order] = CancelOrder{}
)

// LineInput is one line as the client gives it.
type LineInput struct {
	ProductID string
	Quantity  int64
}

// Price is a product's price as the catalog's write side had it when the
// order was placed; Discontinued products cannot be ordered.
type Price struct {
	Amount       int64
	Currency     string
	Discontinued bool
}

// PlaceOrder places an order of Lines for a customer. Prices holds the
// price of every line's product, by canonical product id: the App loads
// them from the catalog before the decision (Decide is pure), so they are
// part of the command.
type PlaceOrder struct {
	Lines         []LineInput
	CustomerName  string
	CustomerEmail string
	Prices        map[string]Price
}

// Name implements command.Command.
func (PlaceOrder) Name() string { return cmdPlace }

// Target implements command.Command: the handler picks the id.
func (PlaceOrder) Target() string { return "" }

// Creates implements command.Creator.
func (PlaceOrder) Creates() {}

// Decide returns one OrderPlaced with the total of the lines. Errors:
// ErrOrderExists; ErrInvalidInput for no lines or more than MaxLines, a
// malformed product id, a product named twice, a quantity outside
// 1..MaxQuantity, a discontinued product, lines in more than one currency,
// a total beyond int64, a bad customer name or e-mail; ErrProductNotFound
// for a product without a price (not in the catalog).
func (c PlaceOrder) Decide(o Order, env command.Env) ([]aggregate.Event, error) {
	if o.Status != "" {
		return nil, fmt.Errorf("%w: %s", ErrOrderExists, o.ID)
	}
	name, err := input.Field(ErrInvalidInput, input.Text, "customerName", c.CustomerName, MaxCustomerNameLength)
	if err != nil {
		return nil, err
	}
	email, err := input.Email(ErrInvalidInput, "customerEmail", c.CustomerEmail)
	if err != nil {
		return nil, err
	}
	if len(c.Lines) == 0 || len(c.Lines) > MaxLines {
		return nil, fmt.Errorf("%w: an order has 1 to %d lines, not %d", ErrInvalidInput, MaxLines, len(c.Lines))
	}
	lines := make([]Line, 0, len(c.Lines))
	seen := map[string]bool{}
	currency := ""
	var total int64
	for i, l := range c.Lines {
		id, err := command.ParseUUID(l.ProductID, "product", ErrInvalidInput)
		if err != nil {
			return nil, fmt.Errorf("lines[%d]: %w", i, err)
		}
		pid := id.String()
		if seen[pid] {
			return nil, fmt.Errorf("%w: lines[%d]: product %s is named twice; give one line per product", ErrInvalidInput, i, pid)
		}
		seen[pid] = true
		if l.Quantity < 1 || l.Quantity > MaxQuantity {
			return nil, fmt.Errorf("%w: lines[%d]: quantity %d is not 1..%d", ErrInvalidInput, i, l.Quantity, MaxQuantity)
		}
		p, ok := c.Prices[pid]
		if !ok {
			return nil, fmt.Errorf("%w: %s", ErrProductNotFound, pid)
		}
		if p.Discontinued {
			return nil, fmt.Errorf("%w: lines[%d]: product %s is discontinued", ErrInvalidInput, i, pid)
		}
		if currency == "" {
			currency = p.Currency
		} else if p.Currency != currency {
			return nil, fmt.Errorf("%w: lines[%d]: product %s is priced in %s, the order's other lines in %s: one currency per order",
				ErrInvalidInput, i, pid, p.Currency, currency)
		}
		hi, amount := bits.Mul64(uint64(p.Amount), uint64(l.Quantity))
		if hi != 0 || amount > math.MaxInt64 || total > math.MaxInt64-int64(amount) {
			return nil, fmt.Errorf("%w: the order's total is out of range", ErrInvalidInput)
		}
		total += int64(amount)
		lines = append(lines, Line{ProductID: pid, Quantity: l.Quantity, UnitPrice: p.Amount})
	}
	if _, err := money.LookupCurrency(currency); err != nil {
		return nil, err
	}
	return []aggregate.Event{OrderPlaced{
		OrderID: env.StreamID.String(), Organization: env.Organization, CustomerName: name, CustomerEmail: email,
		Lines: lines, Currency: currency, Total: total, PlacedBy: env.Actor,
	}}, nil
}

// MarkStockReserved moves order ID from PLACED to STOCK_RESERVED (the
// fulfilment process, once every line's stock is held).
type MarkStockReserved struct{ ID string }

// Name implements command.Command.
func (MarkStockReserved) Name() string { return cmdStockReserved }

// Target implements command.Command.
func (c MarkStockReserved) Target() string { return c.ID }

// Decide returns one OrderStockReserved. Errors: those of transition.
func (c MarkStockReserved) Decide(o Order, env command.Env) ([]aggregate.Event, error) {
	if err := transition(o, env, "reserve the stock of", StatusPlaced); err != nil {
		return nil, err
	}
	return []aggregate.Event{OrderStockReserved{OrderID: o.ID}}, nil
}

// AwaitPayment moves order ID from STOCK_RESERVED to AWAITING_PAYMENT with
// the payment initiated for it.
type AwaitPayment struct{ ID, PaymentID string }

// Name implements command.Command.
func (AwaitPayment) Name() string { return cmdAwaitPayment }

// Target implements command.Command.
func (c AwaitPayment) Target() string { return c.ID }

// Decide returns one OrderAwaitingPayment. Errors: those of transition;
// ErrInvalidInput for a malformed payment id.
func (c AwaitPayment) Decide(o Order, env command.Env) ([]aggregate.Event, error) {
	if err := transition(o, env, "await the payment of", StatusStockReserved); err != nil {
		return nil, err
	}
	pid, err := command.ParseUUID(c.PaymentID, "payment", ErrInvalidInput)
	if err != nil {
		return nil, err
	}
	return []aggregate.Event{OrderAwaitingPayment{OrderID: o.ID, PaymentID: pid.String()}}, nil
}

// MarkPaid moves order ID from AWAITING_PAYMENT to PAID.
type MarkPaid struct{ ID string }

// Name implements command.Command.
func (MarkPaid) Name() string { return cmdPaid }

// Target implements command.Command.
func (c MarkPaid) Target() string { return c.ID }

// Decide returns one OrderPaid. Errors: those of transition.
func (c MarkPaid) Decide(o Order, env command.Env) ([]aggregate.Event, error) {
	if err := transition(o, env, "mark paid", StatusAwaitingPayment); err != nil {
		return nil, err
	}
	return []aggregate.Event{OrderPaid{OrderID: o.ID, PaymentID: o.PaymentID}}, nil
}

// ShipOrder moves paid order ID to SHIPPED.
type ShipOrder struct{ ID string }

// Name implements command.Command.
func (ShipOrder) Name() string { return cmdShip }

// Target implements command.Command.
func (c ShipOrder) Target() string { return c.ID }

// Decide returns one OrderShipped. Errors: those of transition.
func (c ShipOrder) Decide(o Order, env command.Env) ([]aggregate.Event, error) {
	if err := transition(o, env, "ship", StatusPaid); err != nil {
		return nil, err
	}
	return []aggregate.Event{OrderShipped{OrderID: o.ID, ShippedBy: env.Actor}}, nil
}

// RejectOrder rejects PLACED order ID: its stock could not be reserved
// (the reason is OUT_OF_STOCK).
type RejectOrder struct{ ID string }

// Name implements command.Command.
func (RejectOrder) Name() string { return cmdReject }

// Target implements command.Command.
func (c RejectOrder) Target() string { return c.ID }

// Decide returns one OrderRejected. Errors: those of transition.
func (c RejectOrder) Decide(o Order, env command.Env) ([]aggregate.Event, error) {
	if err := transition(o, env, "reject", StatusPlaced); err != nil {
		return nil, err
	}
	return []aggregate.Event{OrderRejected{OrderID: o.ID, Reason: string(ReasonOutOfStock)}}, nil
}

// CancelOrder cancels order ID before it is paid, for Reason (CUSTOMER
// from a client; PAYMENT_FAILED or PAYMENT_TIMEOUT from the fulfilment
// process) with an optional Note (at most MaxNoteLength characters).
type CancelOrder struct {
	ID     string
	Reason Reason
	Note   string
}

// Name implements command.Command.
func (CancelOrder) Name() string { return cmdCancel }

// Target implements command.Command.
func (c CancelOrder) Target() string { return c.ID }

// Decide returns one OrderCancelled. Errors: those of transition (an order
// is cancelled from PLACED, STOCK_RESERVED or AWAITING_PAYMENT);
// ErrInvalidInput for an unknown reason or a note too long.
func (c CancelOrder) Decide(o Order, env command.Env) ([]aggregate.Event, error) {
	if err := transition(o, env, "cancel", StatusPlaced, StatusStockReserved, StatusAwaitingPayment); err != nil {
		return nil, err
	}
	switch c.Reason {
	case ReasonCustomer, ReasonPaymentFailed, ReasonPaymentTimeout:
	default:
		return nil, fmt.Errorf("%w: unknown cancellation reason %q", ErrInvalidInput, c.Reason)
	}
	note, err := input.Field(ErrInvalidInput, input.OptionalText, "reason", c.Note, MaxNoteLength)
	if err != nil {
		return nil, err
	}
	return []aggregate.Event{OrderCancelled{OrderID: o.ID, Reason: string(c.Reason), Note: note, CancelledBy: env.Actor}}, nil
}

// transition checks that o exists in env's organization (else
// ErrOrderNotFound) and is in one of the statuses from (else
// ErrInvalidStateTransition).
func transition(o Order, env command.Env, action string, from ...Status) error {
	return command.InStatus(env, o.Status != "", o.Organization, o.Status, ErrOrderNotFound, ErrInvalidStateTransition, "order", action, from...)
}
