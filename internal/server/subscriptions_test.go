package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
)

const (
	accountUpdatedSub = `subscription Updated($id: ID!, $after: Int) {
  accountUpdated(id: $id, afterVersion: $after) { id status version balance { amount currency } }
}`
	accountOperationsSub = `subscription Operations($id: ID!, $after: String) {
  accountOperations(id: $id, after: $after) {
    cursor
    node { kind amount { amount currency } balanceAfter { amount currency } description version position }
  }
}`
)

type operationEdge struct {
	Cursor string    `json:"cursor"`
	Node   operation `json:"node"`
}

// subs reads a WebSocket's messages per operation id.
type subs struct {
	t       *testing.T
	c       *servertest.WSConn
	pending map[string][]servertest.WSMessage
}

func newSubs(t *testing.T, c *servertest.WSConn) *subs {
	return &subs{t: t, c: c, pending: map[string][]servertest.WSMessage{}}
}

func (s *subs) subscribe(id, query string, vars servertest.Vars) {
	s.t.Helper()
	if err := s.c.Subscribe(ctxTimeout(s.t, 5*time.Second), id, servertest.Request{Query: query, Variables: vars}); err != nil {
		s.t.Fatalf("subscribe %s: %v", id, err)
	}
}

// next returns the next message of operation id, within 10 seconds.
func (s *subs) next(id string) servertest.WSMessage {
	s.t.Helper()
	if q := s.pending[id]; len(q) > 0 {
		s.pending[id] = q[1:]
		return q[0]
	}
	ctx := ctxTimeout(s.t, 10*time.Second)
	for {
		m, err := s.c.Next(ctx)
		if err != nil {
			s.t.Fatalf("waiting for a message of %s: %v", id, err)
		}
		if m.ID == id {
			return m
		}
		s.pending[m.ID] = append(s.pending[m.ID], m)
	}
}

// data returns the data of the next message of id, which must be a result
// without errors.
func (s *subs) data(id string, out any) {
	s.t.Helper()
	m := s.next(id)
	if !m.IsNext() {
		s.t.Fatalf("%s: got %s %s, want a result", id, m.Type, m.Payload)
	}
	resp, err := m.Response()
	if err != nil {
		s.t.Fatal(err)
	}
	if len(resp.Errors) > 0 {
		s.t.Fatalf("%s: errors %+v", id, resp.Errors)
	}
	if err := resp.Decode(out); err != nil {
		s.t.Fatalf("%s: %v", id, err)
	}
}

func (s *subs) updated(id string) account {
	s.t.Helper()
	var out struct {
		AccountUpdated account `json:"accountUpdated"`
	}
	s.data(id, &out)
	return out.AccountUpdated
}

func (s *subs) operation(id string) operationEdge {
	s.t.Helper()
	var out struct {
		AccountOperations operationEdge `json:"accountOperations"`
	}
	s.data(id, &out)
	return out.AccountOperations
}

// errorCode returns the code of the error that ends operation id: a result
// with one error, or an "error" message; then it expects "complete" (after
// a result; an "error" message is final).
func (s *subs) errorCode(id string) string {
	s.t.Helper()
	m := s.next(id)
	var errs []servertest.Error
	switch {
	case m.IsNext():
		resp, err := m.Response()
		if err != nil {
			s.t.Fatal(err)
		}
		errs = resp.Errors
		if c := s.next(id); c.Type != "complete" {
			s.t.Errorf("%s: after the error got %s %s, want complete", id, c.Type, c.Payload)
		}
	case m.Type == "error":
		var err error
		if errs, err = m.Errors(); err != nil {
			s.t.Fatal(err)
		}
	default:
		s.t.Fatalf("%s: got %s %s, want an error", id, m.Type, m.Payload)
	}
	if len(errs) != 1 {
		s.t.Fatalf("%s: errors %+v, want one", id, errs)
	}
	return errs[0].Code()
}

// noMessage fails if a message arrives for id within d.
func (s *subs) noMessage(id string, d time.Duration) {
	s.t.Helper()
	if q := s.pending[id]; len(q) > 0 {
		s.t.Fatalf("%s: unexpected %s %s", id, q[0].Type, q[0].Payload)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		m, err := s.c.Next(ctx)
		if err != nil {
			return
		}
		if m.ID == id {
			s.t.Fatalf("%s: unexpected %s %s", id, m.Type, m.Payload)
		}
		s.pending[m.ID] = append(s.pending[m.ID], m)
	}
}

func mustInit(t *testing.T, c *servertest.WSConn, payload any) {
	t.Helper()
	if err := c.Init(ctxTimeout(t, 5*time.Second), payload); err != nil {
		t.Fatalf("connection_init: %v", err)
	}
}

// TestSubscriptionsGraphQLTransportWS drives both subscriptions over the
// current protocol while mutations run over HTTP (and one over the socket,
// as the actor named in connection_init).
func TestSubscriptionsGraphQLTransportWS(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) {
		c.Dev = true
		c.WSKeepAlive = 100 * time.Millisecond
	})
	c := srv.Client()
	id := open(t, c, servertest.Vars{"owner": "WS " + randomSuffix(), "currency": "EUR", "initialBalance": "100.00"}).Account.ID

	ws := srv.MustDialWS(t, servertest.GraphQLTransportWS, nil)
	ws.Token = "" // development mode: the payload names the caller
	mustInit(t, ws, map[string]any{"actor": "alice", "organization": servertest.DefaultIdentity.Organization})
	s := newSubs(t, ws)
	s.subscribe("ops", accountOperationsSub, servertest.Vars{"id": id})
	s.subscribe("acc", accountUpdatedSub, servertest.Vars{"id": id})

	// accountUpdated pushes the current state at once (no afterVersion).
	if a := s.updated("acc"); a.ID != id || a.Version != 1 || a.Balance != (money{"100.00", "EUR"}) || a.Status != "OPEN" {
		t.Fatalf("first accountUpdated = %+v, want version 1 with 100.00 EUR", a)
	}

	credit(t, c, servertest.Vars{"id": id, "amount": "10.00", "description": "pocket money"})
	if e := s.operation("ops"); e.Cursor == "" || e.Node.Kind != "CREDIT" || e.Node.Version != 2 ||
		e.Node.Amount != (money{"10.00", "EUR"}) || e.Node.BalanceAfter != (money{"110.00", "EUR"}) || e.Node.Description != "pocket money" {
		t.Errorf("first operation = %+v", e)
	}
	if a := s.updated("acc"); a.Version != 2 || a.Balance.Amount != "110.00" {
		t.Errorf("accountUpdated after the credit = %+v, want version 2 with 110.00", a)
	}

	debit(t, c, servertest.Vars{"id": id, "amount": "30.00"})
	if e := s.operation("ops"); e.Node.Kind != "DEBIT" || e.Node.Version != 3 || e.Node.BalanceAfter.Amount != "80.00" {
		t.Errorf("second operation = %+v", e)
	}
	if a := s.updated("acc"); a.Version != 3 || a.Balance.Amount != "80.00" {
		t.Errorf("accountUpdated after the debit = %+v, want version 3 with 80.00", a)
	}

	// A mutation over the socket acts as the actor of connection_init.
	s.subscribe("credit", creditMutation, servertest.Vars{"input": servertest.Vars{"id": id, "amount": "5.00"}})
	var out struct {
		CreditAccount payload `json:"creditAccount"`
	}
	s.data("credit", &out)
	if out.CreditAccount.Version != 4 {
		t.Errorf("credit over the socket: %+v", out.CreditAccount)
	}
	if m := s.next("credit"); m.Type != "complete" {
		t.Errorf("after the mutation's result: %s, want complete", m.Type)
	}
	if e := s.operation("ops"); e.Node.Version != 4 || e.Node.BalanceAfter.Amount != "85.00" {
		t.Errorf("third operation = %+v", e)
	}
	if a := s.updated("acc"); a.Version != 4 {
		t.Errorf("accountUpdated after the third operation = %+v", a)
	}
	events := allHistory(t, c, id)
	if md := events[len(events)-1].Metadata; md.Actor == nil || *md.Actor != "alice" || md.CorrelationID == nil || *md.CorrelationID == "" {
		t.Errorf("metadata of the credit over the socket = %+v, want actor alice and a correlation id", md)
	}

	// The client completes one subscription; the other goes on.
	if err := ws.Stop(ctxTimeout(t, 5*time.Second), "ops"); err != nil {
		t.Fatal(err)
	}
	credit(t, c, servertest.Vars{"id": id, "amount": "1.00"})
	if a := s.updated("acc"); a.Version != 5 {
		t.Errorf("accountUpdated after the stop = %+v, want version 5", a)
	}
	for _, m := range s.pending["ops"] {
		if m.Type != "complete" {
			t.Errorf("ops after its complete: %s %s", m.Type, m.Payload)
		}
	}
	delete(s.pending, "ops")

	// Keepalive: the server pings every 100ms; the client's pongs keep the
	// connection open well past two intervals. The server answers pings.
	eventually(t, 5*time.Second, "three pings", func() bool { return ws.KeepAlives() >= 3 })
	if err := ws.Send(ctxTimeout(t, 5*time.Second), servertest.WSMessage{Type: "ping"}); err != nil {
		t.Fatal(err)
	}
	if m := s.next(""); m.Type != "pong" {
		t.Errorf("answer to ping: %s, want pong", m.Type)
	}
	select {
	case <-ws.Done():
		t.Fatalf("connection closed: %v", ws.Err())
	default:
	}
	credit(t, c, servertest.Vars{"id": id, "amount": "1.00"})
	if a := s.updated("acc"); a.Version != 6 || a.Balance.Amount != "87.00" {
		t.Errorf("accountUpdated after the keepalives = %+v, want version 6 with 87.00", a)
	}

	if err := ws.Stop(ctxTimeout(t, 5*time.Second), "acc"); err != nil {
		t.Fatal(err)
	}
	if err := ws.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

// TestSubscriptionsGraphQLWS runs a subscription over the legacy protocol.
func TestSubscriptionsGraphQLWS(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) { c.WSKeepAlive = 100 * time.Millisecond })
	c := srv.Client()
	id := open(t, c, servertest.Vars{"owner": "Legacy " + randomSuffix(), "currency": "JPY", "initialBalance": "1000"}).Account.ID

	ws := srv.MustDialWS(t, servertest.GraphQLWS, nil)
	mustInit(t, ws, nil)
	s := newSubs(t, ws)
	s.subscribe("1", accountUpdatedSub, servertest.Vars{"id": id, "after": 1})
	s.subscribe("2", accountOperationsSub, servertest.Vars{"id": id})

	// Nothing yet: the account is at version 1, and has no operations.
	s.noMessage("1", 200*time.Millisecond)
	credit(t, c, servertest.Vars{"id": id, "amount": "500"})
	if a := s.updated("1"); a.Version != 2 || a.Balance != (money{"1500", "JPY"}) {
		t.Errorf("accountUpdated = %+v, want version 2 with 1500 JPY", a)
	}
	if e := s.operation("2"); e.Node.Version != 2 || e.Node.Kind != "CREDIT" || e.Node.BalanceAfter != (money{"1500", "JPY"}) {
		t.Errorf("accountOperations = %+v", e)
	}
	if err := ws.Stop(ctxTimeout(t, 5*time.Second), "1"); err != nil {
		t.Fatal(err)
	}
	if m := s.next("1"); m.Type != "complete" {
		t.Errorf("after stop: %s %s, want complete", m.Type, m.Payload)
	}
	debit(t, c, servertest.Vars{"id": id, "amount": "200"})
	if e := s.operation("2"); e.Node.Version != 3 || e.Node.Kind != "DEBIT" || e.Node.BalanceAfter.Amount != "1300" {
		t.Errorf("accountOperations = %+v", e)
	}
	s.noMessage("1", 100*time.Millisecond)
	eventually(t, 5*time.Second, "keepalives", func() bool { return ws.KeepAlives() >= 3 })
	if err := ws.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

func nextSSE(t *testing.T, st *servertest.SSEConn) servertest.SSEEvent {
	t.Helper()
	ev, err := st.Next(ctxTimeout(t, 10*time.Second))
	if err != nil {
		t.Fatalf("SSE: %v", err)
	}
	return ev
}

func sseOperation(t *testing.T, st *servertest.SSEConn) operationEdge {
	t.Helper()
	ev := nextSSE(t, st)
	if ev.Event != "next" {
		t.Fatalf("SSE event %q %s, want next", ev.Event, ev.Data)
	}
	resp, err := ev.Response()
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		AccountOperations operationEdge `json:"accountOperations"`
	}
	if len(resp.Errors) > 0 {
		t.Fatalf("SSE errors: %+v", resp.Errors)
	}
	if err := resp.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.AccountOperations
}

// TestSubscriptionsSSE runs subscriptions over GraphQL over SSE.
func TestSubscriptionsSSE(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) { c.WSKeepAlive = 100 * time.Millisecond })
	c := srv.Client()
	id := open(t, c, servertest.Vars{"owner": "SSE " + randomSuffix(), "currency": "EUR"}).Account.ID
	credit(t, c, servertest.Vars{"id": id, "amount": "2.00"})

	st, err := c.SubscribeSSE(ctxTimeout(t, 30*time.Second), servertest.Request{Query: accountOperationsSub, Variables: servertest.Vars{"id": id}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if e := sseOperation(t, st); e.Node.Version != 2 || e.Node.BalanceAfter.Amount != "2.00" {
		t.Errorf("first SSE operation = %+v, want the credit already made", e)
	}
	debit(t, c, servertest.Vars{"id": id, "amount": "0.50"})
	if e := sseOperation(t, st); e.Node.Version != 3 || e.Node.Kind != "DEBIT" || e.Node.BalanceAfter.Amount != "1.50" {
		t.Errorf("second SSE operation = %+v", e)
	}
	eventually(t, 5*time.Second, "SSE keepalive comments", func() bool { return st.Comments() >= 3 })

	// An error ends the stream: one result with the error, then complete.
	bad, err := c.SubscribeSSE(ctxTimeout(t, 30*time.Second), servertest.Request{Query: accountUpdatedSub, Variables: servertest.Vars{"id": randomUUID()}})
	if err != nil {
		t.Fatal(err)
	}
	ev := nextSSE(t, bad)
	resp, err := ev.Response()
	if err != nil || ev.Event != "next" || len(resp.Codes()) != 1 || resp.Codes()[0] != "NOT_FOUND" {
		t.Errorf("unknown account over SSE: event %q %s (%v), want next with NOT_FOUND", ev.Event, ev.Data, err)
	}
	if ev := nextSSE(t, bad); ev.Event != "complete" {
		t.Errorf("after the error: event %q, want complete", ev.Event)
	}
	if _, err := bad.Next(ctxTimeout(t, 5*time.Second)); !errors.Is(err, io.EOF) {
		t.Errorf("after complete: %v, want EOF", err)
	}

	// The server's shutdown completes the open stream.
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if ev := nextSSE(t, st); ev.Event != "complete" {
		t.Errorf("at shutdown: event %q %s, want complete", ev.Event, ev.Data)
	}
	if _, err := st.Next(ctxTimeout(t, 5*time.Second)); !errors.Is(err, io.EOF) {
		t.Errorf("after complete: %v, want EOF", err)
	}
}

// TestSubscriptionResume disconnects a client mid-stream: reconnecting with
// the last cursor it saw, it gets every operation made meanwhile, then the
// new ones, each exactly once. With Redis and with the in-process broker.
func TestSubscriptionResume(t *testing.T) {
	t.Parallel()
	for _, broker := range []string{"redis", "memory"} {
		t.Run(broker, func(t *testing.T) {
			t.Parallel()
			srv := servertest.Start(t, func(c *config.Config) {
				if broker == "memory" {
					c.RedisURL = ""
				}
			})
			if broker == "redis" && srv.Config.RedisURL == "" {
				t.Skip("REDIS_URL is not set")
			}
			c := srv.Client()
			id := open(t, c, servertest.Vars{"owner": "Resume " + randomSuffix(), "currency": "EUR"}).Account.ID
			for range 3 {
				credit(t, c, servertest.Vars{"id": id, "amount": "1.00"})
			}

			var seen []operationEdge
			ws := srv.MustDialWS(t, servertest.GraphQLTransportWS, nil)
			mustInit(t, ws, nil)
			s := newSubs(t, ws)
			s.subscribe("ops", accountOperationsSub, servertest.Vars{"id": id})
			for range 3 {
				seen = append(seen, s.operation("ops"))
			}
			for range 2 {
				credit(t, c, servertest.Vars{"id": id, "amount": "1.00"})
				seen = append(seen, s.operation("ops"))
			}
			ws.Abort()

			// Meanwhile, with nobody listening.
			for range 3 {
				debit(t, c, servertest.Vars{"id": id, "amount": "0.10"})
			}

			ws = srv.MustDialWS(t, servertest.GraphQLTransportWS, nil)
			mustInit(t, ws, nil)
			s = newSubs(t, ws)
			s.subscribe("ops", accountOperationsSub, servertest.Vars{"id": id, "after": seen[len(seen)-1].Cursor})
			for range 3 {
				seen = append(seen, s.operation("ops"))
			}
			for range 2 {
				credit(t, c, servertest.Vars{"id": id, "amount": "1.00"})
				seen = append(seen, s.operation("ops"))
			}
			s.noMessage("ops", 200*time.Millisecond)

			// Versions 2..11, contiguous, each once; the balances add up.
			cents := 0
			for i, e := range seen {
				if e.Node.Version != i+2 {
					t.Errorf("operation %d has version %d, want %d", i, e.Node.Version, i+2)
				}
				if e.Node.Kind == "CREDIT" {
					cents += 100
				} else {
					cents -= 10
				}
				if want := formatCents(cents); e.Node.BalanceAfter.Amount != want {
					t.Errorf("operation %d: balance after %s, want %s", i, e.Node.BalanceAfter.Amount, want)
				}
			}
			if len(seen) != 10 {
				t.Errorf("%d operations seen, want 10", len(seen))
			}
			// The cursors are those of the operations connection.
			var page operationsData
			c.MustSucceed(t, operationsQuery, servertest.Vars{"id": id, "first": 1, "after": seen[4].Cursor}, &page)
			if e := page.Account.Operations.Edges; len(e) != 1 || e[0].Node.Version != 7 || e[0].Cursor != seen[5].Cursor {
				t.Errorf("operations after the subscription's 5th cursor = %+v, want version 7 with cursor %s", e, seen[5].Cursor)
			}
		})
	}
}

// TestSubscriptionBadInput checks the errors of a subscription that cannot
// start, over WebSocket and over plain HTTP.
func TestSubscriptionBadInput(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.Client()
	id := open(t, c, servertest.Vars{"owner": "Bad " + randomSuffix(), "currency": "EUR"}).Account.ID

	ws := srv.MustDialWS(t, servertest.GraphQLTransportWS, nil)
	mustInit(t, ws, nil)
	s := newSubs(t, ws)
	cases := []struct {
		query string
		vars  servertest.Vars
		code  string
	}{
		{accountUpdatedSub, servertest.Vars{"id": "not-a-uuid"}, "BAD_USER_INPUT"},
		{accountOperationsSub, servertest.Vars{"id": "not-a-uuid"}, "BAD_USER_INPUT"},
		{accountUpdatedSub, servertest.Vars{"id": randomUUID()}, "NOT_FOUND"},
		{accountOperationsSub, servertest.Vars{"id": randomUUID()}, "NOT_FOUND"},
		{accountUpdatedSub, servertest.Vars{"id": id, "after": -1}, "BAD_USER_INPUT"},
		{accountOperationsSub, servertest.Vars{"id": id, "after": "garbage"}, "BAD_USER_INPUT"},
		{`subscription { accountUpdated(id: "` + id + `") { nope } }`, nil, "GRAPHQL_VALIDATION_FAILED"},
	}
	for i, tc := range cases {
		opID := fmt.Sprint("bad", i)
		s.subscribe(opID, tc.query, tc.vars)
		if code := s.errorCode(opID); code != tc.code {
			t.Errorf("case %d (%v): code %s, want %s", i, tc.vars, code, tc.code)
		}
	}
	// The connection is still good.
	s.subscribe("ok", accountUpdatedSub, servertest.Vars{"id": id})
	if a := s.updated("ok"); a.ID != id {
		t.Errorf("accountUpdated = %+v", a)
	}

	// Over plain POST a subscription is refused rather than left hanging.
	c.MustFail(t, "BAD_USER_INPUT", accountOperationsSub, servertest.Vars{"id": id})
}

// TestSubscriptionOrigins checks the WebSocket Origin check and CORS, with
// and without ALLOWED_ORIGINS.
func TestSubscriptionOrigins(t *testing.T) {
	t.Parallel()
	const allowed = "http://localhost:5173"
	srv := servertest.Start(t, func(c *config.Config) { c.AllowedOrigins = []string{allowed, "https://*.chronicle.example"} })
	closed := servertest.Start(t, nil)

	dial := func(s *servertest.Server, origin string) (int, error) {
		t.Helper()
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		ws, resp, err := s.DialWS(ctxTimeout(t, 5*time.Second), servertest.GraphQLTransportWS, h)
		if err != nil {
			if resp == nil {
				return 0, err
			}
			return resp.StatusCode, err
		}
		defer ws.Abort()
		return http.StatusSwitchingProtocols, ws.Init(ctxTimeout(t, 5*time.Second), nil)
	}
	for _, tc := range []struct {
		srv    *servertest.Server
		origin string
		ok     bool
	}{
		{srv, allowed, true},
		{srv, "https://app.chronicle.example", true},
		{srv, "", true},      // not a browser
		{srv, srv.URL, true}, // same origin
		{srv, "http://evil.example", false},
		{srv, "http://localhost:5174", false},
		{closed, allowed, false},
		{closed, closed.URL, true},
	} {
		status, err := dial(tc.srv, tc.origin)
		if tc.ok && (err != nil || status != http.StatusSwitchingProtocols) {
			t.Errorf("origin %q: HTTP %d, %v; want accepted", tc.origin, status, err)
		}
		if !tc.ok && (err == nil || status != http.StatusForbidden) {
			t.Errorf("origin %q: HTTP %d, %v; want 403", tc.origin, status, err)
		}
	}

	preflight := func(s *servertest.Server, origin string) http.Header {
		return preflightFrom(t, s, origin, "content-type,x-actor,x-correlation-id")
	}
	h := preflight(srv, allowed)
	if h.Get("Access-Control-Allow-Origin") != allowed || h.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("preflight from the allowed origin: headers %v", h)
	}
	for _, want := range []string{"content-type", "x-correlation-id", "x-actor"} {
		if !strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), want) {
			t.Errorf("preflight: Access-Control-Allow-Headers %q lacks %s", h.Get("Access-Control-Allow-Headers"), want)
		}
	}
	if h := preflight(srv, "http://evil.example"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: Access-Control-Allow-Origin %q", h.Get("Access-Control-Allow-Origin"))
	}
	if h := preflight(closed, allowed); h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight without ALLOWED_ORIGINS: Access-Control-Allow-Origin %q", h.Get("Access-Control-Allow-Origin"))
	}

	// The actual request: allowed, with the correlation id exposed.
	cl := srv.Client()
	cl.Header.Set("Origin", allowed)
	resp := cl.MustSucceed(t, `{ accounts { edges { cursor } } }`, nil, nil)
	if resp.Header.Get("Access-Control-Allow-Origin") != allowed ||
		!strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Expose-Headers")), "x-correlation-id") {
		t.Errorf("CORS response headers: %v", resp.Header)
	}
}
