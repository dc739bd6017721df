package server_test

// Several server instances on one database: subscriptions served by one
// instance see the changes made through another (the projection runs on one
// instance only and rings the others through Redis), a standby instance takes
// the projection over when the active one stops, and a Redis outage delays
// live updates without losing any.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/chronicle-es/chronicle/internal/redistest"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
)

// runnerActive is what a server logs when its runner of a projection has
// won the projection's lock.
const runnerActive = "projection runner active"

// startCluster starts n servers on one fresh database. The first one is
// started alone and waited for until its projection runner is active, so
// that it runs the projection and the others are standbys. tune adjusts
// servertest.Config() (DatabaseURL already set) for every server.
func startCluster(t *testing.T, n int, tune func(*config.Config)) []*servertest.Server {
	t.Helper()
	cfg := servertest.Config()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	if tune != nil {
		tune(&cfg)
	}
	first := servertest.StartWith(t, cfg)
	waitLog(t, first, runnerActive, 15*time.Second)
	srvs := []*servertest.Server{first}
	for range n - 1 {
		srvs = append(srvs, servertest.StartWith(t, cfg))
	}
	return srvs
}

// waitLog waits until srv has logged want.
func waitLog(t *testing.T, srv *servertest.Server, want string, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, fmt.Sprintf("%q in the log of the server at %s", want, srv.URL), func() bool {
		return strings.Contains(srv.Log(), want)
	})
}

func nextOperation(t *testing.T, f servertest.Feed, d time.Duration) operationEdge {
	t.Helper()
	var out struct {
		AccountOperations operationEdge `json:"accountOperations"`
	}
	if err := json.Unmarshal(f.Next(t, d), &out); err != nil {
		t.Fatalf("%s: %v", f.Name(), err)
	}
	return out.AccountOperations
}

func nextAccount(t *testing.T, f servertest.Feed, d time.Duration) account {
	t.Helper()
	var out struct {
		AccountUpdated account `json:"accountUpdated"`
	}
	if err := json.Unmarshal(f.Next(t, d), &out); err != nil {
		t.Fatalf("%s: %v", f.Name(), err)
	}
	return out.AccountUpdated
}

// ledger is what a test expects of one account: the balance after each
// version, in cents (EUR).
type ledger struct {
	id       string
	balances map[int]int // version -> balance in cents
	version  int
}

func newLedger(id string, initialCents int) *ledger {
	return &ledger{id: id, balances: map[int]int{1: initialCents}, version: 1}
}

// move credits (cents > 0) or debits the account through c and records the
// result; the payload must be up to date unless lenient.
func (l *ledger) move(t *testing.T, c *servertest.Client, cents int) payload {
	t.Helper()
	input := servertest.Vars{"id": l.id, "amount": formatCents(max(cents, -cents)), "description": fmt.Sprint("move ", l.version+1)}
	var p payload
	if cents >= 0 {
		p = credit(t, c, input)
	} else {
		p = debit(t, c, input)
	}
	l.record(t, p, cents)
	if !p.UpToDate || p.Account == nil || p.Account.Version != p.Version || p.Account.Balance.Amount != formatCents(l.balances[p.Version]) {
		t.Fatalf("payload of version %d = %+v (account %+v), want up to date with %s", p.Version, p, p.Account, formatCents(l.balances[p.Version]))
	}
	return p
}

// record notes the result of a credit (cents > 0) or debit.
func (l *ledger) record(t *testing.T, p payload, cents int) {
	t.Helper()
	if p.Version != l.version+1 {
		t.Fatalf("mutation gave version %d, want %d", p.Version, l.version+1)
	}
	l.balances[p.Version] = l.balances[l.version] + cents
	l.version = p.Version
}

// expectOperations reads the operations of versions from..to from f: each
// once, in order, with the right balance.
func (l *ledger) expectOperations(t *testing.T, f servertest.Feed, from, to int, d time.Duration) {
	t.Helper()
	for v := from; v <= to; v++ {
		e := nextOperation(t, f, d)
		if e.Node.Version != v {
			t.Fatalf("%s: operation of version %d, want %d (%+v)", f.Name(), e.Node.Version, v, e)
		}
		if want := formatCents(l.balances[v]); e.Node.BalanceAfter != (money{want, "EUR"}) || e.Cursor == "" {
			t.Fatalf("%s: operation %d = %+v, want balance after %s and a cursor", f.Name(), v, e, want)
		}
	}
}

// expectAccount reads the account from f until it reaches version to: the
// versions increase strictly (changes may be coalesced, never repeated), and
// each carries its balance.
func (l *ledger) expectAccount(t *testing.T, f servertest.Feed, after, to int, d time.Duration) {
	t.Helper()
	last := after
	for last < to {
		a := nextAccount(t, f, d)
		if a.ID != l.id || a.Version <= last || a.Version > to {
			t.Fatalf("%s: account version %d after %d, want one in (%d, %d] (%+v)", f.Name(), a.Version, last, last, to, a)
		}
		if want := formatCents(l.balances[a.Version]); a.Balance != (money{want, "EUR"}) || a.Status != "OPEN" {
			t.Fatalf("%s: account %+v, want balance %s at version %d", f.Name(), a, want, a.Version)
		}
		last = a.Version
	}
}

// TestMultiInstanceDelivery runs three servers on one database and one
// Redis: the first runs the projection, mutations go to it, and
// subscriptions on the other two (WebSocket, both subprotocols, and SSE)
// receive every change, in order, exactly once.
func TestMultiInstanceDelivery(t *testing.T) {
	t.Parallel()
	srvs := startCluster(t, 3, func(c *config.Config) {
		c.RedisURL = redistest.SharedURL()
		c.ReadYourWritesTimeout = 15 * time.Second
	})
	a, b, c := srvs[0], srvs[1], srvs[2]
	ca := a.Client()
	id := open(t, ca, servertest.Vars{"owner": "Cluster " + randomSuffix(), "currency": "EUR", "initialBalance": "100.00"}).Account.ID
	l := newLedger(id, 10000)
	vars := servertest.Vars{"id": id}

	ws := b.MustDialWS(t, servertest.GraphQLTransportWS, nil)
	mustInit(t, ws, nil)
	bm := servertest.NewWSMux(ws)
	legacy := b.MustDialWS(t, servertest.GraphQLWS, nil)
	mustInit(t, legacy, nil)
	lm := servertest.NewWSMux(legacy)
	cc := c.Client()
	local := a.MustDialWS(t, servertest.GraphQLTransportWS, nil)
	mustInit(t, local, nil)
	am := servertest.NewWSMux(local)

	ops := []servertest.Feed{
		bm.Subscribe(t, "B ws ops", "ops", accountOperationsSub, vars),
		lm.Subscribe(t, "B legacy ops", "1", accountOperationsSub, vars),
		servertest.SSEFeed(t, cc, "C sse ops", accountOperationsSub, vars),
		am.Subscribe(t, "A ws ops", "ops", accountOperationsSub, vars),
	}
	accs := []servertest.Feed{
		bm.Subscribe(t, "B ws acc", "acc", accountUpdatedSub, vars),
		lm.Subscribe(t, "B legacy acc", "2", accountUpdatedSub, vars),
		servertest.SSEFeed(t, cc, "C sse acc", accountUpdatedSub, vars),
		am.Subscribe(t, "A ws acc", "acc", accountUpdatedSub, vars),
	}
	// accountUpdated starts with the current state: the subscription is
	// live before the first change.
	for _, f := range accs {
		l.expectAccount(t, f, 0, 1, 10*time.Second)
	}
	for _, f := range ops {
		f.Quiet(t, 50*time.Millisecond)
	}

	// One change at a time: every subscriber sees each version.
	for i := range 6 {
		cents := 250
		if i%2 == 1 {
			cents = -100
		}
		p := l.move(t, ca, cents)
		for _, f := range ops {
			l.expectOperations(t, f, p.Version, p.Version, 10*time.Second)
		}
		for _, f := range accs {
			l.expectAccount(t, f, p.Version-1, p.Version, 10*time.Second)
		}
	}

	// A burst: the operations all arrive in order, each once; the account
	// may skip versions but reaches the last one.
	from := l.version + 1
	for i := range 25 {
		l.move(t, ca, 10+i)
	}
	for _, f := range ops {
		l.expectOperations(t, f, from, l.version, 10*time.Second)
	}
	for _, f := range accs {
		l.expectAccount(t, f, from-1, l.version, 10*time.Second)
	}
	// Nothing more: nothing was delivered twice.
	for _, f := range append(ops, accs...) {
		f.Quiet(t, 200*time.Millisecond)
	}
	if got := getAccount(t, cc, id); got.Version != l.version || got.Balance.Amount != formatCents(l.balances[l.version]) {
		t.Errorf("account on C = %+v, want version %d with %s", got, l.version, formatCents(l.balances[l.version]))
	}
	// B and C never ran the projection: what their subscribers got came
	// from A through Redis.
	for _, s := range []*servertest.Server{b, c} {
		if strings.Contains(s.Log(), runnerActive) {
			t.Errorf("the server at %s ran the projection; want only the first one to", s.URL)
		}
	}
}

// TestMultiInstanceTakeover stops the server that runs the projection while
// mutations keep flowing to a standby: the standby takes the projection
// over within a few seconds, its subscriber receives every operation once
// and in order, and mutation payloads are up to date again.
func TestMultiInstanceTakeover(t *testing.T) {
	t.Parallel()
	srvs := startCluster(t, 2, func(c *config.Config) {
		c.RedisURL = redistest.SharedURL()
		c.ReadYourWritesTimeout = 3 * time.Second
	})
	active, standby := srvs[0], srvs[1]
	c := standby.Client()
	id := open(t, c, servertest.Vars{"owner": "Takeover " + randomSuffix(), "currency": "EUR"}).Account.ID

	ws := standby.MustDialWS(t, servertest.GraphQLTransportWS, nil)
	mustInit(t, ws, nil)
	m := servertest.NewWSMux(ws)
	ops := m.Subscribe(t, "standby ops", "ops", accountOperationsSub, servertest.Vars{"id": id})
	// The feeds are read once the mutations are done: one connection each,
	// so that neither holds more than its buffer of 1024 messages.
	ws2 := standby.MustDialWS(t, servertest.GraphQLWS, nil)
	mustInit(t, ws2, nil)
	acc := servertest.NewWSMux(ws2).Subscribe(t, "standby acc", "acc", accountUpdatedSub, servertest.Vars{"id": id})
	if a := nextAccount(t, acc, 10*time.Second); a.Version != 1 {
		t.Fatalf("first accountUpdated = %+v, want version 1", a)
	}

	// The mutator credits 0.01, 0.02, ... one after another (operation i
	// has version i+1 and credits i cents) until told to stop.
	type result struct {
		version  int
		upToDate bool
		started  time.Time
		err      error
	}
	var (
		mu      sync.Mutex
		results []result
		stop    = make(chan struct{})
		stopped = make(chan struct{})
	)
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(results)
	}
	go func() {
		defer close(stopped)
		for i := 1; i <= 800; i++ {
			select {
			case <-stop:
				return
			default:
			}
			started := time.Now()
			var out struct {
				CreditAccount payload `json:"creditAccount"`
			}
			resp, err := c.Do(context.Background(), servertest.Request{Query: creditMutation, Variables: servertest.Vars{
				"input": servertest.Vars{"id": id, "amount": formatCents(i)},
			}})
			switch {
			case err != nil:
			case len(resp.Errors) > 0:
				err = fmt.Errorf("errors %+v", resp.Errors)
			default:
				err = resp.Decode(&out)
			}
			mu.Lock()
			results = append(results, result{version: out.CreditAccount.Version, upToDate: out.CreditAccount.UpToDate, started: started, err: err})
			mu.Unlock()
			if err != nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		<-stopped
	}()

	eventually(t, 15*time.Second, "5 mutations before the takeover", func() bool { return count() >= 5 })
	if strings.Contains(standby.Log(), runnerActive) {
		t.Fatalf("the standby runs the projection before the active server stopped")
	}
	if err := active.Stop(); err != nil {
		t.Fatalf("stop the active server: %v", err)
	}
	stoppedAt := time.Now()
	waitLog(t, standby, runnerActive, 10*time.Second)
	t.Logf("takeover %v after the active server had stopped", time.Since(stoppedAt))
	if took := time.Since(stoppedAt); took > 5*time.Second {
		t.Errorf("the standby took over %v after the active server had stopped, want within a few seconds", took)
	}
	tookOver := time.Now()

	// Mutations started after the takeover are up to date again.
	eventually(t, 20*time.Second, "5 up-to-date mutations after the takeover", func() bool {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, r := range results {
			if r.err == nil && r.upToDate && r.started.After(tookOver) {
				n++
			}
		}
		return n >= 5
	})
	close(stop)
	<-stopped

	mu.Lock()
	final := results
	mu.Unlock()
	notUpToDate := 0
	for i, r := range final {
		if r.err != nil {
			t.Fatalf("mutation %d: %v", i+1, r.err)
		}
		if r.version != i+2 {
			t.Fatalf("mutation %d has version %d, want %d", i+1, r.version, i+2)
		}
		if !r.upToDate {
			notUpToDate++
		}
	}
	t.Logf("%d mutations, %d of them not up to date", len(final), notUpToDate)

	// The subscriber on the standby got every operation, in order, once:
	// first through Redis from the active server, then from its own
	// runner.
	cents := 0
	for i := 1; i <= len(final); i++ {
		cents += i
		e := nextOperation(t, ops, 15*time.Second)
		if e.Node.Version != i+1 || e.Node.Kind != "CREDIT" || e.Node.Amount.Amount != formatCents(i) || e.Node.BalanceAfter.Amount != formatCents(cents) {
			t.Fatalf("operation %d = %+v, want version %d crediting %s to %s", i, e.Node, i+1, formatCents(i), formatCents(cents))
		}
	}
	ops.Quiet(t, 300*time.Millisecond)
	// The account servertest.Feed reaches the last version, strictly increasing.
	last := 1
	for last < len(final)+1 {
		a := nextAccount(t, acc, 15*time.Second)
		if a.Version <= last || a.Version > len(final)+1 {
			t.Fatalf("accountUpdated version %d after %d, want one in (%d, %d]", a.Version, last, last, len(final)+1)
		}
		last = a.Version
	}
	acc.Quiet(t, 100*time.Millisecond)
	if a := getAccount(t, c, id); a.Version != len(final)+1 || a.Balance.Amount != formatCents(cents) {
		t.Errorf("account = %+v, want version %d with %s", a, len(final)+1, formatCents(cents))
	}
}

// TestMultiInstanceRedisOutage stops the Redis that connects two servers
// while a subscription is open on the one that does not run the projection:
// mutations still succeed (Redis only rings doorbells), and once Redis is
// back the subscriber receives every change made meanwhile, and the later
// ones, each once.
func TestMultiInstanceRedisOutage(t *testing.T) {
	t.Parallel()
	redis := redistest.Start(t)
	srvs := startCluster(t, 2, func(c *config.Config) {
		c.RedisURL = redis.URL()
		c.ReadYourWritesTimeout = 15 * time.Second
	})
	a, b := srvs[0], srvs[1]
	ca := a.Client()
	id := open(t, ca, servertest.Vars{"owner": "Outage " + randomSuffix(), "currency": "EUR", "initialBalance": "10.00"}).Account.ID
	l := newLedger(id, 1000)
	vars := servertest.Vars{"id": id}

	ws := b.MustDialWS(t, servertest.GraphQLTransportWS, nil)
	mustInit(t, ws, nil)
	m := servertest.NewWSMux(ws)
	ops := []servertest.Feed{
		m.Subscribe(t, "B ws ops", "ops", accountOperationsSub, vars),
		servertest.SSEFeed(t, b.Client(), "B sse ops", accountOperationsSub, vars),
	}
	acc := m.Subscribe(t, "B ws acc", "acc", accountUpdatedSub, vars)
	l.expectAccount(t, acc, 0, 1, 10*time.Second)

	p := l.move(t, ca, 100)
	for _, f := range ops {
		l.expectOperations(t, f, p.Version, p.Version, 10*time.Second)
	}
	l.expectAccount(t, acc, 1, p.Version, 10*time.Second)

	redis.Stop()
	outageFrom := l.version + 1
	for i := range 5 {
		cents := 50
		if i%2 == 1 {
			cents = -20
		}
		l.move(t, ca, cents) // up to date: Redis is not on the write path
	}
	// Let the brokers notice and back off for a while.
	time.Sleep(1500 * time.Millisecond)
	redis.Restart()
	restarted := time.Now()

	// Reconnecting takes up to the broker's backoff (5 s at most) plus its
	// health check; then it resyncs and the subscribers catch up from
	// PostgreSQL.
	for _, f := range ops {
		l.expectOperations(t, f, outageFrom, l.version, 30*time.Second)
	}
	l.expectAccount(t, acc, outageFrom-1, l.version, 30*time.Second)
	t.Logf("caught up %v after Redis restarted", time.Since(restarted))

	// Live again.
	from := l.version + 1
	for range 3 {
		p := l.move(t, ca, 5)
		for _, f := range ops {
			l.expectOperations(t, f, p.Version, p.Version, 10*time.Second)
		}
	}
	l.expectAccount(t, acc, from-1, l.version, 10*time.Second)
	for _, f := range append(ops, acc) {
		f.Quiet(t, 300*time.Millisecond)
	}
	if strings.Contains(b.Log(), runnerActive) {
		t.Errorf("the subscriber's server ran the projection; want it to depend on Redis")
	}
}
