package account

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/command/commandtest"
	"github.com/chronicle-es/chronicle/internal/money"
	"github.com/google/uuid"
)

const (
	testOrg = "acme"
	id      = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
	idUpper = "3F2504E0-4F89-11D3-9A0C-0305E82C3301"
)

// env is testOrg's caller acting on account id.
var env = command.Env{StreamID: uuid.MustParse(id), Organization: testOrg, Actor: "tester"}

// decideCase is one given/when/then row of a command's table.
type decideCase struct {
	name    string
	given   []aggregate.Event
	cmd     command.Command[Account]
	then    []aggregate.Event
	wantErr error
	// as sends the command instead of env, when set.
	as command.Env
}

// runCases runs each case as a commandtest scenario sent by env: exactly
// the then events, or an error matching wantErr and no events.
func runCases(t *testing.T, cases []decideCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			as := env
			if tt.as != (command.Env{}) {
				as = tt.as
			}
			when := commandtest.Given(t, Type, tt.given...).As(as).When(tt.cmd)
			if tt.wantErr != nil {
				when.ThenError(tt.wantErr)
				return
			}
			when.Then(tt.then...)
		})
	}
}

func assertCode(t *testing.T, err error, want apperr.Code) {
	t.Helper()
	got, ok := apperr.CodeOf(err)
	if !ok || got != want {
		t.Errorf("code of %q = %q (found %v), want %q", err, got, ok, want)
	}
}

func opened(currency string, initial int64) AccountOpened {
	return AccountOpened{Organization: testOrg, AccountID: id, Owner: "Ada Lovelace", Currency: currency, InitialBalance: initial}
}

// history is a given stream of events.
func past(es ...aggregate.Event) []aggregate.Event { return es }

func TestOpenAccount(t *testing.T) {
	runCases(t, []decideCase{
		{
			name: "zero initial balance (empty string)",
			cmd:  OpenAccount{Owner: "Ada Lovelace", Currency: "EUR"},
			then: past(opened("EUR", 0)),
		},
		{
			name: "explicit zero initial balance",
			cmd:  OpenAccount{Owner: "Ada Lovelace", Currency: "EUR", InitialBalance: "0.00"},
			then: past(opened("EUR", 0)),
		},
		{
			name: "positive initial balance",
			cmd:  OpenAccount{Owner: "Ada Lovelace", Currency: "EUR", InitialBalance: "12.50"},
			then: past(opened("EUR", 1250)),
		},
		{
			name: "owner trimmed",
			cmd:  OpenAccount{Owner: "  Ada Lovelace\t", Currency: "EUR", InitialBalance: "1"},
			then: past(opened("EUR", 100)),
		},
		{
			name: "KWD with 3 decimals",
			cmd:  OpenAccount{Owner: "Ada Lovelace", Currency: "KWD", InitialBalance: "1.234"},
			then: past(opened("KWD", 1234)),
		},
		{
			name: "JPY without decimals",
			cmd:  OpenAccount{Owner: "Ada Lovelace", Currency: "JPY", InitialBalance: "1200"},
			then: past(opened("JPY", 1200)),
		},
		{
			name: "owner of exactly 200 characters",
			cmd:  OpenAccount{Owner: strings.Repeat("é", 200), Currency: "EUR"},
			then: past(AccountOpened{Organization: testOrg, AccountID: id, Owner: strings.Repeat("é", 200), Currency: "EUR"}),
		},
		{
			name:    "negative initial balance",
			cmd:     OpenAccount{Owner: "Ada Lovelace", Currency: "EUR", InitialBalance: "-0.01"},
			wantErr: ErrInvalidInput,
		},
		{
			name:    "malformed initial balance",
			cmd:     OpenAccount{Owner: "Ada Lovelace", Currency: "EUR", InitialBalance: "12,50"},
			wantErr: money.ErrMalformedAmount,
		},
		{
			name:    "JPY with decimals",
			cmd:     OpenAccount{Owner: "Ada Lovelace", Currency: "JPY", InitialBalance: "1.5"},
			wantErr: money.ErrMalformedAmount,
		},
		{
			name:    "EUR with 3 decimals",
			cmd:     OpenAccount{Owner: "Ada Lovelace", Currency: "EUR", InitialBalance: "1.000"},
			wantErr: money.ErrMalformedAmount,
		},
		{
			name:    "unknown currency",
			cmd:     OpenAccount{Owner: "Ada Lovelace", Currency: "ABC"},
			wantErr: money.ErrUnknownCurrency,
		},
		{
			name:    "lower-case currency",
			cmd:     OpenAccount{Owner: "Ada Lovelace", Currency: "eur"},
			wantErr: money.ErrUnknownCurrency,
		},
		{
			name:    "empty currency",
			cmd:     OpenAccount{Owner: "Ada Lovelace"},
			wantErr: money.ErrUnknownCurrency,
		},
		{
			name:    "empty owner",
			cmd:     OpenAccount{Owner: "", Currency: "EUR"},
			wantErr: ErrInvalidInput,
		},
		{
			name:    "blank owner",
			cmd:     OpenAccount{Owner: " \t\n ", Currency: "EUR"},
			wantErr: ErrInvalidInput,
		},
		{
			name:    "owner too long",
			cmd:     OpenAccount{Owner: strings.Repeat("a", 201), Currency: "EUR"},
			wantErr: ErrInvalidInput,
		},
		{
			name:    "owner with control character",
			cmd:     OpenAccount{Owner: "Ada\x00Lovelace", Currency: "EUR"},
			wantErr: ErrInvalidInput,
		},
		{
			name:    "owner not UTF-8",
			cmd:     OpenAccount{Owner: "Ada \xff", Currency: "EUR"},
			wantErr: ErrInvalidInput,
		},
		{
			name:    "already opened",
			given:   past(opened("EUR", 0)),
			cmd:     OpenAccount{Owner: "Ada Lovelace", Currency: "EUR"},
			wantErr: ErrAccountExists,
		},
		{
			name:    "no organization",
			as:      command.Env{StreamID: env.StreamID, Actor: "tester"},
			cmd:     OpenAccount{Owner: "Ada Lovelace", Currency: "EUR"},
			wantErr: ErrInvalidInput,
		},
		{
			name:    "already opened and closed",
			given:   past(opened("EUR", 0), AccountClosed{AccountID: id}),
			cmd:     OpenAccount{Owner: "Ada Lovelace", Currency: "EUR"},
			wantErr: ErrAccountExists,
		},
	})
}

func TestCreditAccount(t *testing.T) {
	runCases(t, []decideCase{
		{
			name:  "ok",
			given: past(opened("EUR", 1000)),
			cmd:   CreditAccount{Amount: "2.50", Description: "salary"},
			then:  past(AccountCredited{AccountID: id, Amount: 250, Description: "salary"}),
		},
		{
			name:  "smallest amount, description trimmed",
			given: past(opened("EUR", 0)),
			cmd:   CreditAccount{Amount: "0.01", Description: "  tip  "},
			then:  past(AccountCredited{AccountID: id, Amount: 1, Description: "tip"}),
		},
		{
			name:  "JPY",
			given: past(opened("JPY", 0)),
			cmd:   CreditAccount{Amount: "1200"},
			then:  past(AccountCredited{AccountID: id, Amount: 1200}),
		},
		{
			name:  "KWD 3 decimals",
			given: past(opened("KWD", 0)),
			cmd:   CreditAccount{Amount: "0.005"},
			then:  past(AccountCredited{AccountID: id, Amount: 5}),
		},
		{
			name:  "description of exactly 500 characters",
			given: past(opened("EUR", 0)),
			cmd:   CreditAccount{Amount: "1", Description: strings.Repeat("ü", 500)},
			then:  past(AccountCredited{AccountID: id, Amount: 100, Description: strings.Repeat("ü", 500)}),
		},
		{
			name:  "up to the int64 limit",
			given: past(opened("JPY", math.MaxInt64-10)),
			cmd:   CreditAccount{Amount: "10"},
			then:  past(AccountCredited{AccountID: id, Amount: 10}),
		},
		{
			name:    "zero",
			given:   past(opened("EUR", 0)),
			cmd:     CreditAccount{Amount: "0.00"},
			wantErr: ErrInvalidInput,
		},
		{
			name:    "negative",
			given:   past(opened("EUR", 0)),
			cmd:     CreditAccount{Amount: "-1.00"},
			wantErr: ErrInvalidInput,
		},
		{
			name:    "malformed",
			given:   past(opened("EUR", 0)),
			cmd:     CreditAccount{Amount: "ten"},
			wantErr: money.ErrMalformedAmount,
		},
		{
			name:    "empty amount",
			given:   past(opened("EUR", 0)),
			cmd:     CreditAccount{Amount: ""},
			wantErr: money.ErrMalformedAmount,
		},
		{
			name:    "too many decimals for JPY",
			given:   past(opened("JPY", 0)),
			cmd:     CreditAccount{Amount: "100.5"},
			wantErr: money.ErrMalformedAmount,
		},
		{
			name:    "too many decimals for EUR",
			given:   past(opened("EUR", 0)),
			cmd:     CreditAccount{Amount: "1.001"},
			wantErr: money.ErrMalformedAmount,
		},
		{
			name:    "description too long",
			given:   past(opened("EUR", 0)),
			cmd:     CreditAccount{Amount: "1", Description: strings.Repeat("a", 501)},
			wantErr: ErrInvalidInput,
		},
		{
			name:    "description not UTF-8",
			given:   past(opened("EUR", 0)),
			cmd:     CreditAccount{Amount: "1", Description: "\xc3"},
			wantErr: ErrInvalidInput,
		},
		{
			name:    "balance overflow",
			given:   past(opened("JPY", math.MaxInt64-10)),
			cmd:     CreditAccount{Amount: "11"},
			wantErr: ErrInvalidInput,
		},
		{
			name:    "unknown account",
			cmd:     CreditAccount{Amount: "1.00"},
			wantErr: ErrAccountNotFound,
		},
		{
			name:    "closed account",
			given:   past(opened("EUR", 0), AccountClosed{AccountID: id}),
			cmd:     CreditAccount{Amount: "1.00"},
			wantErr: ErrAccountClosed,
		},
	})
}

func TestDebitAccount(t *testing.T) {
	runCases(t, []decideCase{
		{
			name:  "ok",
			given: past(opened("EUR", 1000)),
			cmd:   DebitAccount{Amount: "2.50", Description: "coffee"},
			then:  past(AccountDebited{AccountID: id, Amount: 250, Description: "coffee"}),
		},
		{
			name:  "exact balance",
			given: past(opened("EUR", 1000)),
			cmd:   DebitAccount{Amount: "10.00"},
			then:  past(AccountDebited{AccountID: id, Amount: 1000}),
		},
		{
			name:  "balance built from credits and debits",
			given: past(opened("EUR", 0), AccountCredited{AccountID: id, Amount: 700}, AccountDebited{AccountID: id, Amount: 200}),
			cmd:   DebitAccount{Amount: "5"},
			then:  past(AccountDebited{AccountID: id, Amount: 500}),
		},
		{
			name:    "beyond balance",
			given:   past(opened("EUR", 1000)),
			cmd:     DebitAccount{Amount: "10.01"},
			wantErr: ErrInsufficientFunds,
		},
		{
			name:    "empty account",
			given:   past(opened("EUR", 0)),
			cmd:     DebitAccount{Amount: "0.01"},
			wantErr: ErrInsufficientFunds,
		},
		{
			name:    "zero",
			given:   past(opened("EUR", 1000)),
			cmd:     DebitAccount{Amount: "0"},
			wantErr: ErrInvalidInput,
		},
		{
			name:    "negative",
			given:   past(opened("EUR", 1000)),
			cmd:     DebitAccount{Amount: "-5.00"},
			wantErr: ErrInvalidInput,
		},
		{
			name:    "malformed",
			given:   past(opened("EUR", 1000)),
			cmd:     DebitAccount{Amount: "1e2"},
			wantErr: money.ErrMalformedAmount,
		},
		{
			name:    "too many decimals for JPY",
			given:   past(opened("JPY", 1000)),
			cmd:     DebitAccount{Amount: "1.0"},
			wantErr: money.ErrMalformedAmount,
		},
		{
			name:    "description too long",
			given:   past(opened("EUR", 1000)),
			cmd:     DebitAccount{Amount: "1", Description: strings.Repeat("a", 501)},
			wantErr: ErrInvalidInput,
		},
		{
			name:    "unknown account",
			cmd:     DebitAccount{Amount: "1.00"},
			wantErr: ErrAccountNotFound,
		},
		{
			name:    "closed account",
			given:   past(opened("EUR", 0), AccountClosed{AccountID: id}),
			cmd:     DebitAccount{Amount: "1.00"},
			wantErr: ErrAccountClosed,
		},
	})
}

func TestCloseAccount(t *testing.T) {
	runCases(t, []decideCase{
		{
			name:  "zero balance",
			given: past(opened("EUR", 0)),
			cmd:   CloseAccount{},
			then:  past(AccountClosed{AccountID: id}),
		},
		{
			name:  "balance brought back to zero",
			given: past(opened("EUR", 500), AccountCredited{AccountID: id, Amount: 250}, AccountDebited{AccountID: id, Amount: 750}),
			cmd:   CloseAccount{},
			then:  past(AccountClosed{AccountID: id}),
		},
		{
			name:    "non-zero balance",
			given:   past(opened("EUR", 1)),
			cmd:     CloseAccount{},
			wantErr: ErrNonZeroBalance,
		},
		{
			name:    "already closed",
			given:   past(opened("EUR", 0), AccountClosed{AccountID: id}),
			cmd:     CloseAccount{},
			wantErr: ErrAccountClosed,
		},
		{
			name:    "unknown account",
			cmd:     CloseAccount{},
			wantErr: ErrAccountNotFound,
		},
	})
}

func TestErrorCodesAndMessages(t *testing.T) {
	eur := past(opened("EUR", 1000))
	decide := func(given []aggregate.Event, cmd command.Command[Account], target error) error {
		t.Helper()
		return commandtest.Given(t, Type, given...).As(env).When(cmd).ThenError(target)
	}

	err := decide(eur, DebitAccount{Amount: "10.01"}, ErrInsufficientFunds)
	assertCode(t, err, CodeInsufficientFunds)
	if want := "insufficient funds: balance 10.00 EUR, debit 10.01 EUR"; err.Error() != want {
		t.Errorf("message = %q, want %q", err, want)
	}

	err = decide(eur, CreditAccount{Amount: "0"}, ErrInvalidInput)
	assertCode(t, err, apperr.BadUserInput)
	if !strings.Contains(err.Error(), "amount must be positive") {
		t.Errorf("message %q does not say the amount must be positive", err)
	}

	err = decide(eur, CreditAccount{Amount: "1.234"}, money.ErrMalformedAmount)
	assertCode(t, err, apperr.BadUserInput)
	if !strings.Contains(err.Error(), "EUR has 2 decimal places") {
		t.Errorf("message %q does not mention the decimal places", err)
	}

	err = decide(eur, CloseAccount{}, ErrNonZeroBalance)
	assertCode(t, err, CodeNonZeroBalance)
	if !strings.Contains(err.Error(), "10.00 EUR") {
		t.Errorf("message %q does not mention the balance", err)
	}

	assertCode(t, decide(nil, CreditAccount{Amount: "1"}, ErrAccountNotFound), apperr.NotFound)

	closed := past(opened("EUR", 0), AccountClosed{AccountID: id})
	assertCode(t, decide(closed, DebitAccount{Amount: "1"}, ErrAccountClosed), CodeAccountClosed)
	assertCode(t, decide(closed, CloseAccount{}, ErrAccountClosed), CodeAccountClosed)

	assertCode(t, decide(eur, OpenAccount{Owner: "x", Currency: "EUR"}, ErrAccountExists), apperr.Conflict)
	assertCode(t, decide(nil, OpenAccount{Owner: "", Currency: "EUR"}, ErrInvalidInput), apperr.BadUserInput)
	assertCode(t, decide(nil, OpenAccount{Owner: "x", Currency: "eur"}, money.ErrUnknownCurrency), apperr.BadUserInput)

	err = decide(past(opened("JPY", math.MaxInt64)), CreditAccount{Amount: "1"}, ErrInvalidInput)
	assertCode(t, err, apperr.BadUserInput)
	if !strings.Contains(err.Error(), "overflow") {
		t.Errorf("message %q does not mention the overflow", err)
	}

	// Descriptions are checked as text: no control characters (NUL, which
	// PostgreSQL cannot store, included), valid UTF-8; BAD_USER_INPUT,
	// never INTERNAL.
	for _, desc := range []string{"a\nb\u0007", "a\u0000b", "bad \xc3("} {
		for _, cmd := range []command.Command[Account]{
			CreditAccount{Amount: "1", Description: desc},
			DebitAccount{Amount: "1", Description: desc},
		} {
			err := decide(eur, cmd, ErrInvalidInput)
			assertCode(t, err, apperr.BadUserInput)
			if !strings.Contains(err.Error(), "description") {
				t.Errorf("message %q does not name the description", err)
			}
		}
	}

	// Codes as strings, as the API contract names them.
	for code, want := range map[apperr.Code]string{
		CodeInsufficientFunds: "INSUFFICIENT_FUNDS",
		CodeAccountClosed:     "ACCOUNT_CLOSED",
		CodeNonZeroBalance:    "NON_ZERO_BALANCE",
	} {
		if string(code) != want {
			t.Errorf("code %q, want %q", code, want)
		}
	}
}

func TestEvolve(t *testing.T) {
	a := Type.Fold()
	if a.Opened || a.Status != "" || a.Balance != 0 {
		t.Fatalf("initial state = %+v, want zero", a)
	}

	a = Type.Fold(
		AccountOpened{Organization: testOrg, AccountID: id, Owner: "Ada", Currency: "EUR", InitialBalance: 1000},
		AccountCredited{AccountID: id, Amount: 250},
		AccountDebited{AccountID: id, Amount: 100},
		AccountCredited{AccountID: id, Amount: 5},
	)
	want := Account{
		ID:           id,
		Organization: testOrg,
		Owner:        "Ada",
		Currency:     money.Currency{Code: "EUR", MinorUnits: 2},
		Balance:      1155,
		Status:       StatusOpen,
		Opened:       true,
	}
	if a != want {
		t.Fatalf("state = %+v, want %+v", a, want)
	}

	a = Type.Evolve(a, AccountDebited{AccountID: id, Amount: 1155})
	a = Type.Evolve(a, AccountClosed{AccountID: id})
	want.Balance = 0
	want.Status = StatusClosed
	if a != want {
		t.Fatalf("state after close = %+v, want %+v", a, want)
	}

	// Pointers fold like values; unknown events are ignored.
	p := Type.Fold(
		&AccountOpened{Organization: testOrg, AccountID: id, Owner: "Ada", Currency: "KWD", InitialBalance: 1},
		&AccountCredited{AccountID: id, Amount: 2},
		&AccountDebited{AccountID: id, Amount: 1},
		otherEvent{},
		&AccountClosed{AccountID: id},
	)
	if p.Balance != 2 || p.Status != StatusClosed || p.Currency.MinorUnits != 3 || !p.Opened {
		t.Fatalf("state from pointers = %+v", p)
	}

	// A currency withdrawn after opening still folds.
	h := Type.Fold(AccountOpened{Organization: testOrg, AccountID: id, Owner: "Ada", Currency: "HRK", InitialBalance: 100})
	if h.Currency != (money.Currency{Code: "HRK", MinorUnits: 2}) || h.Balance != 100 {
		t.Fatalf("state with withdrawn currency = %+v", h)
	}
}

type otherEvent struct{}

func (otherEvent) EventType() string { return "Other" }

func TestEventTypes(t *testing.T) {
	for e, want := range map[aggregate.Event]string{
		AccountOpened{}:   "AccountOpened",
		AccountCredited{}: "AccountCredited",
		AccountDebited{}:  "AccountDebited",
		AccountClosed{}:   "AccountClosed",
	} {
		if got := e.EventType(); got != want {
			t.Errorf("%T.EventType() = %q, want %q", e, got, want)
		}
	}
	if Type.StreamType != "account" {
		t.Errorf("StreamType = %q, want account", Type.StreamType)
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	all := []aggregate.Event{
		AccountOpened{Organization: testOrg, AccountID: id, Owner: "Ada Lovelace", Currency: "EUR", InitialBalance: 1250},
		AccountOpened{Organization: testOrg, AccountID: id, Owner: "Zoë", Currency: "JPY"},
		AccountCredited{AccountID: id, Amount: math.MaxInt64, Description: "big \"quoted\" <html> €"},
		AccountCredited{AccountID: id, Amount: 1},
		AccountDebited{AccountID: id, Amount: 500, Description: "coffee"},
		AccountClosed{AccountID: id},
	}
	for _, e := range all {
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("marshal %T: %v", e, err)
		}
		got, err := Type.Decode(e.EventType(), 1, data)
		if err != nil {
			t.Fatalf("Decode(%s, 1, %s): %v", e.EventType(), data, err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("Decode(%s) = %#v, want %#v", data, got, e)
		}
	}
}

func TestEventJSONShape(t *testing.T) {
	tests := []struct {
		e    aggregate.Event
		want string
	}{
		{
			AccountOpened{Organization: testOrg, AccountID: id, Owner: "Ada", Currency: "EUR", InitialBalance: 1250},
			`{"accountId":"` + id + `","organization":"acme","owner":"Ada","currency":"EUR","initialBalance":1250}`,
		},
		{
			AccountCredited{AccountID: id, Amount: 5, Description: "d"},
			`{"accountId":"` + id + `","amount":5,"description":"d","reference":""}`,
		},
		{
			AccountDebited{AccountID: id, Amount: 5, Description: "d"},
			`{"accountId":"` + id + `","amount":5,"description":"d","reference":""}`,
		},
		{
			AccountCredited{AccountID: id, Amount: 5, Description: "d", Reference: "inv-1", Counterparty: &Counterparty{Name: "Bob", Account: "DE89"}},
			`{"accountId":"` + id + `","amount":5,"description":"d","reference":"inv-1","counterparty":{"name":"Bob","account":"DE89"}}`,
		},
		{
			AccountClosed{AccountID: id},
			`{"accountId":"` + id + `"}`,
		},
	}
	for _, tt := range tests {
		data, err := json.Marshal(tt.e)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != tt.want {
			t.Errorf("json(%T) = %s, want %s", tt.e, data, tt.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	if _, err := Type.Decode("AccountFrozen", 1, []byte(`{}`)); !errors.Is(err, aggregate.ErrUnknownEventType) {
		t.Errorf("unknown type: error %v does not wrap ErrUnknownEventType", err)
	}
	if _, err := Type.Decode("AccountOpened", 2, []byte(`{}`)); err == nil {
		t.Error("schema version 2: want error")
	}
	if _, err := Type.Decode("AccountCredited", 1, []byte(`{"amount":"12.50"}`)); err == nil {
		t.Error("amount as string: want error")
	}
	if _, err := Type.Decode("AccountClosed", 1, []byte(`not json`)); err == nil {
		t.Error("invalid JSON: want error")
	}
	// Decode errors are internal: not shown to clients.
	_, err := Type.Decode("AccountClosed", 1, []byte(`not json`))
	if _, ok := apperr.CodeOf(err); ok {
		t.Errorf("decode error %v carries a client code", err)
	}
}

func TestParseID(t *testing.T) {
	valid := map[string]string{
		id:                                     id,
		idUpper:                                id,
		"3f2504e0-4F89-11d3-9a0c-0305E82C3301": id,
	}
	for in, want := range valid {
		got, err := ParseID(in)
		if err != nil || got != uuid.MustParse(want) || got.String() != want {
			t.Errorf("ParseID(%q) = %s, %v; want %s", in, got, err, want)
		}
	}

	invalid := []string{
		"", "x", "not-a-uuid",
		"3f2504e04f8911d39a0c0305e82c3301",              // no hyphens
		"{3f2504e0-4f89-11d3-9a0c-0305e82c3301}",        // braces
		"urn:uuid:3f2504e0-4f89-11d3-9a0c-0305e82c3301", // URN
		" 3f2504e0-4f89-11d3-9a0c-0305e82c3301",
		"3f2504e0-4f89-11d3-9a0c-0305e82c330g",
		"3f2504e0+4f89-11d3-9a0c-0305e82c3301",
		"00000000-0000-0000-0000-000000000000", // nil UUID
		strings.Repeat("z", 1000),
	}
	for _, in := range invalid {
		got, err := ParseID(in)
		if err == nil {
			t.Errorf("ParseID(%q) = %s, want error", in, got)
			continue
		}
		if !errors.Is(err, ErrInvalidInput) {
			t.Errorf("ParseID(%q): error %v does not wrap ErrInvalidInput", in, err)
		}
		assertCode(t, err, apperr.BadUserInput)
		if len(err.Error()) > 120 {
			t.Errorf("ParseID(%q): message too long: %q", in, err)
		}
	}
	_, err := ParseID("x")
	if want := `invalid input: malformed account id "x"`; err == nil || err.Error() != want {
		t.Errorf("ParseID(\"x\") error = %v, want %q", err, want)
	}
}

// TestOtherOrganization: a command on another organization's account is
// NOT_FOUND, exactly as for an account that does not exist, and appends
// nothing.
func TestOtherOrganization(t *testing.T) {
	given := past(opened("EUR", 1000))
	globex := command.Env{StreamID: env.StreamID, Organization: "globex", Actor: "eve"}
	nobody := command.Env{StreamID: env.StreamID, Actor: "eve"}
	for _, tc := range []struct {
		as  command.Env
		cmd command.Command[Account]
	}{
		{globex, CreditAccount{ID: id, Amount: "1.00"}},
		{globex, DebitAccount{ID: id, Amount: "1.00"}},
		{globex, CloseAccount{ID: id}},
		{nobody, CreditAccount{ID: id, Amount: "1.00"}},
	} {
		err := commandtest.Given(t, Type, given...).As(tc.as).When(tc.cmd).ThenError(ErrAccountNotFound)
		assertCode(t, err, apperr.NotFound)
	}
	commandtest.Given(t, Type, given...).As(env).When(CreditAccount{ID: id, Amount: "1.00"}).
		Then(AccountCredited{AccountID: id, Amount: 100})
}
