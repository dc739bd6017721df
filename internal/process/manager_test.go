package process_test

// Tests of the process-manager engine against a real PostgreSQL with a toy
// process manager: "toy" streams carry Ping events naming an account; each
// Ping credits that account 1.00 through the accounts context's command
// handler (so the store's idempotency keys are the real ones), and may set a
// "remind" deadline an hour after the Ping, which credits 0.01 when it fires.
// A Stop event clears the deadline.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/account"
	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/module"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/chronicle-es/chronicle/internal/process"
	"github.com/chronicle-es/chronicle/internal/process/processtest"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	tenant    = "acme"
	waitLimit = 30 * time.Second
)

// ping is the data of the toy events.
type ping struct {
	Account  string `json:"account"`
	Deadline bool   `json:"deadline,omitempty"`
	// Amount, when set, is credited instead of 1.00.
	Amount string `json:"amount,omitempty"`
}

// EventType implements aggregate.Event (unused: the toy events are
// appended raw).
func (ping) EventType() string { return "Ping" }

type toyState struct {
	Pings    int `json:"pings"`
	Reminded int `json:"reminded"`
	Refused  int `json:"refused"`
}

type credit struct {
	ID     string `json:"id"`
	Amount string `json:"amount"`
}

// instance is one server's worth of the toy: an engine running the toy
// process manager, and the accounts handler it sends through.
type instance struct {
	name       string
	manager    *process.Manager
	cancel     context.CancelFunc
	done       chan struct{}
	dispatched atomic.Int64
}

type env struct {
	t     *testing.T
	pool  *pgxpool.Pool
	store *eventstore.Store
	accts *account.App
	clock *processtest.Clock
	// failFirst, when set, fails a send before it is made when it says so.
	failFirst func(c process.Command) bool
}

func newEnv(t *testing.T) *env {
	t.Helper()
	t.Parallel()
	pool, _ := pgtest.NewPool(t)
	store := eventstore.New(pool)
	accts := account.New(module.Deps{Pool: pool, Store: store, Commands: command.Deps{Store: store, Waiter: nopWaiter{}}})
	return &env{t: t, pool: pool, store: store, accts: accts, clock: processtest.NewClock(time.Now())}
}

type nopWaiter struct{}

func (nopWaiter) WaitFor(ctx context.Context, _ string, _ eventstore.Checkpoint) error { return nil }

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	t.Cleanup(cancel)
	return ctx
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// definition is the toy process manager; afterSend, when set, runs after
// each successful send and may replace its answer (to simulate a crash).
func (e *env) definition(inst *instance, afterSend func(c process.Command) error) process.Definition[toyState] {
	return process.Definition[toyState]{
		Name: "toy",
		Route: func(re eventstore.RecordedEvent) (string, aggregate.Event, bool, error) {
			if re.StreamType != "toy" {
				return "", nil, false, nil
			}
			var p ping
			if err := json.Unmarshal(re.Data, &p); err != nil {
				return "", nil, false, err
			}
			return p.Account, p, true, nil
		},
		Handle: func(s toyState, ev process.Event) (toyState, process.Effects) {
			p := ev.Data.(ping)
			if ev.Type == "Stop" {
				return s, process.Effects{Clear: []string{"remind"}}
			}
			s.Pings++
			amount := "1.00"
			if p.Amount != "" {
				amount = p.Amount
			}
			eff := process.Effects{Send: []process.Send{{Step: "credit", Command: "credit", Payload: credit{ID: p.Account, Amount: amount}}}}
			if p.Deadline {
				eff.Set = []process.Deadline{{Kind: "remind", DueAt: ev.RecordedAt.Add(time.Hour)}}
			}
			return s, eff
		},
		// A refused credit is answered with a credit of 0.05.
		OnRefused: func(s toyState, c process.Command, err error) (toyState, process.Effects) {
			s.Refused++
			return s, process.Effects{Send: []process.Send{{Step: "make-good", Command: "credit", Payload: credit{Amount: "0.05"}}}}
		},
		OnDeadline: func(s toyState, kind string, _ time.Time) (toyState, process.Effects) {
			s.Reminded++
			return s, process.Effects{Send: []process.Send{{Step: kind, Command: "credit", Payload: credit{ID: "", Amount: "0.01"}}}}
		},
		Dispatch: func(ctx context.Context, c process.Command, opts command.Options) error {
			if e.failFirst != nil && e.failFirst(c) {
				return errors.New("the database is away")
			}
			var cr credit
			if err := json.Unmarshal(c.Payload, &cr); err != nil {
				return err
			}
			if cr.ID == "" {
				cr.ID = c.ProcessID
			}
			_, err := e.accts.Commands.Handle(ctx, account.CreditAccount{ID: cr.ID, Amount: cr.Amount, Description: "toy"}, opts)
			if err == nil {
				inst.dispatched.Add(1)
				if afterSend != nil {
					err = afterSend(c)
				}
			}
			return err
		},
	}
}

// start runs one instance until stopped.
func (e *env) start(name string, afterSend func(inst *instance, c process.Command) error) *instance {
	e.t.Helper()
	inst := &instance{name: name, done: make(chan struct{})}
	var hook func(process.Command) error
	if afterSend != nil {
		hook = func(c process.Command) error { return afterSend(inst, c) }
	}
	inst.manager = process.New(e.definition(inst, hook), process.Config{Pool: e.pool, Now: e.clock.Now, PollInterval: 20 * time.Millisecond, Logger: quiet()})
	eng, err := projection.NewEngine(e.pool, projection.Config{PollInterval: 50 * time.Millisecond, LockRetryInterval: 20 * time.Millisecond, Logger: quiet()}, inst.manager)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	inst.cancel = cancel
	go func() {
		defer close(inst.done)
		_ = eng.Run(ctx)
	}()
	e.t.Cleanup(inst.stop)
	return inst
}

func (i *instance) stop() {
	i.cancel()
	<-i.done
}

func (e *env) openAccount() string {
	e.t.Helper()
	res, err := e.accts.Commands.Handle(ctxFor(e.t), account.OpenAccount{Owner: "Toy", Currency: "EUR", InitialBalance: "0"},
		command.Options{Caller: caller.Caller{Actor: "test", Organization: tenant}, SkipView: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return res.ID.String()
}

// ping appends one toy event of type typ for the account, with a
// correlation id.
func (e *env) ping(typ, acct string, deadline bool, correlation string) uuid.UUID {
	e.t.Helper()
	data, _ := json.Marshal(ping{Account: acct, Deadline: deadline})
	res, err := e.store.Append(ctxFor(e.t), eventstore.AppendRequest{
		StreamID: uuid.Must(uuid.NewV7()), StreamType: "toy", ExpectedVersion: eventstore.NoStream,
		Events:   []eventstore.EventData{{Type: typ, Data: data}},
		Metadata: eventstore.Metadata{Actor: "test", Tenant: tenant, CorrelationID: correlation},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	var id uuid.UUID
	if err := e.pool.QueryRow(ctxFor(e.t), `SELECT event_id FROM events WHERE position = $1`, res.LastPosition).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) balance(acct string) int64 {
	e.t.Helper()
	a, _, err := e.accts.Commands.Load(ctxFor(e.t), uuid.MustParse(acct))
	if err != nil {
		e.t.Fatal(err)
	}
	return a.Balance
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(ctxFor(e.t), query, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not after %v", what, waitLimit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// credits returns the metadata of the account's AccountCredited events.
func (e *env) credits(acct string) []eventstore.Metadata {
	e.t.Helper()
	evs, err := e.store.ReadStream(ctxFor(e.t), uuid.MustParse(acct), 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []eventstore.Metadata
	for _, ev := range evs {
		if ev.Type == "AccountCredited" {
			out = append(out, ev.Metadata)
		}
	}
	return out
}

// TestExactlyOnceAcrossACrash: the active instance "crashes" after sending
// commands and before deleting their outbox rows (its dispatch succeeds,
// then the instance is stopped and the send reports the crash). The standby
// takes over and sends those rows again with the same idempotency keys: the
// store answers Duplicate, and every Ping credits exactly once, with the
// Ping's id as causation and its correlation id.
func TestExactlyOnceAcrossACrash(t *testing.T) {
	e := newEnv(t)
	acct := e.openAccount()
	var crashed atomic.Bool
	a := e.start("a", func(inst *instance, c process.Command) error {
		if inst.dispatched.Load() >= 5 {
			if crashed.CompareAndSwap(false, true) {
				go inst.stop()
			}
			return errors.New("crashed before the outbox row was deleted")
		}
		return nil
	})
	const pings = 30
	causes := map[string]string{}
	for i := range pings {
		corr := fmt.Sprintf("corr-%d", i)
		causes[e.ping("Ping", acct, false, corr).String()] = corr
	}
	e.eventually("instance a crashes", crashed.Load)
	<-a.done
	if e.count(`SELECT count(*) FROM process_outbox`) == 0 {
		t.Fatal("the crash left no outbox rows: nothing to test")
	}
	b := e.start("b", nil)
	e.eventually("every ping handled and the outbox drained", func() bool {
		return e.count(`SELECT count(*) FROM process_outbox`) == 0 &&
			e.count(`SELECT coalesce((SELECT (state->>'pings')::int FROM process_states WHERE process_id = $1), 0)`, acct) == pings
	})
	if got := e.balance(acct); got != pings*100 {
		t.Fatalf("balance %d minor units after %d pings, want %d (a command took effect twice or not at all)", got, pings, pings*100)
	}
	credits := e.credits(acct)
	if len(credits) != pings {
		t.Fatalf("%d credits, want %d", len(credits), pings)
	}
	for _, md := range credits {
		corr, ok := causes[md.CausationID]
		if !ok || md.CorrelationID != corr || md.Actor != "process:toy" || md.Tenant != tenant {
			t.Fatalf("credit metadata %+v: want causation one Ping's id, its correlation id, actor process:toy", md)
		}
	}
	if a.dispatched.Load() < 5 || b.dispatched.Load() == 0 {
		t.Fatalf("a sent %d, b %d: want both to have sent", a.dispatched.Load(), b.dispatched.Load())
	}
	var state toyState
	var raw []byte
	if err := e.pool.QueryRow(ctxFor(t), `SELECT state FROM process_states WHERE name = 'toy' AND process_id = $1`, acct).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &state); err != nil || state.Pings != pings {
		t.Fatalf("state %s (%v), want %d pings", raw, err, pings)
	}
}

// TestOneActiveInstance: of three instances only one sends; when it stops,
// exactly one other takes over and sends the rest.
func TestOneActiveInstance(t *testing.T) {
	e := newEnv(t)
	acct := e.openAccount()
	insts := []*instance{e.start("a", nil), e.start("b", nil), e.start("c", nil)}
	for i := range 10 {
		e.ping("Ping", acct, false, fmt.Sprint(i))
	}
	e.eventually("10 credits", func() bool { return e.balance(acct) == 1000 })
	active := activeOf(t, insts, 10)
	active.stop()
	for i := range 10 {
		e.ping("Ping", acct, false, fmt.Sprint(10+i))
	}
	e.eventually("20 credits", func() bool { return e.balance(acct) == 2000 })
	var rest []*instance
	for _, in := range insts {
		if in != active {
			rest = append(rest, in)
		}
	}
	activeOf(t, rest, 10)
}

// activeOf returns the one instance of insts that has sent n commands since
// the last call, failing when another sent any.
func activeOf(t *testing.T, insts []*instance, n int64) *instance {
	t.Helper()
	var active *instance
	var report []string
	for _, in := range insts {
		got := in.dispatched.Swap(0)
		report = append(report, fmt.Sprintf("%s:%d", in.name, got))
		switch {
		case got == n && active == nil:
			active = in
		case got != 0:
			active = nil
			t.Fatalf("sends by instance: %s; want all %d from one", strings.Join(report, " "), n)
		}
	}
	if active == nil {
		t.Fatalf("sends by instance: %s; want all %d from one", strings.Join(report, " "), n)
	}
	return active
}

// TestDeadlines: a deadline fires once, on the injected clock, after the
// instance that set it stopped; a cleared one never fires.
func TestDeadlines(t *testing.T) {
	e := newEnv(t)
	fires, stops := e.openAccount(), e.openAccount()
	a := e.start("a", nil)
	e.ping("Ping", fires, true, "c1")
	e.ping("Ping", stops, true, "c2")
	e.eventually("both pings credited", func() bool { return e.balance(fires) == 100 && e.balance(stops) == 100 })
	if n := e.count(`SELECT count(*) FROM process_deadlines WHERE name = 'toy'`); n != 2 {
		t.Fatalf("%d deadlines, want 2", n)
	}
	e.ping("Stop", stops, false, "c3")
	e.eventually("the stopped deadline is cleared", func() bool {
		return e.count(`SELECT count(*) FROM process_deadlines WHERE process_id = $1`, stops) == 0
	})
	a.stop()

	// Not due yet: nothing fires.
	e.clock.Advance(59 * time.Minute)
	b := e.start("b", nil)
	if n, err := b.manager.FireDue(ctxFor(t)); err != nil || n != 0 {
		t.Fatalf("FireDue before the deadline = %d, %v", n, err)
	}
	e.clock.Advance(2 * time.Minute)
	e.eventually("the deadline fires", func() bool { return e.balance(fires) == 101 })
	if n, err := b.manager.FireDue(ctxFor(t)); err != nil || n != 0 {
		t.Fatalf("FireDue after the deadline fired = %d, %v: want it gone", n, err)
	}
	e.eventually("the outbox drains", func() bool { return e.count(`SELECT count(*) FROM process_outbox`) == 0 })
	if got := e.balance(fires); got != 101 {
		t.Fatalf("balance %d, want 101: the deadline fired more than once", got)
	}
	if got := e.balance(stops); got != 100 {
		t.Fatalf("balance %d of the stopped process, want 100: a cleared deadline fired", got)
	}
	credits := e.credits(fires)
	if last := credits[len(credits)-1]; last.CorrelationID != "c1" || last.Actor != "process:toy" {
		t.Fatalf("the deadline's credit carries %+v, want the correlation id of the Ping that set it", last)
	}
}

// TestRefusalsAndRetries: a command its context refuses (BAD_USER_INPUT) is
// not sent again and runs OnRefused, whose own command goes out; a send
// that fails otherwise stays in the outbox and goes out
// later, once.
func TestRefusalsAndRetries(t *testing.T) {
	e := newEnv(t)
	refused, flaky := e.openAccount(), e.openAccount()
	var failures atomic.Int64
	e.failFirst = func(c process.Command) bool {
		return c.ProcessID == flaky && failures.Add(1) <= 3
	}
	e.start("a", nil)
	e.ping("Ping", refused, false, "r")
	data, _ := json.Marshal(ping{Account: refused, Amount: "-1.00"})
	if _, err := e.store.Append(ctxFor(t), eventstore.AppendRequest{
		StreamID: uuid.Must(uuid.NewV7()), StreamType: "toy", ExpectedVersion: eventstore.NoStream,
		Events: []eventstore.EventData{{Type: "Ping", Data: data}}, Metadata: eventstore.Metadata{Tenant: tenant, CorrelationID: "bad"},
	}); err != nil {
		t.Fatal(err)
	}
	e.ping("Ping", flaky, false, "f")
	e.eventually("both settle", func() bool {
		return e.balance(refused) == 105 && e.balance(flaky) == 100 && e.count(`SELECT count(*) FROM process_outbox`) == 0
	})
	if n := failures.Load(); n < 4 {
		t.Fatalf("the flaky send was tried %d times, want 3 failures and a success", n)
	}
	if n := e.count(`SELECT (state->>'refused')::int FROM process_states WHERE process_id = $1`, refused); n != 1 {
		t.Fatalf("OnRefused ran %d times, want once", n)
	}
	if got := len(e.credits(flaky)); got != 1 {
		t.Fatalf("%d credits after retries, want 1", got)
	}
}
