package account

import (
	"encoding/json"
	"github.com/chronicle-es/chronicle/internal/datasubject"

	"github.com/chronicle-es/chronicle/internal/aggregate"
)

// Stored event type names. They are part of the stored contract: never change
// them (register an upcaster in events instead).
const (
	EventAccountOpened   = "AccountOpened"
	EventAccountCredited = "AccountCredited"
	EventAccountDebited  = "AccountDebited"
	EventAccountClosed   = "AccountClosed"
)

// AccountOpened records that an account was opened. Stored as
// {"accountId","organization","owner","ownerEmail"?,"currency",
// "initialBalance"}; owner and ownerEmail are personal data, stored sealed
// (see PersonalData);
// InitialBalance is an int64 count of the currency's minor units (1250 =
// 12.50 EUR), never negative.
type AccountOpened struct {
	// AccountID is the canonical lower-case UUID of the account.
	AccountID string `json:"accountId"`
	// Organization is the tenant that owns the account, from the caller's
	// identity. Absent (empty) in events stored before tenancy: such
	// accounts belong to no organization and no caller sees them.
	Organization string `json:"organization,omitempty"`
	// Owner is the trimmed owner name (1..200 characters), or its sealed
	// form (package datasubject) once stored.
	Owner string `json:"owner"`
	// OwnerEmail, when given, is the owner's e-mail address: the data
	// subject the account belongs to (sealed once stored).
	OwnerEmail string `json:"ownerEmail,omitempty"`
	// Currency is the ISO 4217 code, e.g. "EUR".
	Currency string `json:"currency"`
	// InitialBalance is in minor units of Currency.
	InitialBalance int64 `json:"initialBalance"`
}

// EventType returns "AccountOpened".
func (AccountOpened) EventType() string { return EventAccountOpened }

// PersonalData implements aggregate.Personal: the owner's name and e-mail
// belong to the owner's e-mail address as data subject, or, for an account
// opened without one, to the owner's name.
func (e AccountOpened) PersonalData() (string, []string) {
	subject := datasubject.Owner(e.Owner)
	if e.OwnerEmail != "" {
		subject = datasubject.Email(e.OwnerEmail)
	}
	return subject, []string{"owner", "ownerEmail"}
}

// AccountCredited records money paid into an account. Stored (schema
// version 2) as {"accountId","amount","description","reference",
// "counterparty"?}; version 1 had no reference and no counterparty (see
// upcastMovementV1). Amount is a positive int64 count of the account
// currency's minor units. The resulting balance is not stored: it is the
// fold of the stream.
type AccountCredited struct {
	// AccountID is the canonical lower-case UUID of the account.
	AccountID string `json:"accountId"`
	// Amount is in minor units of the account's currency, always > 0.
	Amount int64 `json:"amount"`
	// Description is free text (at most 500 characters, may be empty).
	Description string `json:"description"`
	// Reference is the client's reference of the movement (an invoice or
	// transfer number; at most 100 characters, may be empty).
	Reference string `json:"reference"`
	// Counterparty is who paid, when known.
	Counterparty *Counterparty `json:"counterparty,omitempty"`
}

// Counterparty is the other side of a credit or debit: a name and, when
// known, their account (an IBAN or any account identifier).
type Counterparty struct {
	Name    string `json:"name"`
	Account string `json:"account,omitempty"`
}

// EventType returns "AccountCredited".
func (AccountCredited) EventType() string { return EventAccountCredited }

// AccountDebited records money taken out of an account. Stored like
// AccountCredited (schema version 2); Amount is a positive int64 count of
// the account currency's minor units, never more than the balance at the
// time.
type AccountDebited struct {
	// AccountID is the canonical lower-case UUID of the account.
	AccountID string `json:"accountId"`
	// Amount is in minor units of the account's currency, always > 0.
	Amount int64 `json:"amount"`
	// Description is free text (at most 500 characters, may be empty).
	Description string `json:"description"`
	// Reference is the client's reference of the movement (may be empty).
	Reference string `json:"reference"`
	// Counterparty is who was paid, when known.
	Counterparty *Counterparty `json:"counterparty,omitempty"`
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

// events declares the account events and their current schema versions:
// the repository stamps new events with them, and Type.Decode reads them
// (older versions through upcasters registered here).
var events = func() *aggregate.Events {
	r := aggregate.NewEvents("account")
	aggregate.Register[AccountOpened](r, 1)
	aggregate.Register[AccountCredited](r, 2)
	aggregate.Register[AccountDebited](r, 2)
	aggregate.Register[AccountClosed](r, 1)
	r.Upcast(EventAccountCredited, 1, upcastMovementV1)
	r.Upcast(EventAccountDebited, 1, upcastMovementV1)
	return r
}()

// upcastMovementV1 turns a version 1 credit or debit
// ({"accountId","amount","description"}) into version 2: an empty
// "reference" and no counterparty, which is what a version 1 movement had.
// Stored events are never rewritten; every reader (fold, projection,
// rebuild, history) sees version 2.
func upcastMovementV1(data []byte) ([]byte, error) {
	var v map[string]json.RawMessage
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	if _, ok := v["reference"]; !ok {
		v["reference"] = json.RawMessage(`""`)
	}
	return json.Marshal(v)
}
