package payment

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/money"
)

const (
	pid = "0192f3a4-5b6c-7d8e-9f00-112233445566"
	org = "acme"
)

var (
	alice = Caller{Actor: "alice", Organization: org}
	bob   = Caller{Actor: "bob", Organization: org}
	eve   = Caller{Actor: "eve", Organization: "globex"}
)

// scenario: given events, when a command, then exactly these events, or an
// error matching wantErr (errors.Is) and no events.
func scenario(t *testing.T, given []aggregate.Event, when Command, then []aggregate.Event, wantErr error) {
	t.Helper()
	got, err := when.Decide(Type.Fold(given...))
	if wantErr != nil {
		if !errors.Is(err, wantErr) || len(got) != 0 {
			t.Fatalf("%T%+v: got %+v, %v; want no events and %v", when, when, got, err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("%T%+v: unexpected error %v", when, when, err)
	}
	if !reflect.DeepEqual(got, then) {
		t.Fatalf("%T%+v\n got: %#v\nwant: %#v", when, when, got, then)
	}
}

func events(es ...aggregate.Event) []aggregate.Event { return es }

func initiated(amount int64) PaymentInitiated {
	return PaymentInitiated{PaymentID: pid, Organization: org, CustomerName: "Ada Lovelace",
		CustomerEmail: "ada@example.com", Amount: amount, Currency: "EUR", InitiatedBy: "alice"}
}

var (
	processed = PaymentProcessed{PaymentID: pid, ProcessedBy: "bob"}
	failed    = PaymentFailed{PaymentID: pid, Reason: "card declined", FailedBy: "bob"}
)

func refunded(amount int64) PaymentRefunded {
	return PaymentRefunded{PaymentID: pid, Amount: amount, Reason: "returned", RefundedBy: "bob"}
}

func TestInitiatePayment(t *testing.T) {
	ok := InitiatePayment{Caller: alice, PaymentID: pid, CustomerName: "  Ada Lovelace ", CustomerEmail: "ada@EXAMPLE.com",
		Amount: "100.00", Currency: "EUR"}
	scenario(t, nil, ok, events(initiated(10000)), nil)

	with := func(f func(*InitiatePayment)) InitiatePayment { c := ok; f(&c); return c }
	jpy := with(func(c *InitiatePayment) { c.Amount, c.Currency = "1200", "JPY" })
	want := initiated(1200)
	want.Currency = "JPY"
	scenario(t, nil, jpy, events(want), nil)

	for name, tc := range map[string]struct {
		cmd  InitiatePayment
		want error
	}{
		"exists":            {ok, ErrPaymentExists},
		"malformed id":      {with(func(c *InitiatePayment) { c.PaymentID = "42" }), ErrInvalidInput},
		"no organization":   {with(func(c *InitiatePayment) { c.Organization = "" }), ErrInvalidInput},
		"no name":           {with(func(c *InitiatePayment) { c.CustomerName = " " }), ErrInvalidInput},
		"long name":         {with(func(c *InitiatePayment) { c.CustomerName = strings.Repeat("a", 201) }), ErrInvalidInput},
		"control in name":   {with(func(c *InitiatePayment) { c.CustomerName = "Ada\nL" }), ErrInvalidInput},
		"no email":          {with(func(c *InitiatePayment) { c.CustomerEmail = "" }), ErrInvalidInput},
		"email no at":       {with(func(c *InitiatePayment) { c.CustomerEmail = "ada.example.com" }), ErrInvalidInput},
		"email no dot":      {with(func(c *InitiatePayment) { c.CustomerEmail = "ada@localhost" }), ErrInvalidInput},
		"email with name":   {with(func(c *InitiatePayment) { c.CustomerEmail = "Ada <ada@example.com>" }), ErrInvalidInput},
		"email two ats":     {with(func(c *InitiatePayment) { c.CustomerEmail = "a@b@example.com" }), ErrInvalidInput},
		"email too long":    {with(func(c *InitiatePayment) { c.CustomerEmail = strings.Repeat("a", 250) + "@example.com" }), ErrInvalidInput},
		"zero amount":       {with(func(c *InitiatePayment) { c.Amount = "0.00" }), ErrInvalidInput},
		"negative amount":   {with(func(c *InitiatePayment) { c.Amount = "-1.00" }), ErrInvalidInput},
		"malformed amount":  {with(func(c *InitiatePayment) { c.Amount = "1.001" }), money.ErrMalformedAmount},
		"float-ish amount":  {with(func(c *InitiatePayment) { c.Amount = "1e3" }), money.ErrMalformedAmount},
		"unknown currency":  {with(func(c *InitiatePayment) { c.Currency = "XYZ" }), money.ErrUnknownCurrency},
		"lower-case curr.":  {with(func(c *InitiatePayment) { c.Currency = "eur" }), money.ErrUnknownCurrency},
		"JPY with decimals": {with(func(c *InitiatePayment) { c.Amount, c.Currency = "1.5", "JPY" }), money.ErrMalformedAmount},
	} {
		t.Run(name, func(t *testing.T) {
			var given []aggregate.Event
			if name == "exists" {
				given = events(initiated(500))
			}
			scenario(t, given, tc.cmd, nil, tc.want)
			if code, _ := apperr.CodeOf(tc.want); code != apperr.BadUserInput && code != apperr.Conflict {
				t.Fatalf("%v has code %q", tc.want, code)
			}
		})
	}
}

// TestLifecycle covers every (status, command) pair: allowed transitions
// give their event, all others INVALID_STATE_TRANSITION with no event.
func TestLifecycle(t *testing.T) {
	histories := map[Status][]aggregate.Event{
		StatusInitiated:         events(initiated(10000)),
		StatusProcessed:         events(initiated(10000), processed),
		StatusFailed:            events(initiated(10000), failed),
		StatusPartiallyRefunded: events(initiated(10000), processed, refunded(2500)),
		StatusRefunded:          events(initiated(10000), processed, refunded(10000)),
	}
	process := ProcessPayment{Caller: bob, PaymentID: pid}
	fail := FailPayment{Caller: bob, PaymentID: pid, Reason: " card declined "}
	refund := RefundPayment{Caller: bob, PaymentID: pid, Reason: "returned", Amount: "10.00"}
	for status, given := range histories {
		if got := Type.Fold(given...).Status; got != status {
			t.Fatalf("fold of %v = %s, want %s", given, got, status)
		}
		t.Run(string(status), func(t *testing.T) {
			if status == StatusInitiated {
				scenario(t, given, process, events(processed), nil)
				scenario(t, given, fail, events(failed), nil)
			} else {
				scenario(t, given, process, nil, ErrInvalidStateTransition)
				scenario(t, given, fail, nil, ErrInvalidStateTransition)
			}
			if status == StatusProcessed || status == StatusPartiallyRefunded {
				scenario(t, given, refund, events(refunded(1000)), nil)
			} else {
				scenario(t, given, refund, nil, ErrInvalidStateTransition)
			}
		})
	}
	if _, err := process.Decide(Type.Fold(histories[StatusRefunded]...)); err == nil ||
		err.Error() != "invalid state transition: cannot process a REFUNDED payment" {
		t.Fatalf("message: %v", err)
	}
}

func TestRefunds(t *testing.T) {
	given := events(initiated(10000), processed)
	refund := func(amount string) RefundPayment {
		return RefundPayment{Caller: bob, PaymentID: pid, Reason: "returned", Amount: amount}
	}
	// Without an amount: all that is left, which makes it REFUNDED.
	scenario(t, given, refund(""), events(refunded(10000)), nil)
	scenario(t, events(initiated(10000), processed, refunded(2500)), refund(""), events(refunded(7500)), nil)
	// Exactly what is left, in two steps.
	after := append(given, refunded(2500))
	if s := Type.Fold(after...); s.Status != StatusPartiallyRefunded || s.Refundable() != 7500 {
		t.Fatalf("after a partial refund: %+v", s)
	}
	scenario(t, after, refund("75.00"), events(refunded(7500)), nil)
	if s := Type.Fold(append(after, refunded(7500))...); s.Status != StatusRefunded || s.Refundable() != 0 {
		t.Fatalf("after refunding the rest: %+v", s)
	}
	// More than what is left, zero, negative, malformed, no reason.
	_, err := refund("75.01").Decide(Type.Fold(after...))
	if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "refund of 75.01 EUR exceeds the 75.00 EUR left to refund") {
		t.Fatalf("over-refund: %v", err)
	}
	scenario(t, given, refund("0"), nil, ErrInvalidInput)
	scenario(t, given, refund("-5.00"), nil, ErrInvalidInput)
	scenario(t, given, refund("5.001"), nil, money.ErrMalformedAmount)
	scenario(t, given, RefundPayment{Caller: bob, PaymentID: pid, Amount: "1.00"}, nil, ErrInvalidInput)
	scenario(t, given, RefundPayment{Caller: bob, PaymentID: pid, Reason: strings.Repeat("r", 501)}, nil, ErrInvalidInput)
	// A failure reason is required too.
	scenario(t, events(initiated(10000)), FailPayment{Caller: bob, PaymentID: pid, Reason: "\t"}, nil, ErrInvalidInput)
}

// TestActorsComeFromTheCaller: who did what is the caller's identity.
func TestActorsComeFromTheCaller(t *testing.T) {
	carol := Caller{Actor: "carol", Organization: org}
	scenario(t, events(initiated(100)), ProcessPayment{Caller: carol, PaymentID: pid},
		events(PaymentProcessed{PaymentID: pid, ProcessedBy: "carol"}), nil)
	scenario(t, events(initiated(100)), FailPayment{Caller: carol, PaymentID: pid, Reason: "x"},
		events(PaymentFailed{PaymentID: pid, Reason: "x", FailedBy: "carol"}), nil)
	scenario(t, events(initiated(100), processed), RefundPayment{Caller: carol, PaymentID: pid, Reason: "x"},
		events(PaymentRefunded{PaymentID: pid, Amount: 100, Reason: "x", RefundedBy: "carol"}), nil)
}

// TestOtherOrganization: another organization's payment is not found, for
// every command, whatever its status.
func TestOtherOrganization(t *testing.T) {
	given := events(initiated(10000), processed)
	for _, cmd := range []Command{
		ProcessPayment{Caller: eve, PaymentID: pid},
		FailPayment{Caller: eve, PaymentID: pid, Reason: "x"},
		RefundPayment{Caller: eve, PaymentID: pid, Reason: "x"},
		InitiatePayment{Caller: eve, PaymentID: pid, CustomerName: "x", CustomerEmail: "x@y.z", Amount: "1", Currency: "EUR"},
	} {
		want := ErrPaymentNotFound
		if _, ok := cmd.(InitiatePayment); ok {
			want = ErrPaymentExists
		}
		scenario(t, given, cmd, nil, want)
	}
	scenario(t, nil, ProcessPayment{Caller: alice, PaymentID: pid}, nil, ErrPaymentNotFound)
}

func TestDecodeRoundTrip(t *testing.T) {
	for _, e := range []aggregate.Event{initiated(5), processed, failed, refunded(3)} {
		data, err := encodeJSON(e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(e.EventType(), SchemaVersion, data)
		if err != nil || !reflect.DeepEqual(got, e) {
			t.Fatalf("Decode(%s) = %#v, %v; want %#v", data, got, err, e)
		}
	}
	if _, err := Decode("PaymentVanished", 1, []byte(`{}`)); !errors.Is(err, aggregate.ErrUnknownEventType) {
		t.Fatalf("unknown type: %v", err)
	}
	if _, err := Decode(EventPaymentProcessed, 2, []byte(`{}`)); err == nil {
		t.Fatal("unknown schema version decoded")
	}
}

func encodeJSON(e aggregate.Event) ([]byte, error) { return json.Marshal(e) }
