package account

import (
	"fmt"

	"github.com/chronicle-es/chronicle/internal/aggregate"
)

// Stored event type names. They are part of the stored contract: never change
// them (add an upcaster in Decode instead).
const (
	EventAccountOpened   = "AccountOpened"
	EventAccountCredited = "AccountCredited"
	EventAccountDebited  = "AccountDebited"
	EventAccountClosed   = "AccountClosed"
)

// SchemaVersion is the schema version of the JSON shapes below; Decode
// accepts only this version.
const SchemaVersion = 1

// AccountOpened records that an account was opened. Stored as
// {"accountId","organization","owner","currency","initialBalance"};
// InitialBalance is an int64 count of the currency's minor units (1250 =
// 12.50 EUR), never negative.
type AccountOpened struct {
	// AccountID is the canonical lower-case UUID of the account.
	AccountID string `json:"accountId"`
	// Organization is the tenant that owns the account, from the caller's
	// identity. Absent (empty) in events stored before tenancy: such
	// accounts belong to no organization and no caller sees them.
	Organization string `json:"organization,omitempty"`
	// Owner is the trimmed owner name (1..200 characters).
	Owner string `json:"owner"`
	// Currency is the ISO 4217 code, e.g. "EUR".
	Currency string `json:"currency"`
	// InitialBalance is in minor units of Currency.
	InitialBalance int64 `json:"initialBalance"`
}

// EventType returns "AccountOpened".
func (AccountOpened) EventType() string { return EventAccountOpened }

// AccountCredited records money paid into an account. Stored as
// {"accountId","amount","description"}; Amount is a positive int64 count of
// the account currency's minor units. The resulting balance is not stored: it
// is the fold of the stream.
type AccountCredited struct {
	// AccountID is the canonical lower-case UUID of the account.
	AccountID string `json:"accountId"`
	// Amount is in minor units of the account's currency, always > 0.
	Amount int64 `json:"amount"`
	// Description is free text (at most 500 characters, may be empty).
	Description string `json:"description"`
}

// EventType returns "AccountCredited".
func (AccountCredited) EventType() string { return EventAccountCredited }

// AccountDebited records money taken out of an account. Stored as
// {"accountId","amount","description"}; Amount is a positive int64 count of
// the account currency's minor units, never more than the balance at the
// time.
type AccountDebited struct {
	// AccountID is the canonical lower-case UUID of the account.
	AccountID string `json:"accountId"`
	// Amount is in minor units of the account's currency, always > 0.
	Amount int64 `json:"amount"`
	// Description is free text (at most 500 characters, may be empty).
	Description string `json:"description"`
}

// EventType returns "AccountDebited".
func (AccountDebited) EventType() string { return EventAccountDebited }

// AccountClosed records that an account (with a zero balance) was closed.
// Stored as {"accountId"}.
type AccountClosed struct {
	// AccountID is the canonical lower-case UUID of the account.
	AccountID string `json:"accountId"`
}

// EventType returns "AccountClosed".
func (AccountClosed) EventType() string { return EventAccountClosed }

// Decode turns a stored account event back into its Go value (a value, not a
// pointer: AccountOpened, AccountCredited, AccountDebited or AccountClosed).
// It is the Decode of Type.
//
// An unknown eventType yields an error wrapping aggregate.ErrUnknownEventType;
// a schemaVersion other than SchemaVersion, or data that is not the JSON
// shape of the event, yields a plain (internal) error.
func Decode(eventType string, schemaVersion int, data []byte) (aggregate.Event, error) {
	switch eventType {
	case EventAccountOpened:
		return decodeAs[AccountOpened](eventType, schemaVersion, data)
	case EventAccountCredited:
		return decodeAs[AccountCredited](eventType, schemaVersion, data)
	case EventAccountDebited:
		return decodeAs[AccountDebited](eventType, schemaVersion, data)
	case EventAccountClosed:
		return decodeAs[AccountClosed](eventType, schemaVersion, data)
	default:
		return nil, fmt.Errorf("account: event type %q: %w", eventType, aggregate.ErrUnknownEventType)
	}
}

func decodeAs[E aggregate.Event](eventType string, schemaVersion int, data []byte) (aggregate.Event, error) {
	return aggregate.DecodeJSON[E]("account", eventType, schemaVersion, SchemaVersion, data)
}
