// Package payment is the payments bounded context: payments that belong to
// an organization, their lifecycle, and the read models a live dashboard
// needs (one row per payment, and hourly statistics for analytics).
//
// The lifecycle is a small state machine; every other transition fails with
// ErrInvalidStateTransition (INVALID_STATE_TRANSITION) and appends nothing:
//
//	INITIATED --process--> PROCESSED --refund--> PARTIALLY_REFUNDED --refund--> REFUNDED
//	    |                      \__________________refund (all that is left)_____/^
//	    +------fail-----> FAILED
//
// Like package account, the domain is pure: commands decide events from the
// folded Payment state. Who did what (initiated by, processed by, ...) comes
// from the caller's identity, which the command handler gives Decide; a
// payment of another organization is not found.
package payment

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
// Malformed amounts and currencies are money.ErrMalformedAmount and
// money.ErrUnknownCurrency (BAD_USER_INPUT).
var (
	// ErrInvalidInput (BAD_USER_INPUT): a malformed id, name, e-mail
	// address, reason, or an amount out of range.
	ErrInvalidInput = apperr.New(apperr.BadUserInput, "invalid input")
	// ErrPaymentNotFound (NOT_FOUND): no such payment in the caller's
	// organization.
	ErrPaymentNotFound = apperr.New(apperr.NotFound, "payment not found")
	// ErrPaymentExists (CONFLICT): initiating a payment id already in use.
	ErrPaymentExists = apperr.New(apperr.Conflict, "payment already exists")
	// ErrInvalidStateTransition (INVALID_STATE_TRANSITION): the command is
	// not allowed in the payment's current status, e.g. refunding a payment
	// that was never processed.
	ErrInvalidStateTransition = apperr.New(CodeInvalidStateTransition, "invalid state transition")
)

// Status is where a payment is in its lifecycle.
type Status string

// Payment statuses, in the order of AllStatuses.
const (
	StatusInitiated         Status = "INITIATED"
	StatusProcessed         Status = "PROCESSED"
	StatusFailed            Status = "FAILED"
	StatusPartiallyRefunded Status = "PARTIALLY_REFUNDED"
	StatusRefunded          Status = "REFUNDED"
)

// AllStatuses lists every status, in lifecycle order (analytics report a
// count for each, zeros included).
var AllStatuses = []Status{StatusInitiated, StatusProcessed, StatusFailed, StatusPartiallyRefunded, StatusRefunded}

// Valid reports whether s is one of AllStatuses.
func (s Status) Valid() bool {
	for _, v := range AllStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// Processed reports whether a payment in status s has been processed (and
// so counts in the processed totals), refunded or not.
func (s Status) Processed() bool {
	return s == StatusProcessed || s == StatusPartiallyRefunded || s == StatusRefunded
}

// Payment is the state of one payment stream. The zero value (Status "") is
// a payment that does not exist yet. Amounts are in minor units of Currency.
type Payment struct {
	ID           string
	Organization string
	Currency     money.Currency
	Amount       int64
	// Refunded is the sum of the refunds so far, 0..Amount.
	Refunded int64
	Status   Status
	// OrderID is the order the payment pays for ("" for none).
	OrderID string
}

// Refundable is what may still be refunded, in minor units.
func (p Payment) Refundable() int64 { return p.Amount - p.Refunded }

// Type describes the "payment" aggregate to the repository.
var Type = aggregate.Type[Payment]{
	StreamType: "payment",
	Initial:    func() Payment { return Payment{} },
	Evolve:     Evolve,
	Events:     events,
	// The state's JSON shape is Payment's exported fields: bump SchemaVersion
	// when they change, and older snapshots are ignored.
	// Version 2: the state gained OrderID.
	Snapshots: &aggregate.Snapshots{SchemaVersion: 2},
}

// Evolve folds one event into the state. It never fails and re-checks
// nothing: events are facts. A refund that leaves nothing to refund makes
// the payment REFUNDED, any other PARTIALLY_REFUNDED.
func Evolve(p Payment, event aggregate.Event) Payment {
	switch e := event.(type) {
	case PaymentInitiated:
		cur := money.StoredCurrency(e.Currency)
		p = Payment{ID: e.PaymentID, Organization: e.Organization, Currency: cur, Amount: e.Amount, Status: StatusInitiated, OrderID: e.OrderID}
	case PaymentProcessed:
		p.Status = StatusProcessed
	case PaymentFailed:
		p.Status = StatusFailed
	case PaymentRefunded:
		p.Refunded += e.Amount
		p.Status = statusAfterRefund(p.Refunded, p.Amount)
	}
	return p
}

// statusAfterRefund is the status of a payment of amount once refunded has
// been refunded: REFUNDED when nothing is left, else PARTIALLY_REFUNDED.
func statusAfterRefund(refunded, amount int64) Status {
	if refunded >= amount {
		return StatusRefunded
	}
	return StatusPartiallyRefunded
}

// ParseID validates a payment id (a UUID, not the nil one).
// Errors: ErrInvalidInput.
func ParseID(s string) (uuid.UUID, error) {
	return command.ParseUUID(s, "payment", ErrInvalidInput)
}
