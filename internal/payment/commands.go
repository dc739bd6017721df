package payment

import (
	"fmt"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/input"
	"github.com/chronicle-es/chronicle/internal/money"
)

// Limits on free-text fields, in characters (code points) after trimming.
const (
	MaxCustomerNameLength = 200
	// MaxEmailLength is RFC 5321's limit on a forward path (254 octets).
	MaxEmailLength  = 254
	MaxReasonLength = 500
)

// Command names, stored with idempotency keys.
const (
	cmdInitiate = "InitiatePayment"
	cmdProcess  = "ProcessPayment"
	cmdFail     = "FailPayment"
	cmdRefund   = "RefundPayment"
)

var (
	_ command.Command[Payment] = InitiatePayment{}
	_ command.Creator          = InitiatePayment{}
	_ command.Command[Payment] = ProcessPayment{}
	_ command.Command[Payment] = FailPayment{}
	_ command.Command[Payment] = RefundPayment{}
)

// InitiatePayment starts a payment of Amount ("12.50") in Currency ("EUR")
// from a customer, under an id the handler picks; OrderID (optional, a
// UUID) is the order it pays for.
type InitiatePayment struct {
	CustomerName  string
	CustomerEmail string
	Amount        string
	Currency      string
	OrderID       string
}

// Name implements command.Command.
func (InitiatePayment) Name() string { return cmdInitiate }

// Target implements command.Command: the handler picks a new payment's id.
func (InitiatePayment) Target() string { return "" }

// Creates implements command.Creator.
func (InitiatePayment) Creates() {}

// Decide returns one PaymentInitiated. Errors: ErrPaymentExists (CONFLICT)
// when the id is taken; ErrInvalidInput for a name that is empty or longer
// than 200 characters, an e-mail address that is not a plain addr-spec
// ("ada@example.com") of at most 254 characters, or an amount that is not
// positive; money.ErrUnknownCurrency and money.ErrMalformedAmount
// (BAD_USER_INPUT).
func (c InitiatePayment) Decide(p Payment, env command.Env) ([]aggregate.Event, error) {
	if p.Status != "" {
		return nil, fmt.Errorf("%w: %s", ErrPaymentExists, p.ID)
	}
	if env.Organization == "" {
		return nil, fmt.Errorf("%w: a payment must belong to an organization", ErrInvalidInput)
	}
	name, err := input.Field(ErrInvalidInput, input.Text, "customerName", c.CustomerName, MaxCustomerNameLength)
	if err != nil {
		return nil, err
	}
	email, err := validateEmail(c.CustomerEmail)
	if err != nil {
		return nil, err
	}
	cur, err := money.LookupCurrency(c.Currency)
	if err != nil {
		return nil, err
	}
	amount, err := money.ParsePositive(c.Amount, cur, ErrInvalidInput)
	if err != nil {
		return nil, err
	}
	orderID := ""
	if c.OrderID != "" {
		id, err := command.ParseUUID(c.OrderID, "order", ErrInvalidInput)
		if err != nil {
			return nil, err
		}
		orderID = id.String()
	}
	return []aggregate.Event{PaymentInitiated{
		PaymentID: env.StreamID.String(), Organization: env.Organization, CustomerName: name, CustomerEmail: email,
		Amount: amount, Currency: cur.Code, InitiatedBy: env.Actor, OrderID: orderID,
	}}, nil
}

// ProcessPayment marks INITIATED payment ID PROCESSED.
type ProcessPayment struct {
	ID string
}

// Name implements command.Command.
func (ProcessPayment) Name() string { return cmdProcess }

// Target implements command.Command.
func (c ProcessPayment) Target() string { return c.ID }

// Decide returns one PaymentProcessed. Errors: ErrPaymentNotFound;
// ErrInvalidStateTransition unless the payment is INITIATED.
func (c ProcessPayment) Decide(p Payment, env command.Env) ([]aggregate.Event, error) {
	if err := transition(p, env, "process", StatusInitiated); err != nil {
		return nil, err
	}
	return []aggregate.Event{PaymentProcessed{PaymentID: p.ID, ProcessedBy: env.Actor, OrderID: p.OrderID}}, nil
}

// FailPayment marks INITIATED payment ID FAILED, for Reason.
type FailPayment struct {
	ID     string
	Reason string
}

// Name implements command.Command.
func (FailPayment) Name() string { return cmdFail }

// Target implements command.Command.
func (c FailPayment) Target() string { return c.ID }

// Decide returns one PaymentFailed. Errors: ErrPaymentNotFound;
// ErrInvalidStateTransition unless the payment is INITIATED; ErrInvalidInput
// for a reason that is empty or longer than 500 characters.
func (c FailPayment) Decide(p Payment, env command.Env) ([]aggregate.Event, error) {
	if err := transition(p, env, "fail", StatusInitiated); err != nil {
		return nil, err
	}
	reason, err := input.Field(ErrInvalidInput, input.Text, "reason", c.Reason, MaxReasonLength)
	if err != nil {
		return nil, err
	}
	return []aggregate.Event{PaymentFailed{PaymentID: p.ID, Reason: reason, FailedBy: env.Actor, OrderID: p.OrderID}}, nil
}

// RefundPayment refunds Amount ("5.00"; "" means all that is left) of
// PROCESSED or PARTIALLY_REFUNDED payment ID, for Reason.
type RefundPayment struct {
	ID     string
	Reason string
	Amount string
}

// Name implements command.Command.
func (RefundPayment) Name() string { return cmdRefund }

// Target implements command.Command.
func (c RefundPayment) Target() string { return c.ID }

// Decide returns one PaymentRefunded; the payment becomes REFUNDED when
// nothing is left to refund, else PARTIALLY_REFUNDED. Errors:
// ErrPaymentNotFound; ErrInvalidStateTransition unless the payment is
// PROCESSED or PARTIALLY_REFUNDED; ErrInvalidInput for an empty or too long
// reason, an amount that is not positive or more than what is left
// ("refund of 80.00 EUR exceeds the 50.00 EUR left to refund");
// money.ErrMalformedAmount.
func (c RefundPayment) Decide(p Payment, env command.Env) ([]aggregate.Event, error) {
	if err := transition(p, env, "refund", StatusProcessed, StatusPartiallyRefunded); err != nil {
		return nil, err
	}
	reason, err := input.Field(ErrInvalidInput, input.Text, "reason", c.Reason, MaxReasonLength)
	if err != nil {
		return nil, err
	}
	amount := p.Refundable()
	if c.Amount != "" {
		if amount, err = money.ParsePositive(c.Amount, p.Currency, ErrInvalidInput); err != nil {
			return nil, err
		}
		if amount > p.Refundable() {
			return nil, fmt.Errorf("%w: refund of %s exceeds the %s left to refund",
				ErrInvalidInput, money.Format(amount, p.Currency), money.Format(p.Refundable(), p.Currency))
		}
	}
	return []aggregate.Event{PaymentRefunded{PaymentID: p.ID, Amount: amount, Reason: reason, RefundedBy: env.Actor}}, nil
}

// transition checks that the payment exists in the caller's organization
// and is in one of the statuses from which action is allowed.
func transition(p Payment, env command.Env, action string, from ...Status) error {
	return command.InStatus(env, p.Status != "", p.Organization, p.Status, ErrPaymentNotFound, ErrInvalidStateTransition, "payment", action, from...)
}

// validateEmail is input.Email for customerEmail.
func validateEmail(s string) (string, error) {
	return input.Email(ErrInvalidInput, "customerEmail", s)
}
