// Package stock is the stock bounded context: how many units of each
// catalog product an organization has on hand, and the reservations held
// for orders until they are committed (the order is paid: the units leave)
// or released (the units are available again).
//
// One stream per (organization, product), its id derived from the two
// (command.KeyedID), so every command on a product's stock runs against one
// aggregate and the event store's stream lock serialises them: the
// invariant
//
//	0 <= reserved <= onHand, available = onHand - reserved >= 0
//
// is checked by Decide on the state folded under that lock, so concurrent
// reservations can never oversell (see docs/architecture.md, "Stock").
//
// Reservations are per order: an order holds at most one reservation of a
// product, ever, so a repeated ReserveStock for one order never reserves
// twice (ErrAlreadyReserved).
package stock

import (
	"github.com/google/uuid"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/command"
)

// Codes of the stock context's domain errors.
const (
	CodeOutOfStock             apperr.Code = "OUT_OF_STOCK"
	CodeAlreadyReserved        apperr.Code = "ALREADY_RESERVED"
	CodeInvalidStateTransition             = apperr.InvalidStateTransition
)

// Domain errors, wrapped with a precise message; match with errors.Is.
var (
	// ErrInvalidInput (BAD_USER_INPUT): a malformed product or order id, a
	// quantity that is not positive or too large.
	ErrInvalidInput = apperr.New(apperr.BadUserInput, "invalid input")
	// ErrProductNotFound (NOT_FOUND): no such product in the caller's
	// organization's catalog.
	ErrProductNotFound = apperr.New(apperr.NotFound, "product not found")
	// ErrStockNotFound (NOT_FOUND): the product's stock is not in the read
	// model (yet).
	ErrStockNotFound = apperr.New(apperr.NotFound, "stock not found")
	// ErrOutOfStock (OUT_OF_STOCK): fewer units are available than a
	// reservation asks for. Nothing is reserved.
	ErrOutOfStock = apperr.New(CodeOutOfStock, "out of stock")
	// ErrAlreadyReserved (ALREADY_RESERVED): the order already holds (or
	// held) a reservation of this product. Nothing changes; a process
	// manager that sees it after a retry can take the reservation as made.
	ErrAlreadyReserved = apperr.New(CodeAlreadyReserved, "stock already reserved for this order")
	// ErrReservationNotFound (NOT_FOUND): the order holds no reservation
	// of this product.
	ErrReservationNotFound = apperr.New(apperr.NotFound, "reservation not found")
	// ErrInvalidStateTransition (INVALID_STATE_TRANSITION): committing or
	// releasing a reservation that is already committed or released.
	ErrInvalidStateTransition = apperr.New(CodeInvalidStateTransition, "invalid state transition")
)

// Limits on quantities, in units.
const (
	// MaxQuantity is the most one command may restock or reserve.
	MaxQuantity = 1_000_000
	// MaxOnHand is the most units a product may have on hand.
	MaxOnHand = 1_000_000_000
)

// ReservationStatus is where a reservation is in its life:
// HELD -> COMMITTED | RELEASED.
type ReservationStatus string

// Reservation statuses.
const (
	StatusHeld      ReservationStatus = "HELD"
	StatusCommitted ReservationStatus = "COMMITTED"
	StatusReleased  ReservationStatus = "RELEASED"
)

// Reservation is one order's reservation of a product.
type Reservation struct {
	Quantity int64
	Status   ReservationStatus
}

// Stock is the state of one product's stock stream. The zero value
// (Organization "") is a stock that does not exist yet: nothing on hand.
type Stock struct {
	ProductID    string
	Organization string
	// OnHand is the units in the warehouse, reserved ones included.
	OnHand int64
	// Reserved is the sum of the HELD reservations' quantities.
	Reserved int64
	// Reservations are by order id, in every status. Decide must not
	// modify it: Evolve owns it.
	Reservations map[string]Reservation
}

// Available is what can still be reserved: OnHand - Reserved, never
// negative.
func (s Stock) Available() int64 { return s.OnHand - s.Reserved }

// Type describes the "stock" aggregate to the repository.
var Type = aggregate.Type[Stock]{
	StreamType: "stock",
	Initial:    func() Stock { return Stock{} },
	Evolve:     Evolve,
	Events:     events,
	// Its reservations grow with every order: a snapshot bounds the load.
	// The state's JSON shape is Stock's exported fields: bump
	// SchemaVersion when they change.
	Snapshots: &aggregate.Snapshots{SchemaVersion: 1},
}

// Evolve folds one event into the state. It never fails and re-checks
// nothing: events are facts.
func Evolve(s Stock, event aggregate.Event) Stock {
	switch e := event.(type) {
	case StockRestocked:
		s.ProductID, s.Organization = e.ProductID, e.Organization
		s.OnHand += e.Quantity
	case StockReserved:
		s.ProductID, s.Organization = e.ProductID, e.Organization
		s.Reserved += e.Quantity
		s.setReservation(e.OrderID, Reservation{Quantity: e.Quantity, Status: StatusHeld})
	case ReservationCommitted:
		s.OnHand -= e.Quantity
		s.Reserved -= e.Quantity
		s.setReservation(e.OrderID, Reservation{Quantity: e.Quantity, Status: StatusCommitted})
	case ReservationReleased:
		s.Reserved -= e.Quantity
		s.setReservation(e.OrderID, Reservation{Quantity: e.Quantity, Status: StatusReleased})
	}
	return s
}

func (s *Stock) setReservation(orderID string, r Reservation) {
	if s.Reservations == nil {
		s.Reservations = map[string]Reservation{}
	}
	s.Reservations[orderID] = r
}

// ParseProductID validates a product id (a UUID, not the nil one).
// Errors: ErrInvalidInput.
func ParseProductID(s string) (uuid.UUID, error) {
	return command.ParseUUID(s, "product", ErrInvalidInput)
}

// StreamID is the id of organization's stock stream of productID.
func StreamID(organization string, productID uuid.UUID) uuid.UUID {
	return command.KeyedID(contextName, organization, productID.String())
}

// contextName names the stock context (its module, its metrics, and the
// derivation of its stream ids).
const contextName = "stock"
