// Package order is the orders bounded context: an order of catalog
// products, priced from the catalog's write side when it is placed, and
// its fulfilment process manager (fulfilment.go), which reserves the stock,
// gets the order paid through the payments context, and commits or
// releases the stock.
//
//	PLACED --> STOCK_RESERVED --> AWAITING_PAYMENT --> PAID --> SHIPPED
//	  |              |                  |
//	  +-> REJECTED   +------------------+--> CANCELLED (PAYMENT_FAILED, CUSTOMER, PAYMENT_TIMEOUT)
//	 (OUT_OF_STOCK)  (and PLACED)
//
// Every other transition is ErrInvalidStateTransition
// (INVALID_STATE_TRANSITION) and appends nothing.
package order

import (
	"github.com/google/uuid"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/money"
)

// CodeInvalidStateTransition is the code of ErrInvalidStateTransition.
const CodeInvalidStateTransition = apperr.InvalidStateTransition

// Domain errors, wrapped with a precise message; match with errors.Is.
var (
	// ErrInvalidInput (BAD_USER_INPUT): a malformed id, name, e-mail,
	// reason, line or quantity, lines in more than one currency, a
	// discontinued product.
	ErrInvalidInput = apperr.New(apperr.BadUserInput, "invalid input")
	// ErrOrderNotFound (NOT_FOUND): no such order in the caller's
	// organization.
	ErrOrderNotFound = apperr.New(apperr.NotFound, "order not found")
	// ErrProductNotFound (NOT_FOUND): a line names a product that is not
	// in the caller's catalog.
	ErrProductNotFound = apperr.New(apperr.NotFound, "product not found")
	// ErrOrderExists (CONFLICT): placing an order under an id in use.
	ErrOrderExists = apperr.New(apperr.Conflict, "order already exists")
	// ErrInvalidStateTransition (INVALID_STATE_TRANSITION): the command is
	// not allowed in the order's status, e.g. shipping an unpaid order.
	ErrInvalidStateTransition = apperr.New(CodeInvalidStateTransition, "invalid state transition")
)

// Status is where an order is in its life.
type Status string

// Order statuses.
const (
	StatusPlaced          Status = "PLACED"
	StatusStockReserved   Status = "STOCK_RESERVED"
	StatusAwaitingPayment Status = "AWAITING_PAYMENT"
	StatusPaid            Status = "PAID"
	StatusShipped         Status = "SHIPPED"
	StatusRejected        Status = "REJECTED"
	StatusCancelled       Status = "CANCELLED"
)

// AllStatuses lists every status in lifecycle order.
var AllStatuses = []Status{StatusPlaced, StatusStockReserved, StatusAwaitingPayment, StatusPaid, StatusShipped, StatusRejected, StatusCancelled}

// Valid reports whether s is one of AllStatuses.
func (s Status) Valid() bool {
	for _, v := range AllStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// Final reports whether no command moves an order in status s any more,
// except SHIPPED's absence of one: PAID is final for the process, not for
// shipping.
func (s Status) Final() bool {
	return s == StatusShipped || s == StatusRejected || s == StatusCancelled
}

// Reason says why an order was rejected or cancelled.
type Reason string

// Reasons.
const (
	ReasonOutOfStock     Reason = "OUT_OF_STOCK"
	ReasonPaymentFailed  Reason = "PAYMENT_FAILED"
	ReasonCustomer       Reason = "CUSTOMER"
	ReasonPaymentTimeout Reason = "PAYMENT_TIMEOUT"
)

// Line is one product of an order, priced when it was placed. UnitPrice is
// in minor units of the order's currency.
type Line struct {
	ProductID string `json:"productId"`
	Quantity  int64  `json:"quantity"`
	UnitPrice int64  `json:"unitPrice"`
}

// Order is the state of one order stream. The zero value (Status "") is an
// order that does not exist yet. Amounts are in minor units of Currency.
type Order struct {
	ID           string
	Organization string
	Lines        []Line
	Currency     money.Currency
	Total        int64
	Status       Status
	Reason       Reason
	PaymentID    string
}

// Type describes the "order" aggregate to the repository.
var Type = aggregate.Type[Order]{
	StreamType: "order",
	Initial:    func() Order { return Order{} },
	Evolve:     Evolve,
	Events:     events,
}

// Evolve folds one event into the state. It never fails and re-checks
// nothing: events are facts.
func Evolve(o Order, event aggregate.Event) Order {
	switch e := event.(type) {
	case OrderPlaced:
		o = Order{ID: e.OrderID, Organization: e.Organization, Lines: e.Lines, Currency: money.StoredCurrency(e.Currency),
			Total: e.Total, Status: StatusPlaced}
	case OrderStockReserved:
		o.Status = StatusStockReserved
	case OrderAwaitingPayment:
		o.Status, o.PaymentID = StatusAwaitingPayment, e.PaymentID
	case OrderPaid:
		o.Status = StatusPaid
	case OrderShipped:
		o.Status = StatusShipped
	case OrderRejected:
		o.Status, o.Reason = StatusRejected, Reason(e.Reason)
	case OrderCancelled:
		o.Status, o.Reason = StatusCancelled, Reason(e.Reason)
	}
	return o
}

// ParseID validates an order id (a UUID, not the nil one).
// Errors: ErrInvalidInput.
func ParseID(s string) (uuid.UUID, error) {
	return command.ParseUUID(s, "order", ErrInvalidInput)
}
