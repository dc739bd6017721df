// Package account is the bank-account bounded context: its events, the state
// they fold into, and the commands that decide new events.
//
// The domain is pure. Commands (OpenAccount, CreditAccount, DebitAccount,
// CloseAccount) are plain structs whose Decide method maps the current
// Account state to new events or to a domain error; Type tells the
// aggregate.Repository how to fold and decode the "account" stream.
//
// Money is an int64 count of the account currency's minor units (see package
// money); commands take amounts as decimal strings ("12.50") and parse them in
// the account's currency.
//
// Every failure a client may see is an *apperr.Error sentinel declared below,
// wrapped with context by fmt.Errorf; match it with errors.Is.
package account

import (
	"github.com/google/uuid"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/money"
)

// Error codes specific to accounts, sent as a GraphQL error's extensions.code.
const (
	// CodeInsufficientFunds is the code of ErrInsufficientFunds.
	CodeInsufficientFunds apperr.Code = "INSUFFICIENT_FUNDS"
	// CodeAccountClosed is the code of ErrAccountClosed.
	CodeAccountClosed apperr.Code = "ACCOUNT_CLOSED"
	// CodeNonZeroBalance is the code of ErrNonZeroBalance.
	CodeNonZeroBalance apperr.Code = "NON_ZERO_BALANCE"
)

// Domain errors. Decide functions wrap them with a precise message, e.g.
// "insufficient funds: balance 10.00 EUR, debit 10.01 EUR"; match with
// errors.Is. Malformed amounts and currencies are reported with
// money.ErrMalformedAmount and money.ErrUnknownCurrency (also BAD_USER_INPUT).
var (
	// ErrInvalidInput (BAD_USER_INPUT) reports a malformed account id, a
	// missing or too long owner, a too long description, or an amount with
	// the wrong sign.
	ErrInvalidInput = apperr.New(apperr.BadUserInput, "invalid input")
	// ErrAccountNotFound (NOT_FOUND) reports a command on an account that was
	// never opened.
	ErrAccountNotFound = apperr.New(apperr.NotFound, "account not found")
	// ErrAccountExists (CONFLICT) reports opening an account id that is
	// already in use.
	ErrAccountExists = apperr.New(apperr.Conflict, "account already exists")
	// ErrAccountClosed (ACCOUNT_CLOSED) reports a credit, debit or close on a
	// closed account.
	ErrAccountClosed = apperr.New(CodeAccountClosed, "account is closed")
	// ErrInsufficientFunds (INSUFFICIENT_FUNDS) reports a debit larger than
	// the balance.
	ErrInsufficientFunds = apperr.New(CodeInsufficientFunds, "insufficient funds")
	// ErrNonZeroBalance (NON_ZERO_BALANCE) reports closing an account whose
	// balance is not zero.
	ErrNonZeroBalance = apperr.New(CodeNonZeroBalance, "account balance is not zero")
)

// Status is the lifecycle state of an account: StatusOpen or StatusClosed.
type Status string

// Account statuses.
const (
	StatusOpen   Status = "OPEN"
	StatusClosed Status = "CLOSED"
)

// Account is the state of one account stream, folded from its events. The
// zero value (Opened false) is an account that does not exist yet.
type Account struct {
	// ID is the canonical lower-case UUID of the account.
	ID string
	// Organization is the tenant that owns the account.
	Organization string
	// Owner is the owner's name.
	Owner string
	// Currency is the account's currency; every amount is in it.
	Currency money.Currency
	// Balance is in minor units of Currency (1250 = 12.50 EUR); never
	// negative.
	Balance int64
	// Status is StatusOpen or StatusClosed once opened, "" before.
	Status Status
	// Opened reports whether AccountOpened has been applied, i.e. whether
	// the account exists.
	Opened bool
}

// Type describes the "account" aggregate to the repository: the zero Account
// as initial state, Evolve to fold events and Decode to read them back.
var Type = aggregate.Type[Account]{
	StreamType: "account",
	Initial:    func() Account { return Account{} },
	Evolve:     Evolve,
	Events:     events,
	// The state's JSON shape is Account's exported fields: bump SchemaVersion
	// when they change, and older snapshots are ignored.
	Snapshots: &aggregate.Snapshots{SchemaVersion: 1},
}

// Evolve folds one event into the state and returns the new state. It never
// fails: unknown events are ignored. Events are accepted as values or
// pointers. Credits add Amount to Balance, debits subtract it; Evolve does
// not re-check the rules, since events are facts that already passed Decide.
//
// If an AccountOpened names a currency that LookupCurrency no longer knows
// (a code withdrawn from ISO 4217 after the account was opened), the state
// keeps the code with 2 minor units, the most common exponent, so that old
// streams still fold.
func Evolve(a Account, event aggregate.Event) Account {
	switch e := event.(type) {
	case AccountOpened:
		cur := money.StoredCurrency(e.Currency)
		a.ID = e.AccountID
		a.Organization = e.Organization
		a.Owner = e.Owner
		a.Currency = cur
		a.Balance = e.InitialBalance
		a.Status = StatusOpen
		a.Opened = true
	case *AccountOpened:
		return Evolve(a, *e)
	case AccountCredited:
		a.Balance += e.Amount
	case *AccountCredited:
		return Evolve(a, *e)
	case AccountDebited:
		a.Balance -= e.Amount
	case *AccountDebited:
		return Evolve(a, *e)
	case AccountClosed:
		a.Status = StatusClosed
	case *AccountClosed:
		return Evolve(a, *e)
	}
	return a
}

// ParseID validates an account id: a UUID in the standard 36-character
// hyphenated form (any letter case), not the nil UUID. Any other input
// yields an error wrapping ErrInvalidInput: `invalid input: malformed
// account id "x"`.
func ParseID(s string) (uuid.UUID, error) {
	return command.ParseUUID(s, "account", ErrInvalidInput)
}
