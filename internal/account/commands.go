package account

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/apperr"
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
)

// Command is implemented by every account command: a pure decision from the
// current state to new events (empty on error) or a domain error.
type Command interface {
	Decide(a Account) ([]aggregate.Event, error)
}

var (
	_ Command = OpenAccount{}
	_ Command = CreditAccount{}
	_ Command = DebitAccount{}
	_ Command = CloseAccount{}
)

// OpenAccount opens a new account. AccountID is a UUID (see ParseID), Owner a
// name, Currency an ISO 4217 code ("EUR"), InitialBalance a decimal string in
// that currency ("12.50"; "" means zero).
type OpenAccount struct {
	// AccountID is the new account's UUID, any letter case.
	AccountID string
	// Organization is the caller's organization (never client input); the
	// account belongs to it.
	Organization string
	// Owner is the owner's name, 1..200 characters after trimming.
	Owner string
	// Currency is an upper-case ISO 4217 code, e.g. "EUR".
	Currency string
	// InitialBalance is a decimal amount >= 0 in Currency; "" means 0.
	InitialBalance string
}

// Decide returns a single AccountOpened with the canonical id, the trimmed
// owner and the initial balance in minor units. Errors:
//   - ErrAccountExists (CONFLICT) if the account is already opened;
//   - ErrInvalidInput (BAD_USER_INPUT) for a malformed id, an owner that is
//     empty after trimming, longer than 200 characters or not valid text, or a
//     negative initial balance;
//   - money.ErrUnknownCurrency (BAD_USER_INPUT) for a currency that is not an
//     upper-case active ISO 4217 code;
//   - money.ErrMalformedAmount (BAD_USER_INPUT) for an initial balance that is
//     not a valid amount in the currency (e.g. "1.5" in JPY).
func (c OpenAccount) Decide(a Account) ([]aggregate.Event, error) {
	if a.Opened {
		return nil, fmt.Errorf("%w: %s", ErrAccountExists, a.ID)
	}
	id, err := ParseID(c.AccountID)
	if err != nil {
		return nil, err
	}
	owner, err := validateOwner(c.Owner)
	if err != nil {
		return nil, err
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
				ErrInvalidInput, formatMoney(initial, cur))
		}
	}
	if c.Organization == "" {
		return nil, fmt.Errorf("%w: an account must belong to an organization", ErrInvalidInput)
	}
	return []aggregate.Event{AccountOpened{
		AccountID:      id,
		Organization:   c.Organization,
		Owner:          owner,
		Currency:       cur.Code,
		InitialBalance: initial,
	}}, nil
}

// CreditAccount pays Amount, a decimal string in the account's currency
// ("12.50"), into the account, with an optional Description.
type CreditAccount struct {
	// AccountID is the account's UUID.
	AccountID string
	// Organization is the caller's organization; an account of another one
	// is not found.
	Organization string
	// Amount is a positive decimal amount in the account's currency.
	Amount string
	// Description is optional free text, at most 500 characters after
	// trimming.
	Description string
}

// Decide returns a single AccountCredited with the amount in minor units.
// Errors:
//   - ErrAccountNotFound (NOT_FOUND) if the account was never opened, or
//     belongs to another organization;
//   - ErrAccountClosed (ACCOUNT_CLOSED) if it is closed;
//   - money.ErrMalformedAmount (BAD_USER_INPUT) if Amount is not a valid
//     amount in the account's currency;
//   - ErrInvalidInput (BAD_USER_INPUT) if Amount is zero or negative, if the
//     description is longer than 500 characters or not valid text, or if the
//     new balance would exceed the int64 range.
func (c CreditAccount) Decide(a Account) ([]aggregate.Event, error) {
	amount, desc, err := validateMovement(a, c.Organization, c.AccountID, c.Amount, c.Description)
	if err != nil {
		return nil, err
	}
	if amount > math.MaxInt64-a.Balance {
		return nil, fmt.Errorf("%w: credit of %s would overflow the balance of %s",
			ErrInvalidInput, formatMoney(amount, a.Currency), formatMoney(a.Balance, a.Currency))
	}
	return []aggregate.Event{AccountCredited{AccountID: a.ID, Amount: amount, Description: desc}}, nil
}

// DebitAccount takes Amount, a decimal string in the account's currency
// ("12.50"), out of the account, with an optional Description.
type DebitAccount struct {
	// AccountID is the account's UUID.
	AccountID string
	// Organization is the caller's organization; an account of another one
	// is not found.
	Organization string
	// Amount is a positive decimal amount in the account's currency.
	Amount string
	// Description is optional free text, at most 500 characters after
	// trimming.
	Description string
}

// Decide returns a single AccountDebited with the amount in minor units. The
// balance may reach zero but never go below. Errors: as for CreditAccount
// (except overflow), plus ErrInsufficientFunds (INSUFFICIENT_FUNDS) if the
// amount exceeds the balance, with a message such as
// "insufficient funds: balance 10.00 EUR, debit 10.01 EUR".
func (c DebitAccount) Decide(a Account) ([]aggregate.Event, error) {
	amount, desc, err := validateMovement(a, c.Organization, c.AccountID, c.Amount, c.Description)
	if err != nil {
		return nil, err
	}
	if amount > a.Balance {
		return nil, fmt.Errorf("%w: balance %s, debit %s",
			ErrInsufficientFunds, formatMoney(a.Balance, a.Currency), formatMoney(amount, a.Currency))
	}
	return []aggregate.Event{AccountDebited{AccountID: a.ID, Amount: amount, Description: desc}}, nil
}

// CloseAccount closes an account whose balance is zero.
type CloseAccount struct {
	// AccountID is the account's UUID.
	AccountID string
	// Organization is the caller's organization; an account of another one
	// is not found.
	Organization string
}

// Decide returns a single AccountClosed. Errors:
//   - ErrAccountNotFound (NOT_FOUND) if the account was never opened, or
//     belongs to another organization;
//   - ErrAccountClosed (ACCOUNT_CLOSED) if it is already closed;
//   - ErrNonZeroBalance (NON_ZERO_BALANCE) if the balance is not zero.
func (c CloseAccount) Decide(a Account) ([]aggregate.Event, error) {
	if err := checkOpen(a, c.Organization, c.AccountID); err != nil {
		return nil, err
	}
	if a.Balance != 0 {
		return nil, fmt.Errorf("%w: balance is %s; debit it to zero first",
			ErrNonZeroBalance, formatMoney(a.Balance, a.Currency))
	}
	return []aggregate.Event{AccountClosed{AccountID: a.ID}}, nil
}

// checkOpen reports ErrAccountNotFound or ErrAccountClosed. An account of
// another organization is not found: a tenant cannot tell it from one that
// does not exist.
func checkOpen(a Account, organization, requestedID string) error {
	if !a.Opened || a.Organization != organization {
		return fmt.Errorf("%w: %s", ErrAccountNotFound, apperr.Quote(requestedID))
	}
	if a.Status == StatusClosed {
		return fmt.Errorf("%w: %s", ErrAccountClosed, a.ID)
	}
	return nil
}

// validateMovement holds the checks shared by credits and debits: the account
// is open, the amount is a positive amount in its currency, the description
// is acceptable. It returns the amount in minor units and the trimmed
// description.
func validateMovement(a Account, organization, requestedID, amountText, description string) (int64, string, error) {
	if err := checkOpen(a, organization, requestedID); err != nil {
		return 0, "", err
	}
	amount, err := money.ParseAmount(amountText, a.Currency)
	if err != nil {
		return 0, "", err
	}
	if amount <= 0 {
		return 0, "", fmt.Errorf("%w: amount must be positive, got %s",
			ErrInvalidInput, formatMoney(amount, a.Currency))
	}
	desc := strings.TrimSpace(description)
	if !utf8.ValidString(desc) {
		return 0, "", fmt.Errorf("%w: description is not valid UTF-8 text", ErrInvalidInput)
	}
	if n := utf8.RuneCountInString(desc); n > MaxDescriptionLength {
		return 0, "", fmt.Errorf("%w: description is %d characters long, at most %d are allowed",
			ErrInvalidInput, n, MaxDescriptionLength)
	}
	return amount, desc, nil
}

// validateOwner trims the owner name and checks it is 1..200 characters of
// valid text without control characters.
func validateOwner(s string) (string, error) {
	owner, err := input.Text("owner", s, MaxOwnerLength)
	if err != nil {
		return "", fmt.Errorf("%w: %s", ErrInvalidInput, input.Message(err))
	}
	return owner, nil
}
