package gqlws_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/gqlws"
	"github.com/coder/websocket"
)

// TestMessages: each message type of graphql-transport-ws over a real
// WebSocket: connection_init and connection_ack (with Init's payload), ping
// and pong both ways, subscribe with next and complete (a query, a stream
// that ends, a stream the client completes), error for an operation that
// does not parse or validate (gqlgen's protocol errors) or panics, and a
// result with errors, then complete, for one an extension refuses.
func TestMessages(t *testing.T) {
	t.Parallel()
	srv := startServer(t, gqlws.Config{KeepAlive: 50 * time.Millisecond})
	c := srv.init(t, "a")

	// The client pings; the server answers with the same payload.
	c.send(message{Type: "ping", Payload: json.RawMessage(`{"n":1}`)})
	if m := c.next(); m.Type != "pong" || string(m.Payload) != `{"n":1}` {
		t.Errorf("answer to a ping: %+v, want a pong with its payload", m)
	}
	// The server pings; answered, the connection stays open past two
	// intervals.
	for range 4 {
		if m := c.next(); m.Type != "ping" {
			t.Fatalf("got %+v, want the server's ping", m)
		}
		c.send(message{Type: "pong"})
	}

	next := func(id string) message {
		t.Helper()
		for {
			m := c.next()
			if m.Type == "ping" {
				c.send(message{Type: "pong"})
				continue
			}
			if m.ID != id {
				t.Fatalf("got %s for %q, want a message for %q", m.Type, m.ID, id)
			}
			return m
		}
	}
	c.subscribe("q", `query { hello }`)
	if m := next("q"); m.Type != "next" || string(m.Payload) != `{"data":{"hello":"world"}}` {
		t.Errorf("query: %s %s", m.Type, m.Payload)
	}
	if m := next("q"); m.Type != "complete" {
		t.Errorf("after the query's result: %s, want complete", m.Type)
	}

	c.subscribe("f", `subscription { finite }`)
	for _, want := range []string{`{"data":{"finite":"1"}}`, `{"data":{"finite":"2"}}`} {
		if m := next("f"); m.Type != "next" || string(m.Payload) != want {
			t.Errorf("finite: %s %s, want next %s", m.Type, m.Payload, want)
		}
	}
	if m := next("f"); m.Type != "complete" {
		t.Errorf("after the stream's end: %s, want complete", m.Type)
	}
	// An id completed is free again.
	c.subscribe("f", `query { hello }`)
	if m := next("f"); m.Type != "next" {
		t.Errorf("id reused after complete: %s %s", m.Type, m.Payload)
	}
	next("f")

	c.subscribe("bad", `subscription {`)
	if m := next("bad"); m.Type != "error" || !strings.Contains(string(m.Payload), "GRAPHQL_PARSE_FAILED") {
		t.Errorf("a document that does not parse: %s %s, want an error message", m.Type, m.Payload)
	}
	c.subscribe("invalid", `subscription { invalid }`)
	if m := next("invalid"); m.Type != "error" || !strings.Contains(string(m.Payload), "GRAPHQL_VALIDATION_FAILED") {
		t.Errorf("a document that does not validate: %s %s, want an error message", m.Type, m.Payload)
	}
	c.subscribe("deep", `subscription { deep }`)
	if m := next("deep"); m.Type != "next" || !strings.Contains(string(m.Payload), "DEPTH_LIMIT_EXCEEDED") {
		t.Errorf("a document an extension refuses: %s %s, want a result with the error", m.Type, m.Payload)
	}
	if m := next("deep"); m.Type != "complete" {
		t.Errorf("after the refusal: %s, want complete", m.Type)
	}
	c.subscribe("boom", `subscription { boom }`)
	if m := next("boom"); m.Type != "error" {
		t.Errorf("an operation that panics: %s %s, want an error message", m.Type, m.Payload)
	}

	// A stream the client completes: nothing more comes for it, not even
	// a complete.
	c.subscribe("t", `subscription { ticks }`)
	eventually(t, "the subscription follows the source", func() bool { return srv.src.listeners() == 1 })
	srv.src.publish("x")
	if m := next("t"); m.Type != "next" || string(m.Payload) != `{"data":{"ticks":"x"}}` {
		t.Errorf("ticks: %s %s", m.Type, m.Payload)
	}
	c.send(message{Type: "complete", ID: "t"})
	eventually(t, "the execution ends", func() bool { return srv.src.listeners() == 0 })
	srv.src.publish("y")
	c.subscribe("q2", `query { hello }`)
	if m := next("q2"); m.Type != "next" {
		t.Errorf("after the client's complete: %s %s %s, want the next operation's result", m.ID, m.Type, m.Payload)
	}
	if err := c.conn.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Errorf("close: %v", err)
	}
}

// TestCloseCodes: every close code the transport sends, each for what the
// protocol says it means.
func TestCloseCodes(t *testing.T) {
	t.Parallel()
	limits := gqlws.NewLimits(2, 3)
	srv := startServer(t, gqlws.Config{Limits: limits, InitTimeout: 200 * time.Millisecond})
	init := `{"type":"connection_init","payload":{"org":"a"}}`
	cases := []struct {
		name   string
		frames []string // sent after dialling
		binary bool     // send a binary frame after them
		code   websocket.StatusCode
		reason string
	}{
		{"not JSON", []string{"hello"}, false, 4400, "Invalid message received"},
		{"no type", []string{`{"id":"1"}`}, false, 4400, "Invalid message received"},
		{"unknown type", []string{init, `{"type":"start","id":"1"}`}, false, 4400, "Invalid message received"},
		{"a server message from the client", []string{init, `{"type":"next","id":"1","payload":{}}`}, false, 4400, "Invalid message received"},
		{"subscribe without an id", []string{init, `{"type":"subscribe","payload":{"query":"{ hello }"}}`}, false, 4400, "Invalid message received"},
		{"subscribe without a payload", []string{init, `{"type":"subscribe","id":"1"}`}, false, 4400, "Invalid message received"},
		{"init payload not an object", []string{`{"type":"connection_init","payload":[1]}`}, false, 4400, "Invalid message received"},
		{"a binary frame", []string{init}, true, 4400, "Invalid message received"},
		{"subscribe before connection_init", []string{`{"type":"subscribe","id":"1","payload":{"query":"{ hello }"}}`}, false, 4401, "Unauthorized"},
		{"connection_init refused", []string{`{"type":"connection_init","payload":{"org":"bad"}}`}, false, 4403, "UNAUTHENTICATED: bad token"},
		{"connection_init refused with a code", []string{`{"type":"connection_init","payload":{"org":"custom"}}`}, false, 4499, "refused by the test"},
		{"no connection_init in time", nil, false, 4408, "Connection initialisation timeout"},
		{"a second connection_init", []string{init, init}, false, 4429, "Too many initialisation requests"},
		{"a duplicate id", []string{init, `{"type":"subscribe","id":"1","payload":{"query":"subscription { ticks }"}}`,
			`{"type":"subscribe","id":"1","payload":{"query":"subscription { ticks }"}}`}, false, 4409, "Subscriber for 1 already exists"},
		{"past the per-connection cap", []string{init, `{"type":"subscribe","id":"1","payload":{"query":"subscription { ticks }"}}`,
			`{"type":"subscribe","id":"2","payload":{"query":"subscription { ticks }"}}`,
			`{"type":"subscribe","id":"3","payload":{"query":"subscription { ticks }"}}`}, false, 4429, "Too many subscriptions (at most 2 per connection, 3 per server)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := srv.dial(t)
			for _, f := range tc.frames {
				c.sendRaw(f)
			}
			if tc.binary {
				_ = c.conn.Write(t.Context(), websocket.MessageBinary, []byte(`{"type":"ping"}`))
			}
			if ce := c.closed(); ce.Code != tc.code || ce.Reason != tc.reason {
				t.Errorf("closed with %d %q, want %d %q", ce.Code, ce.Reason, tc.code, tc.reason)
			}
		})
	}
	eventually(t, "the subscriptions of the closed connections given back", func() bool { return limits.Open() == 0 })

	// The instance's cap: three subscriptions on two connections, the
	// fourth closes its connection with 4429; the others go on.
	a, b := srv.init(t, "a"), srv.init(t, "a")
	a.subscribe("1", `subscription { ticks }`)
	a.subscribe("2", `subscription { ticks }`)
	b.subscribe("1", `subscription { ticks }`)
	eventually(t, "three subscriptions", func() bool { return limits.Open() == 3 })
	b.subscribe("2", `subscription { ticks }`)
	if ce := b.closed(); ce.Code != 4429 || !strings.Contains(ce.Reason, "Too many subscriptions") {
		t.Errorf("past the instance's cap: closed with %d %q, want 4429", ce.Code, ce.Reason)
	}
	eventually(t, "b's subscription given back", func() bool { return limits.Open() == 2 })
	c := srv.init(t, "a")
	c.subscribe("1", `subscription { ticks }`)
	eventually(t, "a place again", func() bool { return limits.Open() == 3 })

	// The connection's own context ends (a token expires): 1000 with the
	// cause; the server shuts down (the request's context ends): 1001,
	// initialised or not.
	expiring := srv.dial(t)
	expiring.sendRaw(`{"type":"connection_init","payload":{"org":"a","expire":true}}`)
	if m := expiring.next(); m.Type != "connection_ack" {
		t.Fatalf("got %+v, want connection_ack", m)
	}
	if ce := expiring.closed(); ce.Code != websocket.StatusNormalClosure || ce.Reason != "token expired" {
		t.Errorf("Init's context ended: closed with %d %q, want 1000 \"token expired\"", ce.Code, ce.Reason)
	}
	waiting := srv.dial(t)
	srv.shutdown()
	for name, c := range map[string]*client{"initialised": a, "uninitialised": waiting} {
		if ce := c.closed(); ce.Code != websocket.StatusGoingAway {
			t.Errorf("%s connection at shutdown: closed with %d %q, want 1001", name, ce.Code, ce.Reason)
		}
	}
	eventually(t, "every subscription given back", func() bool { return limits.Open() == 0 })
}

// TestMissingPong: a connection that does not answer the server's ping
// within two intervals is dropped.
func TestMissingPong(t *testing.T) {
	t.Parallel()
	srv := startServer(t, gqlws.Config{KeepAlive: 50 * time.Millisecond})
	c := srv.init(t, "a")
	began := time.Now()
	for {
		m, err := c.read(5 * time.Second)
		if err != nil {
			if websocket.CloseStatus(err) != -1 {
				t.Errorf("ended with a close frame %v, want the connection dropped", err)
			}
			break
		}
		if m.Type != "ping" {
			t.Fatalf("got %+v, want pings", m)
		}
	}
	if took := time.Since(began); took < 90*time.Millisecond {
		t.Errorf("dropped after %v, before two intervals", took)
	}
}

// TestSubprotocols: the transport takes graphql-transport-ws upgrades and
// leaves those that offer the legacy graphql-ws (which gqlgen's transport
// prefers), or nothing, to another transport.
func TestSubprotocols(t *testing.T) {
	t.Parallel()
	srv := startServer(t, gqlws.Config{})
	c := srv.dial(t, gqlws.Protocol)
	if p := c.conn.Subprotocol(); p != gqlws.Protocol {
		t.Errorf("negotiated %q", p)
	}
	for _, offer := range [][]string{{"graphql-ws", gqlws.Protocol}, {"graphql-ws"}, {}} {
		_, resp, err := websocket.Dial(t.Context(), "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.DialOptions{Subprotocols: offer})
		if err == nil || resp == nil || resp.StatusCode != 400 {
			t.Errorf("offering %v: %v, want the upgrade left to another transport", offer, err)
		}
	}
}
