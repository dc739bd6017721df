package account

import (
	"fmt"
	"math"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/input"
	"github.com/chronicle-es/chronicle/internal/money"
)

// Limits on free-text fields, in characters (Unicode code points).
const (
	// MaxOwnerLength is the longest accepted OpenAccount.Owner.
	MaxOwnerLength = 200
	// MaxDescriptionLength is the longest accepted credit or debit
	// description.
	MaxDescriptionLength = 500
	// MaxReferenceLength is the longest accepted credit or debit reference.
	MaxReferenceLength = 100
	// MaxCounterpartyAccountLength is the longest accepted counterparty
	// account (an IBAN has at most 34 characters).
	MaxCounterpartyAccountLength = 64
)

// Command names, stored with idempotency keys.
const (
	cmdOpen   = "OpenAccount"
	cmdCredit = "CreditAccount"
	cmdDebit  = "DebitAccount"
	cmdClose  = "CloseAccount"
)

var (
	_ command.Command[Account] = OpenAccount{}
	_ command.Creator          = OpenAccount{}
	_ command.Command[Account] = CreditAccount{}
	_ command.Command[Account] = DebitAccount{}
	_ command.Command[Account] = CloseAccount{}
)

// OpenAccount opens a new account, under an id the handler picks. Owner is
// a name, Currency an ISO 4217 code ("EUR"), InitialBalance a decimal string
// in that currency ("12.50"; "" means zero). The account belongs to the
// caller's organization.
type OpenAccount struct {
	// Owner is the owner's name, 1..200 characters after trimming.
	Owner string
	// OwnerEmail, optional, is the owner's e-mail address: the data subject
	// that eraseDataSubject(email) erases the account's owner data with.
	OwnerEmail string
	// Currency is an upper-case ISO 4217 code, e.g. "EUR".
	Currency string
	// InitialBalance is a decimal amount >= 0 in Currency; "" means 0.
	InitialBalance string
}

// Name implements command.Command.
func (OpenAccount) Name() string { return cmdOpen }

// Target implements command.Command: a new account's id is picked by the
// handler.
func (OpenAccount) Target() string { return "" }

// Creates implements command.Creator.
func (OpenAccount) Creates() {}

// Decide returns a single AccountOpened with the account's id, the trimmed
// owner and the initial balance in minor units. Errors:
//   - ErrAccountExists (CONFLICT) if the account is already opened;
//   - ErrInvalidInput (BAD_USER_INPUT) for an owner that is empty after
//     trimming, longer than 200 characters or not valid text, an owner
//     e-mail that is not an address, or a negative initial balance;
//   - money.ErrUnknownCurrency (BAD_USER_INPUT) for a currency that is not an
//     upper-case active ISO 4217 code;
//   - money.ErrMalformedAmount (BAD_USER_INPUT) for an initial balance that is
//     not a valid amount in the currency (e.g. "1.5" in JPY).
func (c OpenAccount) Decide(a Account, env command.Env) ([]aggregate.Event, error) {
	if a.Opened {
		return nil, fmt.Errorf("%w: %s", ErrAccountExists, a.ID)
	}
	owner, err := input.Field(ErrInvalidInput, input.Text, "owner", c.Owner, MaxOwnerLength)
	if err != nil {
		return nil, err
	}
	var email string
	if c.OwnerEmail != "" {
		if email, err = input.Email(ErrInvalidInput, "ownerEmail", c.OwnerEmail); err != nil {
			return nil, err
		}
	}
	cur, err := money.LookupCurrency(c.Currency)
	if err != nil {
		return nil, err
	}
	var initial int64
	if c.InitialBalance != "" {
		initial, err = money.ParseAmount(c.InitialBalance, cur)
		if err != nil {
			return nil, err
		}
		if initial < 0 {
			return nil, fmt.Errorf("%w: initial balance must not be negative, got %s",
				ErrInvalidInput, money.Format(initial, cur))
		}
	}
	if env.Organization == "" {
		return nil, fmt.Errorf("%w: an account must belong to an organization", ErrInvalidInput)
	}
	return []aggregate.Event{AccountOpened{
		AccountID:      env.StreamID.String(),
		Organization:   env.Organization,
		Owner:          owner,
		OwnerEmail:     email,
		Currency:       cur.Code,
		InitialBalance: initial,
	}}, nil
}

// CreditAccount pays Amount, a decimal string in the account's currency
// ("12.50"), into account ID, with an optional Description.
type CreditAccount struct {
	// ID is the account's UUID.
	ID string
	// Amount is a positive decimal amount in the account's currency.
	Amount string
	// Description is optional free text, at most 500 characters after
	// trimming.
	Description string
	// Reference is the client's optional reference, at most 100 characters.
	Reference string
	// Counterparty is optional: a name (1..200 characters) and an optional
	// account (at most 64 characters).
	Counterparty *Counterparty
}

// Name implements command.Command.
func (CreditAccount) Name() string { return cmdCredit }

// Target implements command.Command.
func (c CreditAccount) Target() string { return c.ID }

// Decide returns a single AccountCredited with the amount in minor units.
// Errors:
//   - ErrAccountNotFound (NOT_FOUND) if the account was never opened, or
//     belongs to another organization;
//   - ErrAccountClosed (ACCOUNT_CLOSED) if it is closed;
//   - money.ErrMalformedAmount (BAD_USER_INPUT) if Amount is not a valid
//     amount in the account's currency;
//   - ErrInvalidInput (BAD_USER_INPUT) if Amount is zero or negative, if the
//     description is longer than 500 characters or not valid text (control
//     characters included), or if the new balance would exceed the int64
//     range.
func (c CreditAccount) Decide(a Account, env command.Env) ([]aggregate.Event, error) {
	m, err := validateMovement(a, env, c.Amount, c.Description, c.Reference, c.Counterparty)
	if err != nil {
		return nil, err
	}
	if m.amount > math.MaxInt64-a.Balance {
		return nil, fmt.Errorf("%w: credit of %s would overflow the balance of %s",
			ErrInvalidInput, money.Format(m.amount, a.Currency), money.Format(a.Balance, a.Currency))
	}
	return []aggregate.Event{AccountCredited{AccountID: a.ID, Amount: m.amount, Description: m.description,
		Reference: m.reference, Counterparty: m.counterparty}}, nil
}

// DebitAccount takes Amount, a decimal string in the account's currency
// ("12.50"), out of account ID, with an optional Description.
type DebitAccount struct {
	// ID is the account's UUID.
	ID string
	// Amount is a positive decimal amount in the account's currency.
	Amount string
	// Description is optional free text, at most 500 characters after
	// trimming.
	Description string
	// Reference is the client's optional reference, at most 100 characters.
	Reference string
	// Counterparty is optional: a name (1..200 characters) and an optional
	// account (at most 64 characters).
	Counterparty *Counterparty
}

// Name implements command.Command.
func (DebitAccount) Name() string { return cmdDebit }

// Target implements command.Command.
func (c DebitAccount) Target() string { return c.ID }

// Decide returns a single AccountDebited with the amount in minor units. The
// balance may reach zero but never go below. Errors: as for CreditAccount
// (except overflow), plus ErrInsufficientFunds (INSUFFICIENT_FUNDS) if the
// amount exceeds the balance, with a message such as
// "insufficient funds: balance 10.00 EUR, debit 10.01 EUR".
func (c DebitAccount) Decide(a Account, env command.Env) ([]aggregate.Event, error) {
	m, err := validateMovement(a, env, c.Amount, c.Description, c.Reference, c.Counterparty)
	if err != nil {
		return nil, err
	}
	if m.amount > a.Balance {
		return nil, fmt.Errorf("%w: balance %s, debit %s",
			ErrInsufficientFunds, money.Format(a.Balance, a.Currency), money.Format(m.amount, a.Currency))
	}
	return []aggregate.Event{AccountDebited{AccountID: a.ID, Amount: m.amount, Description: m.description,
		Reference: m.reference, Counterparty: m.counterparty}}, nil
}

// CloseAccount closes account ID, whose balance must be zero.
type CloseAccount struct {
	// ID is the account's UUID.
	ID string
}

// Name implements command.Command.
func (CloseAccount) Name() string { return cmdClose }

// Target implements command.Command.
func (c CloseAccount) Target() string { return c.ID }

// Decide returns a single AccountClosed. Errors:
//   - ErrAccountNotFound (NOT_FOUND) if the account was never opened, or
//     belongs to another organization;
//   - ErrAccountClosed (ACCOUNT_CLOSED) if it is already closed;
//   - ErrNonZeroBalance (NON_ZERO_BALANCE) if the balance is not zero.
func (c CloseAccount) Decide(a Account, env command.Env) ([]aggregate.Event, error) {
	if err := checkOpen(a, env); err != nil {
		return nil, err
	}
	if a.Balance != 0 {
		return nil, fmt.Errorf("%w: balance is %s; debit it to zero first",
			ErrNonZeroBalance, money.Format(a.Balance, a.Currency))
	}
	return []aggregate.Event{AccountClosed{AccountID: a.ID}}, nil
}

// checkOpen reports ErrAccountNotFound or ErrAccountClosed. An account of
// another organization is not found: a tenant cannot tell it from one that
// does not exist.
func checkOpen(a Account, env command.Env) error {
	if !a.Opened || a.Organization != env.Organization {
		return fmt.Errorf("%w: %s", ErrAccountNotFound, env.StreamID)
	}
	if a.Status == StatusClosed {
		return fmt.Errorf("%w: %s", ErrAccountClosed, a.ID)
	}
	return nil
}

// movement is a credit or debit as validated: the amount in minor units
// and the trimmed texts.
type movement struct {
	amount       int64
	description  string
	reference    string
	counterparty *Counterparty
}

// validateMovement holds the checks shared by credits and debits: the account
// is open, the amount is a positive amount in its currency, the texts are
// acceptable (the shared free-text rule).
func validateMovement(a Account, env command.Env, amountText, description, reference string, cp *Counterparty) (movement, error) {
	if err := checkOpen(a, env); err != nil {
		return movement{}, err
	}
	var (
		m   movement
		err error
	)
	if m.amount, err = money.ParsePositive(amountText, a.Currency, ErrInvalidInput); err != nil {
		return movement{}, err
	}
	if m.description, err = input.Field(ErrInvalidInput, input.OptionalText, "description", description, MaxDescriptionLength); err != nil {
		return movement{}, err
	}
	if m.reference, err = input.Field(ErrInvalidInput, input.OptionalText, "reference", reference, MaxReferenceLength); err != nil {
		return movement{}, err
	}
	if cp != nil {
		m.counterparty = &Counterparty{}
		if m.counterparty.Name, err = input.Field(ErrInvalidInput, input.Text, "counterparty.name", cp.Name, MaxOwnerLength); err != nil {
			return movement{}, err
		}
		if m.counterparty.Account, err = input.Field(ErrInvalidInput, input.OptionalText, "counterparty.account", cp.Account, MaxCounterpartyAccountLength); err != nil {
			return movement{}, err
		}
	}
	return m, nil
}
