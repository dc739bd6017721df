package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
)

// TestThousandSubscribers serves 1,000 concurrent subscriptions to
// accountUpdated (600 WebSockets over both subprotocols and 400 SSE streams,
// spread over four accounts) from one server: every subscriber receives
// every change; once the clients have gone, the server is back to its idle
// goroutines, and once it has stopped, so is the test binary.
//
// Not parallel: it counts the goroutines of the whole test binary, which is
// only meaningful while no other test runs (parallel tests wait for the
// sequential ones to finish).
func TestThousandSubscribers(t *testing.T) {
	before := runtime.NumGoroutine()
	const (
		accounts = 4
		nWS      = 600
		nSSE     = 400
		workers  = 32
	)

	srv := servertest.Start(t, func(c *config.Config) { c.ReadYourWritesTimeout = 15 * time.Second })
	c := srv.Client()
	ledgers := make([]*ledger, accounts)
	for i := range ledgers {
		id := open(t, c, servertest.Vars{"owner": fmt.Sprintf("Crowd %d %s", i, randomSuffix()), "currency": "EUR", "initialBalance": "1.00"}).Account.ID
		ledgers[i] = newLedger(id, 100)
	}
	sseClient := srv.Client()
	idle := settledGoroutines()

	// Connect and subscribe, a few at a time.
	type subscriber struct {
		ws *servertest.WSConn
		st *servertest.SSEConn
		l  *ledger
	}
	subs := make([]subscriber, nWS+nSSE)
	streamCtx, cancelLongRequests := context.WithCancel(context.Background())
	defer cancelLongRequests()
	began := time.Now()
	var (
		wg       sync.WaitGroup
		errsMu   sync.Mutex
		errs     []error
		jobs     = make(chan int)
		dialOnce = func(i int) error {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			s := &subs[i]
			s.l = ledgers[i%accounts]
			req := servertest.Request{Query: accountUpdatedSub, Variables: servertest.Vars{"id": s.l.id}}
			if i >= nWS {
				st, err := sseClient.SubscribeSSE(streamCtx, req)
				s.st = st
				return err
			}
			proto := servertest.GraphQLTransportWS
			if i%2 == 1 {
				proto = servertest.GraphQLWS
			}
			ws, _, err := srv.DialWS(ctx, proto, nil)
			if err != nil {
				return err
			}
			s.ws = ws
			if err := ws.Init(ctx, nil); err != nil {
				return err
			}
			return ws.Subscribe(ctx, "u", req)
		}
	)
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				if err := dialOnce(i); err != nil {
					errsMu.Lock()
					errs = append(errs, fmt.Errorf("subscriber %d: %w", i, err))
					errsMu.Unlock()
				}
			}
		})
	}
	for i := range subs {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	closeAll := func() {
		for _, s := range subs {
			switch {
			case s.ws != nil:
				s.ws.Abort()
			case s.st != nil:
				s.st.Close()
			}
		}
	}
	defer closeAll()
	if len(errs) > 0 {
		t.Fatalf("%d subscribers failed, the first: %v", len(errs), errs[0])
	}
	t.Logf("%d subscribers connected in %v; %d goroutines", len(subs), time.Since(began), runtime.NumGoroutine())

	// expect reads the next result of every subscriber: its account at
	// version v.
	expect := func(v int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for i, s := range subs {
			var data []byte
			if s.ws != nil {
				m, err := s.ws.Next(ctx)
				if err != nil || !m.IsNext() || m.ID != "u" {
					t.Fatalf("subscriber %d (%s): %s %s, %v; want a result of u", i, s.ws.Subprotocol, m.Type, m.Payload, err)
				}
				data = m.Payload
			} else {
				ev, err := s.st.Next(ctx)
				if err != nil || ev.Event != "next" {
					t.Fatalf("subscriber %d (SSE): %q %s, %v; want next", i, ev.Event, ev.Data, err)
				}
				data = []byte(ev.Data)
			}
			var out struct {
				Data struct {
					AccountUpdated account `json:"accountUpdated"`
				} `json:"data"`
				Errors []servertest.Error `json:"errors"`
			}
			if err := json.Unmarshal(data, &out); err != nil {
				t.Fatalf("subscriber %d: %v: %s", i, err, data)
			}
			a := out.Data.AccountUpdated
			if len(out.Errors) > 0 || a.ID != s.l.id || a.Version != v || a.Balance.Amount != formatCents(s.l.balances[v]) {
				t.Fatalf("subscriber %d: %s, want account %s at version %d with %s", i, data, s.l.id, v, formatCents(s.l.balances[v]))
			}
		}
	}
	// The current state first, then two changes of every account.
	expect(1)
	for v := 2; v <= 3; v++ {
		mutated := time.Now()
		for i, l := range ledgers {
			l.move(t, c, 10*(i+1))
		}
		expect(v)
		t.Logf("version %d reached all %d subscribers %v after the first mutation", v, len(subs), time.Since(mutated))
	}

	// The clients go: half the WebSockets with a close handshake, the
	// others (and the SSE streams) just dropped.
	for i, s := range subs {
		switch {
		case s.ws != nil && i%4 < 2:
			if err := s.ws.Close(); err != nil {
				t.Errorf("close subscriber %d: %v", i, err)
			}
		case s.ws != nil:
			s.ws.Abort()
		default:
			s.st.Close()
		}
	}
	sseClient.HTTP.CloseIdleConnections()
	// The server lets go of everything of theirs without being stopped.
	waitGoroutines(t, "the clients have gone", idle+3)

	// The server still works.
	ws := srv.MustDialWS(t, servertest.GraphQLTransportWS, nil)
	mustInit(t, ws, nil)
	m := servertest.NewWSMux(ws)
	f := m.Subscribe(t, "after", "u", accountUpdatedSub, servertest.Vars{"id": ledgers[0].id, "after": 3})
	ledgers[0].move(t, c, 1)
	ledgers[0].expectAccount(t, f, 3, 4, 10*time.Second)
	ws.Abort()

	if err := srv.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	c.HTTP.CloseIdleConnections()
	waitGoroutines(t, "the server has stopped", before+3)
}

// settledGoroutines returns the number of goroutines once it has stopped
// falling for a moment.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for range 50 {
		time.Sleep(20 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m >= n {
			return m
		}
		n = m
	}
	return n
}

// waitGoroutines waits up to 15 s until at most max goroutines run, and
// fails with their stacks if they do not.
func waitGoroutines(t *testing.T, when string, max int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for runtime.NumGoroutine() > max {
		if time.Now().After(deadline) {
			var buf bytes.Buffer
			_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
			t.Fatalf("%d goroutines once %s, want at most %d:\n%s", runtime.NumGoroutine(), when, max, buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d goroutines once %s (at most %d)", runtime.NumGoroutine(), when, max)
}
