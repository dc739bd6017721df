package order

import (
	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/datasubject"
)

// Stored event type names: part of the stored contract, never change them.
const (
	EventOrderPlaced          = "OrderPlaced"
	EventOrderStockReserved   = "OrderStockReserved"
	EventOrderAwaitingPayment = "OrderAwaitingPayment"
	EventOrderPaid            = "OrderPaid"
	EventOrderShipped         = "OrderShipped"
	EventOrderRejected        = "OrderRejected"
	EventOrderCancelled       = "OrderCancelled"
)

// OrderPlaced records a new order with the catalog's prices of the moment.
// Stored as {"orderId","organization","customerName","customerEmail",
// "lines":[{"productId","quantity","unitPrice"}],"currency","total",
// "placedBy"}; Total is the sum of quantity × unitPrice, in minor units.
type OrderPlaced struct {
	OrderID       string `json:"orderId"`
	Organization  string `json:"organization"`
	CustomerName  string `json:"customerName"`
	CustomerEmail string `json:"customerEmail"`
	Lines         []Line `json:"lines"`
	Currency      string `json:"currency"`
	Total         int64  `json:"total"`
	PlacedBy      string `json:"placedBy"`
}

// EventType returns "OrderPlaced".
func (OrderPlaced) EventType() string { return EventOrderPlaced }

// PersonalData implements aggregate.Personal: the customer's name and
// e-mail belong to the customer's e-mail address as data subject.
func (e OrderPlaced) PersonalData() (string, []string) {
	return datasubject.Email(e.CustomerEmail), []string{"customerName", "customerEmail"}
}

// OrderStockReserved records that every line's stock is held. Stored as
// {"orderId"}.
type OrderStockReserved struct {
	OrderID string `json:"orderId"`
}

// EventType returns "OrderStockReserved".
func (OrderStockReserved) EventType() string { return EventOrderStockReserved }

// OrderAwaitingPayment records the payment initiated for the order. Stored
// as {"orderId","paymentId"}.
type OrderAwaitingPayment struct {
	OrderID   string `json:"orderId"`
	PaymentID string `json:"paymentId"`
}

// EventType returns "OrderAwaitingPayment".
func (OrderAwaitingPayment) EventType() string { return EventOrderAwaitingPayment }

// OrderPaid records that the order's payment was processed. Stored as
// {"orderId","paymentId"}.
type OrderPaid struct {
	OrderID   string `json:"orderId"`
	PaymentID string `json:"paymentId"`
}

// EventType returns "OrderPaid".
func (OrderPaid) EventType() string { return EventOrderPaid }

// OrderShipped records that a paid order left. Stored as
// {"orderId","shippedBy"}.
type OrderShipped struct {
	OrderID   string `json:"orderId"`
	ShippedBy string `json:"shippedBy"`
}

// EventType returns "OrderShipped".
func (OrderShipped) EventType() string { return EventOrderShipped }

// OrderRejected records that the order cannot be fulfilled. Stored as
// {"orderId","reason"}; Reason is OUT_OF_STOCK.
type OrderRejected struct {
	OrderID string `json:"orderId"`
	Reason  string `json:"reason"`
}

// EventType returns "OrderRejected".
func (OrderRejected) EventType() string { return EventOrderRejected }

// OrderCancelled records that the order was cancelled before it was paid.
// Stored as {"orderId","reason","note","cancelledBy"}; Reason is
// PAYMENT_FAILED, CUSTOMER or PAYMENT_TIMEOUT, Note the customer's words
// (optional).
type OrderCancelled struct {
	OrderID     string `json:"orderId"`
	Reason      string `json:"reason"`
	Note        string `json:"note,omitempty"`
	CancelledBy string `json:"cancelledBy"`
}

// EventType returns "OrderCancelled".
func (OrderCancelled) EventType() string { return EventOrderCancelled }

// events declares the order events and their current schema versions.
var events = func() *aggregate.Events {
	r := aggregate.NewEvents("order")
	aggregate.Register[OrderPlaced](r, 1)
	aggregate.Register[OrderStockReserved](r, 1)
	aggregate.Register[OrderAwaitingPayment](r, 1)
	aggregate.Register[OrderPaid](r, 1)
	aggregate.Register[OrderShipped](r, 1)
	aggregate.Register[OrderRejected](r, 1)
	aggregate.Register[OrderCancelled](r, 1)
	return r
}()
