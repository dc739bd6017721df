package payment

import (
	"fmt"
	"net/mail"
	"strings"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/apperr"
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

// Command is implemented by every payment command: a pure decision from the
// current state to new events (none on error) or a domain error.
type Command interface {
	Decide(p Payment) ([]aggregate.Event, error)
}

var (
	_ Command = InitiatePayment{}
	_ Command = ProcessPayment{}
	_ Command = FailPayment{}
	_ Command = RefundPayment{}
)

// Caller is who sends a command: the subject and organization of the
// caller's token (never client input).
type Caller struct {
	Actor        string
	Organization string
}

// InitiatePayment starts a payment of Amount ("12.50") in Currency ("EUR")
// from a customer.
type InitiatePayment struct {
	Caller
	// PaymentID is the new payment's UUID (the service generates one).
	PaymentID     string
	CustomerName  string
	CustomerEmail string
	Amount        string
	Currency      string
}

// Decide returns one PaymentInitiated. Errors: ErrPaymentExists (CONFLICT)
// when the id is taken; ErrInvalidInput for a malformed id, a name that is
// empty or longer than 200 characters, an e-mail address that is not a
// plain addr-spec ("ada@example.com") of at most 254 characters, or an
// amount that is not positive; money.ErrUnknownCurrency and
// money.ErrMalformedAmount (BAD_USER_INPUT).
func (c InitiatePayment) Decide(p Payment) ([]aggregate.Event, error) {
	if p.Status != "" {
		return nil, fmt.Errorf("%w: %s", ErrPaymentExists, p.ID)
	}
	id, err := ParseID(c.PaymentID)
	if err != nil {
		return nil, err
	}
	if c.Organization == "" {
		return nil, fmt.Errorf("%w: a payment must belong to an organization", ErrInvalidInput)
	}
	name, err := validateText("customerName", c.CustomerName, MaxCustomerNameLength)
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
	amount, err := positiveAmount(c.Amount, cur)
	if err != nil {
		return nil, err
	}
	return []aggregate.Event{PaymentInitiated{
		PaymentID: id, Organization: c.Organization, CustomerName: name, CustomerEmail: email,
		Amount: amount, Currency: cur.Code, InitiatedBy: c.Actor,
	}}, nil
}

// ProcessPayment marks an INITIATED payment PROCESSED.
type ProcessPayment struct {
	Caller
	PaymentID string
}

// Decide returns one PaymentProcessed. Errors: ErrPaymentNotFound;
// ErrInvalidStateTransition unless the payment is INITIATED.
func (c ProcessPayment) Decide(p Payment) ([]aggregate.Event, error) {
	if err := transition(p, c.Organization, c.PaymentID, "process", StatusInitiated); err != nil {
		return nil, err
	}
	return []aggregate.Event{PaymentProcessed{PaymentID: p.ID, ProcessedBy: c.Actor}}, nil
}

// FailPayment marks an INITIATED payment FAILED, for Reason.
type FailPayment struct {
	Caller
	PaymentID string
	Reason    string
}

// Decide returns one PaymentFailed. Errors: ErrPaymentNotFound;
// ErrInvalidStateTransition unless the payment is INITIATED; ErrInvalidInput
// for a reason that is empty or longer than 500 characters.
func (c FailPayment) Decide(p Payment) ([]aggregate.Event, error) {
	if err := transition(p, c.Organization, c.PaymentID, "fail", StatusInitiated); err != nil {
		return nil, err
	}
	reason, err := validateText("reason", c.Reason, MaxReasonLength)
	if err != nil {
		return nil, err
	}
	return []aggregate.Event{PaymentFailed{PaymentID: p.ID, Reason: reason, FailedBy: c.Actor}}, nil
}

// RefundPayment refunds Amount ("5.00"; "" means all that is left) of a
// PROCESSED or PARTIALLY_REFUNDED payment, for Reason.
type RefundPayment struct {
	Caller
	PaymentID string
	Reason    string
	Amount    string
}

// Decide returns one PaymentRefunded; the payment becomes REFUNDED when
// nothing is left to refund, else PARTIALLY_REFUNDED. Errors:
// ErrPaymentNotFound; ErrInvalidStateTransition unless the payment is
// PROCESSED or PARTIALLY_REFUNDED; ErrInvalidInput for an empty or too long
// reason, an amount that is not positive or more than what is left
// ("refund of 80.00 EUR exceeds the 50.00 EUR left to refund");
// money.ErrMalformedAmount.
func (c RefundPayment) Decide(p Payment) ([]aggregate.Event, error) {
	if err := transition(p, c.Organization, c.PaymentID, "refund", StatusProcessed, StatusPartiallyRefunded); err != nil {
		return nil, err
	}
	reason, err := validateText("reason", c.Reason, MaxReasonLength)
	if err != nil {
		return nil, err
	}
	amount := p.Refundable()
	if c.Amount != "" {
		if amount, err = positiveAmount(c.Amount, p.Currency); err != nil {
			return nil, err
		}
		if amount > p.Refundable() {
			return nil, fmt.Errorf("%w: refund of %s exceeds the %s left to refund",
				ErrInvalidInput, formatMoney(amount, p.Currency), formatMoney(p.Refundable(), p.Currency))
		}
	}
	return []aggregate.Event{PaymentRefunded{PaymentID: p.ID, Amount: amount, Reason: reason, RefundedBy: c.Actor}}, nil
}

// transition checks that the payment exists in organization and is in one
// of the statuses from which action is allowed.
func transition(p Payment, organization, requestedID, action string, from ...Status) error {
	if p.Status == "" || p.Organization != organization {
		return fmt.Errorf("%w: %s", ErrPaymentNotFound, apperr.Quote(requestedID))
	}
	for _, s := range from {
		if p.Status == s {
			return nil
		}
	}
	return fmt.Errorf("%w: cannot %s a %s payment", ErrInvalidStateTransition, action, p.Status)
}

// positiveAmount parses a decimal amount in cur and checks it is > 0.
func positiveAmount(s string, cur money.Currency) (int64, error) {
	amount, err := money.ParseAmount(s, cur)
	if err != nil {
		return 0, err
	}
	if amount <= 0 {
		return 0, fmt.Errorf("%w: amount must be positive, got %s", ErrInvalidInput, formatMoney(amount, cur))
	}
	return amount, nil
}

// validateText trims s and checks it is 1..maxLen characters of valid text
// without control characters (ErrInvalidInput otherwise).
func validateText(field, s string, maxLen int) (string, error) {
	t, err := input.Text(field, s, maxLen)
	if err != nil {
		return "", fmt.Errorf("%w: %s", ErrInvalidInput, input.Message(err))
	}
	return t, nil
}

// validateEmail accepts a bare RFC 5322 addr-spec with a domain that has a
// dot ("ada@example.com"), not a display-name form ("Ada <ada@x.org>"), of
// at most 254 characters. The domain is lower-cased; the local part is kept
// as given (it may be case-sensitive).
func validateEmail(s string) (string, error) {
	t := strings.TrimSpace(s)
	bad := func(why string) error {
		return fmt.Errorf("%w: customerEmail %s is not a valid e-mail address: %s", ErrInvalidInput, apperr.Quote(t), why)
	}
	if t == "" {
		return "", fmt.Errorf("%w: customerEmail is required", ErrInvalidInput)
	}
	if len(t) > MaxEmailLength {
		return "", bad(fmt.Sprintf("longer than %d characters", MaxEmailLength))
	}
	addr, err := mail.ParseAddress(t)
	if err != nil || addr.Name != "" || addr.Address != t {
		return "", bad("want a plain address such as ada@example.com")
	}
	at := strings.LastIndexByte(t, '@')
	domain := t[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.HasPrefix(domain, "[") {
		return "", bad("the domain needs a dot, e.g. example.com")
	}
	return t[:at+1] + strings.ToLower(domain), nil
}
