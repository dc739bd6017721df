// Package commandtest runs a bounded context's domain rules as
// given-events / when-command / then-events-or-error scenarios, without a
// database: the one scenario helper of every context's domain tests.
//
//	commandtest.Given(t, account.Type, opened).
//		As(env).
//		When(account.DebitAccount{ID: id, Amount: "10.01"}).
//		ThenError(account.ErrInsufficientFunds)
package commandtest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/command"
)

// Scenario is a given history of one aggregate and who sends the command.
type Scenario[S any] struct {
	t     testing.TB
	typ   aggregate.Type[S]
	given []aggregate.Event
	env   command.Env
}

// Given starts a scenario on the aggregate folded from events (none: an
// aggregate that does not exist yet).
func Given[S any](t testing.TB, typ aggregate.Type[S], events ...aggregate.Event) *Scenario[S] {
	return &Scenario[S]{t: t, typ: typ, given: events}
}

// As sets who sends the command and the stream it acts on.
func (s *Scenario[S]) As(env command.Env) *Scenario[S] {
	s.env = env
	return s
}

// Outcome is what When's command decided.
type Outcome[S any] struct {
	s      *Scenario[S]
	cmd    command.Command[S]
	events []aggregate.Event
	err    error
}

// When runs cmd's Decide on the folded state. Every event it decides must
// be registered with the aggregate's Events and survive a round trip
// through its stored form (encode, decode): what a repository would store is
// what it would read back.
func (s *Scenario[S]) When(cmd command.Command[S]) *Outcome[S] {
	s.t.Helper()
	events, err := cmd.Decide(s.typ.Fold(s.given...), s.env)
	for _, e := range events {
		name, version, data, encErr := s.typ.Events.Encode(e)
		if encErr != nil {
			s.t.Fatalf("%T decided %T, which does not encode: %v", cmd, e, encErr)
		}
		back, decErr := s.typ.Events.Decode(name, version, data)
		if decErr != nil || !reflect.DeepEqual(back, e) {
			s.t.Fatalf("%T decided %#v, which reads back as %#v (%v)", cmd, e, back, decErr)
		}
	}
	return &Outcome[S]{s: s, cmd: cmd, events: events, err: err}
}

// Then checks that the command decided exactly events, without error.
func (o *Outcome[S]) Then(events ...aggregate.Event) {
	o.s.t.Helper()
	if o.err != nil {
		o.s.t.Fatalf("%T%+v: unexpected error %v", o.cmd, o.cmd, o.err)
	}
	if !reflect.DeepEqual(o.events, events) {
		o.s.t.Fatalf("%T%+v\n got: %#v\nwant: %#v", o.cmd, o.cmd, o.events, events)
	}
}

// ThenError checks that the command failed with an error matching target
// (errors.Is) and decided no events. It returns the error, for checks of its
// message or code.
func (o *Outcome[S]) ThenError(target error) error {
	o.s.t.Helper()
	if o.err == nil {
		o.s.t.Fatalf("%T%+v = %#v, want error %v", o.cmd, o.cmd, o.events, target)
	}
	if !errors.Is(o.err, target) {
		o.s.t.Fatalf("%T%+v: error %q does not match %q", o.cmd, o.cmd, o.err, target)
	}
	if len(o.events) != 0 {
		o.s.t.Fatalf("%T%+v returned events %+v with error %v", o.cmd, o.cmd, o.events, o.err)
	}
	return o.err
}

// Err returns the command's error (nil if it decided events).
func (o *Outcome[S]) Err() error { return o.err }

// Events returns the events the command decided.
func (o *Outcome[S]) Events() []aggregate.Event { return o.events }
