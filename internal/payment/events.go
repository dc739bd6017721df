package payment

import (
	"fmt"

	"github.com/chronicle-es/chronicle/internal/aggregate"
)

// Stored event type names: part of the stored contract, never change them.
const (
	EventPaymentInitiated = "PaymentInitiated"
	EventPaymentProcessed = "PaymentProcessed"
	EventPaymentFailed    = "PaymentFailed"
	EventPaymentRefunded  = "PaymentRefunded"
)

// SchemaVersion is the schema version of the JSON shapes below.
const SchemaVersion = 1

// PaymentInitiated records a new payment. Stored as {"paymentId",
// "organization","customerName","customerEmail","amount","currency",
// "initiatedBy"}; Amount is a positive int64 count of minor units.
type PaymentInitiated struct {
	PaymentID     string `json:"paymentId"`
	Organization  string `json:"organization"`
	CustomerName  string `json:"customerName"`
	CustomerEmail string `json:"customerEmail"`
	Amount        int64  `json:"amount"`
	Currency      string `json:"currency"`
	// InitiatedBy is the subject of the caller's token.
	InitiatedBy string `json:"initiatedBy"`
}

// EventType returns "PaymentInitiated".
func (PaymentInitiated) EventType() string { return EventPaymentInitiated }

// PaymentProcessed records that the payment went through. Stored as
// {"paymentId","processedBy"}.
type PaymentProcessed struct {
	PaymentID   string `json:"paymentId"`
	ProcessedBy string `json:"processedBy"`
}

// EventType returns "PaymentProcessed".
func (PaymentProcessed) EventType() string { return EventPaymentProcessed }

// PaymentFailed records that the payment failed. Stored as
// {"paymentId","reason","failedBy"}.
type PaymentFailed struct {
	PaymentID string `json:"paymentId"`
	Reason    string `json:"reason"`
	FailedBy  string `json:"failedBy"`
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

// Decode turns a stored payment event back into its Go value. Errors: an
// unknown type wraps aggregate.ErrUnknownEventType; another schema version
// or malformed JSON is an internal error.
func Decode(eventType string, schemaVersion int, data []byte) (aggregate.Event, error) {
	switch eventType {
	case EventPaymentInitiated:
		return decodeAs[PaymentInitiated](eventType, schemaVersion, data)
	case EventPaymentProcessed:
		return decodeAs[PaymentProcessed](eventType, schemaVersion, data)
	case EventPaymentFailed:
		return decodeAs[PaymentFailed](eventType, schemaVersion, data)
	case EventPaymentRefunded:
		return decodeAs[PaymentRefunded](eventType, schemaVersion, data)
	default:
		return nil, fmt.Errorf("payment: event type %q: %w", eventType, aggregate.ErrUnknownEventType)
	}
}

func decodeAs[E aggregate.Event](eventType string, schemaVersion int, data []byte) (aggregate.Event, error) {
	return aggregate.DecodeJSON[E]("payment", eventType, schemaVersion, SchemaVersion, data)
}
