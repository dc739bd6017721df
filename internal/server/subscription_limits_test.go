package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
	"github.com/coder/websocket"
)

// untilClosed waits (10 s at most) for c to be closed and returns the
// messages that came before and the close frame.
func untilClosed(t *testing.T, c *servertest.WSConn, what string) ([]servertest.WSMessage, websocket.CloseError) {
	t.Helper()
	ctx := ctxTimeout(t, 10*time.Second)
	var msgs []servertest.WSMessage
	for {
		m, err := c.Next(ctx)
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("%s: connection ended with %v, want a close frame (messages %+v)", what, err, msgs)
			}
			return msgs, ce
		}
		msgs = append(msgs, m)
	}
}

// wantClose fails t unless c closes with code and a reason containing
// reason.
func wantClose(t *testing.T, c *servertest.WSConn, what string, code websocket.StatusCode, reason string) {
	t.Helper()
	if _, ce := untilClosed(t, c, what); ce.Code != code || !strings.Contains(ce.Reason, reason) {
		t.Errorf("%s: closed with %d %q, want %d %q", what, ce.Code, ce.Reason, code, reason)
	}
}

// dialInit dials srv with proto and initialises the connection.
func dialInit(t *testing.T, srv *servertest.Server, proto string) (*servertest.WSConn, *servertest.WSMux) {
	t.Helper()
	c := srv.MustDialWS(t, proto, nil)
	mustInit(t, c, nil)
	return c, servertest.NewWSMux(c)
}

// TestSubscriptionCaps (issue 10 item 9): at most
// MAX_SUBSCRIPTIONS_PER_CONNECTION per WebSocket and MAX_SUBSCRIPTIONS per
// instance, over graphql-transport-ws (close 4429), graphql-ws (an error
// message for the refused start) and SSE (HTTP 429); a subscription that
// ends gives its place back.
func TestSubscriptionCaps(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) {
		c.MaxSubscriptionsPerConnection = 2
		c.MaxSubscriptions = 3
	})
	id := open(t, srv.Client(), servertest.Vars{"owner": "Caps " + randomSuffix(), "currency": "EUR"}).Account.ID
	vars := servertest.Vars{"id": id}

	c1, m1 := dialInit(t, srv, servertest.GraphQLTransportWS)
	for _, op := range []string{"a", "b"} {
		nextAccount(t, m1.Subscribe(t, "c1 "+op, op, accountUpdatedSub, vars), 10*time.Second)
	}
	_, m2 := dialInit(t, srv, servertest.GraphQLWS)
	nextAccount(t, m2.Subscribe(t, "c2 x", "x", accountUpdatedSub, vars), 10*time.Second)

	// The instance is full: legacy start refused with an error message, SSE
	// with 429; the connections stay open.
	m2.Subscribe(t, "c2 y", "y", accountUpdatedSub, vars)
	if msg := m2.Next(t, "y", 10*time.Second); msg.Type != "error" || !strings.Contains(string(msg.Payload), "TOO_MANY_SUBSCRIPTIONS") {
		t.Errorf("graphql-ws start past the instance cap: %s %s, want an error TOO_MANY_SUBSCRIPTIONS", msg.Type, msg.Payload)
	}
	if st, err := srv.Client().SubscribeSSE(ctxTimeout(t, 10*time.Second), servertest.Request{Query: accountUpdatedSub, Variables: vars}); err == nil {
		st.Close()
		t.Error("an SSE subscription past the instance cap was accepted")
	} else if !strings.Contains(err.Error(), "HTTP 429") || !strings.Contains(err.Error(), "TOO_MANY_SUBSCRIPTIONS") {
		t.Errorf("SSE past the instance cap: %v, want HTTP 429 TOO_MANY_SUBSCRIPTIONS", err)
	}

	// Stopping x gives its place back.
	if err := m2.Conn().Stop(ctxTimeout(t, 5*time.Second), "x"); err != nil {
		t.Fatal(err)
	}
	if msg := m2.Next(t, "x", 10*time.Second); msg.Type != "complete" {
		t.Fatalf("stop x: %s %s", msg.Type, msg.Payload)
	}
	nextAccount(t, m2.Subscribe(t, "c2 z", "z", accountUpdatedSub, vars), 10*time.Second)

	// A third subscription on one graphql-transport-ws connection closes it
	// with 4429.
	if err := c1.Subscribe(ctxTimeout(t, 5*time.Second), "c", servertest.Request{Query: accountUpdatedSub, Variables: vars}); err != nil {
		t.Fatal(err)
	}
	wantClose(t, c1, "third subscription on c1", 4429, "Too many subscriptions")

	// c1's two places are given back when it closes.
	eventually(t, 10*time.Second, "c1's subscriptions released", func() bool {
		st, err := srv.Client().SubscribeSSE(ctxTimeout(t, 10*time.Second), servertest.Request{Query: accountUpdatedSub, Variables: vars})
		if err != nil {
			return false
		}
		st.Close()
		return true
	})
}

// TestSubscriptionProtocolErrors (issue 10 item 9): graphql-transport-ws's
// close codes where gqlgen's transport deviates (it closes with 1002, or
// accepts a duplicate id, whose first subscription can then never be
// stopped).
func TestSubscriptionProtocolErrors(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	id := open(t, srv.Client(), servertest.Vars{"owner": "Protocol " + randomSuffix(), "currency": "EUR"}).Account.ID
	vars := servertest.Vars{"id": id}
	req := servertest.Request{Query: accountUpdatedSub, Variables: vars}
	ctx := func() context.Context { return ctxTimeout(t, 5*time.Second) }

	c, m := dialInit(t, srv, servertest.GraphQLTransportWS)
	nextAccount(t, m.Subscribe(t, "a", "a", accountUpdatedSub, vars), 10*time.Second)
	if err := c.Subscribe(ctx(), "a", req); err != nil {
		t.Fatal(err)
	}
	wantClose(t, c, "a duplicate id", 4409, "Subscriber for a already exists")

	c = srv.MustDialWS(t, servertest.GraphQLTransportWS, nil)
	if err := c.Subscribe(ctx(), "early", req); err != nil {
		t.Fatal(err)
	}
	wantClose(t, c, "subscribe before connection_init", 4401, "Unauthorized")

	c, _ = dialInit(t, srv, servertest.GraphQLTransportWS)
	if err := c.Conn.Write(ctx(), websocket.MessageText, []byte("not json")); err != nil {
		t.Fatal(err)
	}
	wantClose(t, c, "a frame that is not JSON", 4400, "Invalid message")

	c, _ = dialInit(t, srv, servertest.GraphQLTransportWS)
	if err := c.Send(ctx(), servertest.WSMessage{Type: "connection_init"}); err != nil {
		t.Fatal(err)
	}
	wantClose(t, c, "a second connection_init", 4429, "Too many initialisation requests")

	// graphql-ws has no close code for it: the duplicate start gets an
	// error, and the first subscription can still be stopped.
	_, lm := dialInit(t, srv, servertest.GraphQLWS)
	nextAccount(t, lm.Subscribe(t, "legacy a", "a", accountUpdatedSub, vars), 10*time.Second)
	lm.Subscribe(t, "legacy a again", "a", accountUpdatedSub, vars)
	if msg := lm.Next(t, "a", 10*time.Second); msg.Type != "error" || !strings.Contains(string(msg.Payload), "already exists") {
		t.Errorf("graphql-ws duplicate start: %s %s, want an error", msg.Type, msg.Payload)
	}
	if err := lm.Conn().Stop(ctx(), "a"); err != nil {
		t.Fatal(err)
	}
	if msg := lm.Next(t, "a", 10*time.Second); msg.Type != "complete" {
		t.Errorf("stop after a refused duplicate: %s %s, want complete", msg.Type, msg.Payload)
	}
}
