package payment

import (
	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/datasubject"
)

// Stored event type names: part of the stored contract, never change them.
const (
	EventPaymentInitiated = "PaymentInitiated"
	EventPaymentProcessed = "PaymentProcessed"
	EventPaymentFailed    = "PaymentFailed"
	EventPaymentRefunded  = "PaymentRefunded"
)

// PaymentInitiated records a new payment. Stored as {"paymentId",
// "organization","customerName","customerEmail","amount","currency",
// "initiatedBy","orderId"}; Amount is a positive int64 count of minor units.
// OrderID (optional, added without a schema version: older events have
// none) is the order the payment pays for.
type PaymentInitiated struct {
	PaymentID     string `json:"paymentId"`
	Organization  string `json:"organization"`
	CustomerName  string `json:"customerName"`
	CustomerEmail string `json:"customerEmail"`
	Amount        int64  `json:"amount"`
	Currency      string `json:"currency"`
	// InitiatedBy is the subject of the caller's token.
	InitiatedBy string `json:"initiatedBy"`
	OrderID     string `json:"orderId,omitempty"`
}

// EventType returns "PaymentInitiated".
func (PaymentInitiated) EventType() string { return EventPaymentInitiated }

// PersonalData implements aggregate.Personal: the customer's name and
// e-mail belong to the customer's e-mail address as data subject.
func (e PaymentInitiated) PersonalData() (string, []string) {
	return datasubject.Email(e.CustomerEmail), []string{"customerName", "customerEmail"}
}

// PaymentProcessed records that the payment went through. Stored as
// {"paymentId","processedBy","orderId"}; OrderID (optional) repeats the
// initiation's, so that a process manager can route the event to its order.
type PaymentProcessed struct {
	PaymentID   string `json:"paymentId"`
	ProcessedBy string `json:"processedBy"`
	OrderID     string `json:"orderId,omitempty"`
}

// EventType returns "PaymentProcessed".
func (PaymentProcessed) EventType() string { return EventPaymentProcessed }

// PaymentFailed records that the payment failed. Stored as
// {"paymentId","reason","failedBy","orderId"}; OrderID (optional) repeats
// the initiation's.
type PaymentFailed struct {
	PaymentID string `json:"paymentId"`
	Reason    string `json:"reason"`
	FailedBy  string `json:"failedBy"`
	OrderID   string `json:"orderId,omitempty"`
}

// EventType returns "PaymentFailed".
func (PaymentFailed) EventType() string { return EventPaymentFailed }

// PaymentRefunded records one refund of a processed payment. Stored as
// {"paymentId","amount","reason","refundedBy"}; Amount is a positive count
// of minor units, at most what was left to refund.
type PaymentRefunded struct {
	PaymentID  string `json:"paymentId"`
	Amount     int64  `json:"amount"`
	Reason     string `json:"reason"`
	RefundedBy string `json:"refundedBy"`
}

// EventType returns "PaymentRefunded".
func (PaymentRefunded) EventType() string { return EventPaymentRefunded }

// events declares the payment events and their current schema versions:
// the repository stamps new events with them, and Type.Decode reads them
// (older versions through upcasters registered here).
var events = func() *aggregate.Events {
	r := aggregate.NewEvents("payment")
	aggregate.Register[PaymentInitiated](r, 1)
	aggregate.Register[PaymentProcessed](r, 1)
	aggregate.Register[PaymentFailed](r, 1)
	aggregate.Register[PaymentRefunded](r, 1)
	return r
}()
