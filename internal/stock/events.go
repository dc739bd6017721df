package stock

import "github.com/chronicle-es/chronicle/internal/aggregate"

// Stored event type names: part of the stored contract, never change them.
const (
	EventStockRestocked       = "StockRestocked"
	EventStockReserved        = "StockReserved"
	EventReservationCommitted = "ReservationCommitted"
	EventReservationReleased  = "ReservationReleased"
)

// StockRestocked records units added to the stock. Stored as {"productId",
// "organization","quantity","restockedBy"}; Quantity is positive.
type StockRestocked struct {
	ProductID    string `json:"productId"`
	Organization string `json:"organization"`
	Quantity     int64  `json:"quantity"`
	RestockedBy  string `json:"restockedBy"`
}

// EventType returns "StockRestocked".
func (StockRestocked) EventType() string { return EventStockRestocked }

// StockReserved records units held for an order. Stored as {"productId",
// "organization","orderId","quantity","reservedBy"}; Quantity is positive
// and was at most what was available.
type StockReserved struct {
	ProductID    string `json:"productId"`
	Organization string `json:"organization"`
	OrderID      string `json:"orderId"`
	Quantity     int64  `json:"quantity"`
	ReservedBy   string `json:"reservedBy"`
}

// EventType returns "StockReserved".
func (StockReserved) EventType() string { return EventStockReserved }

// ReservationCommitted records that an order's reserved units left the
// stock (the order was paid): on hand and reserved both drop by Quantity.
// Stored as {"productId","orderId","quantity","committedBy"}.
type ReservationCommitted struct {
	ProductID   string `json:"productId"`
	OrderID     string `json:"orderId"`
	Quantity    int64  `json:"quantity"`
	CommittedBy string `json:"committedBy"`
}

// EventType returns "ReservationCommitted".
func (ReservationCommitted) EventType() string { return EventReservationCommitted }

// ReservationReleased records that an order's reserved units are available
// again. Stored as {"productId","orderId","quantity","reason","releasedBy"}.
type ReservationReleased struct {
	ProductID  string `json:"productId"`
	OrderID    string `json:"orderId"`
	Quantity   int64  `json:"quantity"`
	Reason     string `json:"reason"`
	ReleasedBy string `json:"releasedBy"`
}

// EventType returns "ReservationReleased".
func (ReservationReleased) EventType() string { return EventReservationReleased }

// events declares the stock events and their current schema versions.
var events = func() *aggregate.Events {
	r := aggregate.NewEvents("stock")
	aggregate.Register[StockRestocked](r, 1)
	aggregate.Register[StockReserved](r, 1)
	aggregate.Register[ReservationCommitted](r, 1)
	aggregate.Register[ReservationReleased](r, 1)
	return r
}()
