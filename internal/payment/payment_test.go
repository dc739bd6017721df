package payment

import (
	"errors"
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
	pid = "0192f3a4-5b6c-7d8e-9f00-112233445566"
	org = "acme"
)

// Who sends the commands, on payment pid: alice and bob of org, eve of
// another organization.
var (
	alice = as("alice", org)
	bob   = as("bob", org)
	eve   = as("eve", "globex")
)

func as(actor, organization string) command.Env {
	return command.Env{StreamID: uuid.MustParse(pid), Actor: actor, Organization: organization}
}

// history is a given stream of events.
func past(es ...aggregate.Event) []aggregate.Event { return es }

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
	ok := InitiatePayment{CustomerName: "  Ada Lovelace ", CustomerEmail: "ada@EXAMPLE.com", Amount: "100.00", Currency: "EUR"}
	commandtest.Given(t, Type).As(alice).When(ok).Then(initiated(10000))

	with := func(f func(*InitiatePayment)) InitiatePayment { c := ok; f(&c); return c }
	jpy := with(func(c *InitiatePayment) { c.Amount, c.Currency = "1200", "JPY" })
	want := initiated(1200)
	want.Currency = "JPY"
	commandtest.Given(t, Type).As(alice).When(jpy).Then(want)

	for name, tc := range map[string]struct {
		cmd  InitiatePayment
		want error
	}{
		"exists":            {ok, ErrPaymentExists},
		"no organization":   {ok, ErrInvalidInput},
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
			sender := alice
			switch name {
			case "exists":
				given = past(initiated(500))
			case "no organization":
				sender.Organization = ""
			}
			err := commandtest.Given(t, Type, given...).As(sender).When(tc.cmd).ThenError(tc.want)
			if code, _ := apperr.CodeOf(err); code != apperr.BadUserInput && code != apperr.Conflict {
				t.Fatalf("%v has code %q", err, code)
			}
		})
	}
}

// TestLifecycle covers every (status, command) pair: allowed transitions
// give their event, all others INVALID_STATE_TRANSITION with no event.
func TestLifecycle(t *testing.T) {
	histories := map[Status][]aggregate.Event{
		StatusInitiated:         past(initiated(10000)),
		StatusProcessed:         past(initiated(10000), processed),
		StatusFailed:            past(initiated(10000), failed),
		StatusPartiallyRefunded: past(initiated(10000), processed, refunded(2500)),
		StatusRefunded:          past(initiated(10000), processed, refunded(10000)),
	}
	process := ProcessPayment{ID: pid}
	fail := FailPayment{ID: pid, Reason: " card declined "}
	refund := RefundPayment{ID: pid, Reason: "returned", Amount: "10.00"}
	for status, given := range histories {
		if got := Type.Fold(given...).Status; got != status {
			t.Fatalf("fold of %v = %s, want %s", given, got, status)
		}
		t.Run(string(status), func(t *testing.T) {
			when := func(cmd command.Command[Payment]) *commandtest.Outcome[Payment] {
				return commandtest.Given(t, Type, given...).As(bob).When(cmd)
			}
			if status == StatusInitiated {
				when(process).Then(processed)
				when(fail).Then(failed)
			} else {
				when(process).ThenError(ErrInvalidStateTransition)
				when(fail).ThenError(ErrInvalidStateTransition)
			}
			if status == StatusProcessed || status == StatusPartiallyRefunded {
				when(refund).Then(refunded(1000))
			} else {
				when(refund).ThenError(ErrInvalidStateTransition)
			}
		})
	}
	err := commandtest.Given(t, Type, histories[StatusRefunded]...).As(bob).When(process).ThenError(ErrInvalidStateTransition)
	if err.Error() != "invalid state transition: cannot process a REFUNDED payment" {
		t.Fatalf("message: %v", err)
	}
	if code, _ := apperr.CodeOf(err); code != CodeInvalidStateTransition {
		t.Fatalf("code %q, want %q", code, CodeInvalidStateTransition)
	}
}

func TestRefunds(t *testing.T) {
	given := past(initiated(10000), processed)
	refund := func(amount string) RefundPayment {
		return RefundPayment{ID: pid, Reason: "returned", Amount: amount}
	}
	when := func(given []aggregate.Event, cmd command.Command[Payment]) *commandtest.Outcome[Payment] {
		t.Helper()
		return commandtest.Given(t, Type, given...).As(bob).When(cmd)
	}
	// Without an amount: all that is left, which makes it REFUNDED.
	when(given, refund("")).Then(refunded(10000))
	when(past(initiated(10000), processed, refunded(2500)), refund("")).Then(refunded(7500))
	// Exactly what is left, in two steps.
	after := append(given, refunded(2500))
	if s := Type.Fold(after...); s.Status != StatusPartiallyRefunded || s.Refundable() != 7500 {
		t.Fatalf("after a partial refund: %+v", s)
	}
	when(after, refund("75.00")).Then(refunded(7500))
	if s := Type.Fold(append(after, refunded(7500))...); s.Status != StatusRefunded || s.Refundable() != 0 {
		t.Fatalf("after refunding the rest: %+v", s)
	}
	// More than what is left, zero, negative, malformed, no reason.
	err := when(after, refund("75.01")).ThenError(ErrInvalidInput)
	if !strings.Contains(err.Error(), "refund of 75.01 EUR exceeds the 75.00 EUR left to refund") {
		t.Fatalf("over-refund: %v", err)
	}
	when(given, refund("0")).ThenError(ErrInvalidInput)
	when(given, refund("-5.00")).ThenError(ErrInvalidInput)
	when(given, refund("5.001")).ThenError(money.ErrMalformedAmount)
	when(given, RefundPayment{ID: pid, Amount: "1.00"}).ThenError(ErrInvalidInput)
	when(given, RefundPayment{ID: pid, Reason: strings.Repeat("r", 501)}).ThenError(ErrInvalidInput)
	// A failure reason is required too.
	when(past(initiated(10000)), FailPayment{ID: pid, Reason: "\t"}).ThenError(ErrInvalidInput)
}

// TestActorsComeFromTheCaller: who did what is the sender's identity
// (command.Env.Actor), never a field of the command.
func TestActorsComeFromTheCaller(t *testing.T) {
	carol := as("carol", org)
	commandtest.Given(t, Type, initiated(100)).As(carol).When(ProcessPayment{ID: pid}).
		Then(PaymentProcessed{PaymentID: pid, ProcessedBy: "carol"})
	commandtest.Given(t, Type, initiated(100)).As(carol).When(FailPayment{ID: pid, Reason: "x"}).
		Then(PaymentFailed{PaymentID: pid, Reason: "x", FailedBy: "carol"})
	commandtest.Given(t, Type, initiated(100), processed).As(carol).When(RefundPayment{ID: pid, Reason: "x"}).
		Then(PaymentRefunded{PaymentID: pid, Amount: 100, Reason: "x", RefundedBy: "carol"})
	initiatedByCarol := initiated(100)
	initiatedByCarol.InitiatedBy = "carol"
	commandtest.Given(t, Type).As(carol).When(InitiatePayment{CustomerName: "Ada Lovelace", CustomerEmail: "ada@example.com", Amount: "1.00", Currency: "EUR"}).
		Then(initiatedByCarol)
}

// TestOtherOrganization: another organization's payment is not found, for
// every command, whatever its status.
func TestOtherOrganization(t *testing.T) {
	given := past(initiated(10000), processed)
	for _, cmd := range []command.Command[Payment]{
		ProcessPayment{ID: pid},
		FailPayment{ID: pid, Reason: "x"},
		RefundPayment{ID: pid, Reason: "x"},
		InitiatePayment{CustomerName: "x", CustomerEmail: "x@y.z", Amount: "1", Currency: "EUR"},
	} {
		want := ErrPaymentNotFound
		if _, ok := cmd.(InitiatePayment); ok {
			want = ErrPaymentExists
		}
		commandtest.Given(t, Type, given...).As(eve).When(cmd).ThenError(want)
	}
	err := commandtest.Given(t, Type).As(alice).When(ProcessPayment{ID: pid}).ThenError(ErrPaymentNotFound)
	if code, _ := apperr.CodeOf(err); code != apperr.NotFound {
		t.Fatalf("code %q, want NOT_FOUND", code)
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	for _, e := range []aggregate.Event{initiated(5), processed, failed, refunded(3)} {
		name, version, data, err := Type.Events.Encode(e)
		if err != nil || name != e.EventType() || version != 1 {
			t.Fatalf("Encode(%#v) = %s v%d, %v; want %s v1", e, name, version, err, e.EventType())
		}
		got, err := Type.Decode(name, version, data)
		if err != nil || !reflect.DeepEqual(got, e) {
			t.Fatalf("Decode(%s) = %#v, %v; want %#v", data, got, err, e)
		}
	}
	if _, err := Type.Decode("PaymentVanished", 1, []byte(`{}`)); !errors.Is(err, aggregate.ErrUnknownEventType) {
		t.Fatalf("unknown type: %v", err)
	}
	if _, err := Type.Decode(EventPaymentProcessed, 2, []byte(`{}`)); err == nil {
		t.Fatal("unknown schema version decoded")
	}
}
