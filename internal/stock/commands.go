package stock

import (
	"fmt"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/input"
)

// MaxReasonLength limits a release's reason, in characters.
const MaxReasonLength = 500

// Command names, stored with idempotency keys.
const (
	cmdRestock = "RestockProduct"
	cmdReserve = "ReserveStock"
	cmdCommit  = "CommitReservation"
	cmdRelease = "ReleaseReservation"
)

var (
	_ command.Command[Stock] = RestockProduct{}
	_ command.Command[Stock] = ReserveStock{}
	_ command.Command[Stock] = CommitReservation{}
	_ command.Command[Stock] = ReleaseReservation{}
	_ command.Keyed          = RestockProduct{}
	_ command.Keyed          = ReserveStock{}
	_ command.Keyed          = CommitReservation{}
	_ command.Keyed          = ReleaseReservation{}
)

// productKey is the Key of every stock command: the product id in its
// canonical (lower-case) form. The stream is the caller's organization's
// stock of that product (StreamID).
func productKey(productID string) (string, error) {
	id, err := ParseProductID(productID)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// RestockProduct adds Quantity units (1..MaxQuantity) to the stock of
// catalog product ProductID.
type RestockProduct struct {
	ProductID string
	Quantity  int64
}

// Name implements command.Command.
func (RestockProduct) Name() string { return cmdRestock }

// Target implements command.Command (unused: the command is Keyed).
func (c RestockProduct) Target() string { return c.ProductID }

// Key implements command.Keyed: the product id.
func (c RestockProduct) Key() (string, error) { return productKey(c.ProductID) }

// Decide returns one StockRestocked. Errors: ErrInvalidInput for a
// quantity that is not 1..MaxQuantity or that would put more than
// MaxOnHand units on hand; ErrProductNotFound for another organization's
// stock.
func (c RestockProduct) Decide(s Stock, env command.Env) ([]aggregate.Event, error) {
	if err := ownStock(s, env); err != nil {
		return nil, err
	}
	if err := validQuantity(c.Quantity); err != nil {
		return nil, err
	}
	if s.OnHand+c.Quantity > MaxOnHand {
		return nil, fmt.Errorf("%w: restocking %d would put %d units on hand, at most %d are allowed",
			ErrInvalidInput, c.Quantity, s.OnHand+c.Quantity, MaxOnHand)
	}
	return []aggregate.Event{StockRestocked{
		ProductID: env.StreamKey, Organization: env.Organization, Quantity: c.Quantity, RestockedBy: env.Actor,
	}}, nil
}

// ReserveStock holds Quantity units (1..MaxQuantity) of product ProductID
// for order OrderID (a UUID), until CommitReservation or
// ReleaseReservation.
type ReserveStock struct {
	ProductID string
	OrderID   string
	Quantity  int64
}

// Name implements command.Command.
func (ReserveStock) Name() string { return cmdReserve }

// Target implements command.Command (unused: the command is Keyed).
func (c ReserveStock) Target() string { return c.ProductID }

// Key implements command.Keyed: the product id.
func (c ReserveStock) Key() (string, error) { return productKey(c.ProductID) }

// Decide returns one StockReserved. Errors: ErrInvalidInput for a
// malformed order id or a quantity that is not 1..MaxQuantity;
// ErrAlreadyReserved when the order already has (or had) a reservation of
// this product; ErrOutOfStock when fewer than Quantity units are
// available; ErrProductNotFound for another organization's stock.
func (c ReserveStock) Decide(s Stock, env command.Env) ([]aggregate.Event, error) {
	if err := ownStock(s, env); err != nil {
		return nil, err
	}
	orderID, err := parseOrderID(c.OrderID)
	if err != nil {
		return nil, err
	}
	if err := validQuantity(c.Quantity); err != nil {
		return nil, err
	}
	if r, ok := s.Reservations[orderID]; ok {
		return nil, fmt.Errorf("%w: order %s holds a %s reservation of %d units", ErrAlreadyReserved, orderID, r.Status, r.Quantity)
	}
	if s.Available() < c.Quantity {
		return nil, fmt.Errorf("%w: %d units asked, %d available", ErrOutOfStock, c.Quantity, s.Available())
	}
	return []aggregate.Event{StockReserved{
		ProductID: env.StreamKey, Organization: env.Organization, OrderID: orderID, Quantity: c.Quantity, ReservedBy: env.Actor,
	}}, nil
}

// CommitReservation takes order OrderID's held units of product ProductID
// out of the stock: the order is paid.
type CommitReservation struct {
	ProductID string
	OrderID   string
}

// Name implements command.Command.
func (CommitReservation) Name() string { return cmdCommit }

// Target implements command.Command (unused: the command is Keyed).
func (c CommitReservation) Target() string { return c.ProductID }

// Key implements command.Keyed: the product id.
func (c CommitReservation) Key() (string, error) { return productKey(c.ProductID) }

// Decide returns one ReservationCommitted. Errors: those of heldReservation.
func (c CommitReservation) Decide(s Stock, env command.Env) ([]aggregate.Event, error) {
	orderID, r, err := heldReservation(s, env, c.OrderID, "commit")
	if err != nil {
		return nil, err
	}
	return []aggregate.Event{ReservationCommitted{
		ProductID: s.ProductID, OrderID: orderID, Quantity: r.Quantity, CommittedBy: env.Actor,
	}}, nil
}

// ReleaseReservation makes order OrderID's held units of product ProductID
// available again, for Reason (optional, at most 500 characters).
type ReleaseReservation struct {
	ProductID string
	OrderID   string
	Reason    string
}

// Name implements command.Command.
func (ReleaseReservation) Name() string { return cmdRelease }

// Target implements command.Command (unused: the command is Keyed).
func (c ReleaseReservation) Target() string { return c.ProductID }

// Key implements command.Keyed: the product id.
func (c ReleaseReservation) Key() (string, error) { return productKey(c.ProductID) }

// Decide returns one ReservationReleased. Errors: those of
// heldReservation; ErrInvalidInput for a reason that is too long.
func (c ReleaseReservation) Decide(s Stock, env command.Env) ([]aggregate.Event, error) {
	orderID, r, err := heldReservation(s, env, c.OrderID, "release")
	if err != nil {
		return nil, err
	}
	reason, err := input.Field(ErrInvalidInput, input.OptionalText, "reason", c.Reason, MaxReasonLength)
	if err != nil {
		return nil, err
	}
	return []aggregate.Event{ReservationReleased{
		ProductID: s.ProductID, OrderID: orderID, Quantity: r.Quantity, Reason: reason, ReleasedBy: env.Actor,
	}}, nil
}

// heldReservation returns the order's reservation, which must be HELD.
// Errors: ErrInvalidInput for a malformed order id; ErrReservationNotFound
// when the order holds none (or the stock is another organization's);
// ErrInvalidStateTransition when it is already committed or released.
func heldReservation(s Stock, env command.Env, rawOrderID, action string) (string, Reservation, error) {
	orderID, err := parseOrderID(rawOrderID)
	if err != nil {
		return "", Reservation{}, err
	}
	r, ok := s.Reservations[orderID]
	if !ok || s.Organization != env.Organization {
		return "", Reservation{}, fmt.Errorf("%w: order %s holds no reservation of product %s", ErrReservationNotFound, orderID, env.StreamKey)
	}
	if r.Status != StatusHeld {
		return "", Reservation{}, fmt.Errorf("%w: cannot %s a %s reservation", ErrInvalidStateTransition, action, r.Status)
	}
	return orderID, r, nil
}

// ownStock refuses a stock stream of another organization (it cannot be
// reached by its derived id, but the rule holds on its own).
func ownStock(s Stock, env command.Env) error {
	if s.Organization != "" && s.Organization != env.Organization {
		return fmt.Errorf("%w: %s", ErrProductNotFound, env.StreamKey)
	}
	if env.Organization == "" {
		return fmt.Errorf("%w: stock must belong to an organization", ErrInvalidInput)
	}
	return nil
}

func validQuantity(q int64) error {
	if q < 1 || q > MaxQuantity {
		return fmt.Errorf("%w: quantity must be between 1 and %d, got %d", ErrInvalidInput, MaxQuantity, q)
	}
	return nil
}

func parseOrderID(s string) (string, error) {
	id, err := command.ParseUUID(s, "order", ErrInvalidInput)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}
