package server_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
	"github.com/coder/websocket"
)

// bulkyOperationsSub selects each operation's description n times over
// (as d0 ... d<n-1>), so that a client that does not read fills the socket
// buffers quickly.
func bulkyOperationsSub(n int) string {
	var b strings.Builder
	b.WriteString("subscription Bulky($id: ID!) { accountOperations(id: $id) { cursor node { version ")
	for i := range n {
		fmt.Fprintf(&b, "d%d: description ", i)
	}
	b.WriteString("} } }")
	return b.String()
}

// dialRaw opens a WebSocket to srv's /query without a reader: nothing reads
// what the server sends until the test calls Read.
func dialRaw(t *testing.T, srv *servertest.Server, subprotocol string) *websocket.Conn {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{}}
	// The upgrade request's token stands in for one in connection_init.
	header := http.Header{"Authorization": {"Bearer " + srv.Token(servertest.DefaultIdentity, servertest.TokenTTL)}}
	conn, _, err := websocket.Dial(ctxTimeout(t, 10*time.Second), "ws"+strings.TrimPrefix(srv.URL, "http")+"/query",
		&websocket.DialOptions{Subprotocols: []string{subprotocol}, HTTPClient: hc, HTTPHeader: header})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = conn.CloseNow() })
	return conn
}

func writeRaw(t *testing.T, conn *websocket.Conn, m servertest.WSMessage) {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Write(ctxTimeout(t, 5*time.Second), websocket.MessageText, b); err != nil {
		t.Fatalf("write %s: %v", m.Type, err)
	}
}

// startRaw starts the operations ids with req, without reading anything
// (connection_init must have been sent).
func startRaw(t *testing.T, conn *websocket.Conn, req servertest.Request, ids ...string) {
	t.Helper()
	payload, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	typ := "subscribe"
	if conn.Subprotocol() == servertest.GraphQLWS {
		typ = "start"
	}
	for _, id := range ids {
		writeRaw(t, conn, servertest.WSMessage{Type: typ, ID: id, Payload: payload})
	}
}

// streamRaw sends a GraphQL-over-SSE request on a connection of its own
// and never reads the answer.
func streamRaw(t *testing.T, srv *servertest.Server, req servertest.Request) net.Conn {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	conn, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(conn, "POST /query HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
		"Authorization: Bearer %s\r\nAccept: text/event-stream\r\nContent-Length: %d\r\n\r\n%s",
		host, srv.Token(servertest.DefaultIdentity, servertest.TokenTTL), len(body), body); err != nil {
		t.Fatal(err)
	}
	return conn
}

// TestSlowSubscriber opens subscriptions on connections that never read,
// next to normal subscribers of the same account: after 200 credits the
// normal subscribers got every operation promptly, every mutation was up to
// date, and a slow client that reads at last gets everything, in order. A
// server whose clients are stuck (not reading, their socket buffers full)
// still stops cleanly within its shutdown timeout.
func TestSlowSubscriber(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) {
		c.ReadYourWritesTimeout = 15 * time.Second
		// No keepalives during the test: a graphql-transport-ws client
		// that does not answer pings is dropped after two intervals.
		c.WSKeepAlive = time.Hour
		c.ShutdownTimeout = 10 * time.Second
		// The slow clients stay connected while stuck (see
		// TestStuckSubscriberIsDropped for the time-out).
		c.SubscriptionWriteTimeout = time.Minute
	})
	c := srv.Client()
	id := open(t, c, servertest.Vars{"owner": "Slow " + randomSuffix(), "currency": "EUR"}).Account.ID
	l := newLedger(id, 0)
	vars := servertest.Vars{"id": id}

	// The slow clients, each sent megabytes: one over each WebSocket
	// subprotocol, the first read at the end, the second never; and an SSE
	// stream never read. (About 16 KB an operation and subscription.)
	bulky := servertest.Request{Query: bulkyOperationsSub(32), Variables: vars}
	slowIDs := []string{"s1", "s2", "s3", "s4"}
	slow := dialRaw(t, srv, servertest.GraphQLTransportWS)
	writeRaw(t, slow, servertest.WSMessage{Type: "connection_init"})
	startRaw(t, slow, bulky, slowIDs...)
	stuck := dialRaw(t, srv, servertest.GraphQLWS)
	writeRaw(t, stuck, servertest.WSMessage{Type: "connection_init"})
	startRaw(t, stuck, bulky, slowIDs...)
	startRaw(t, stuck, servertest.Request{Query: accountUpdatedSub, Variables: vars}, "acc")
	streamRaw(t, srv, servertest.Request{Query: bulkyOperationsSub(128), Variables: vars})

	// The normal subscribers.
	ws := srv.MustDialWS(t, servertest.GraphQLTransportWS, nil)
	mustInit(t, ws, nil)
	ops := servertest.NewWSMux(ws).Subscribe(t, "ws ops", "ops", accountOperationsSub, vars)
	sse := servertest.SSEFeed(t, c, "sse ops", accountOperationsSub, vars)
	acc := servertest.SSEFeed(t, srv.Client(), "sse acc", accountUpdatedSub, vars)
	l.expectAccount(t, acc, 0, 1, 10*time.Second)

	const n = 200
	description := strings.Repeat("slow subscribers must not hold anyone up. ", 12)[:499] + "!"
	var worst time.Duration
	began := time.Now()
	for i := 1; i <= n; i++ {
		p := credit(t, c, servertest.Vars{"id": id, "amount": "0.01", "description": description})
		l.record(t, p, 1)
		if !p.UpToDate || p.Account == nil || p.Account.Version != p.Version {
			t.Fatalf("credit %d: payload %+v (account %+v), want up to date", i, p, p.Account)
		}
		returned := time.Now()
		for _, f := range []servertest.Feed{ops, sse} {
			l.expectOperations(t, f, p.Version, p.Version, 5*time.Second)
		}
		worst = max(worst, time.Since(returned))
		if i%50 == 0 {
			l.expectAccount(t, acc, l.version-50, l.version, 5*time.Second)
		}
	}
	t.Logf("%d credits in %v; the slowest operation reached both normal subscribers %v after its mutation returned", n, time.Since(began), worst)
	if worst > 2*time.Second {
		t.Errorf("an operation reached the normal subscribers %v after its mutation returned, want promptly", worst)
	}
	for _, f := range []servertest.Feed{ops, sse, acc} {
		f.Quiet(t, 100*time.Millisecond)
	}

	// The slow client reads at last: every operation of every one of its
	// subscriptions, in order, once.
	readCtx := ctxTimeout(t, 30*time.Second)
	next := map[string]int{}
	for _, sid := range slowIDs {
		next[sid] = 2
	}
	for done := 0; done < len(slowIDs); {
		_, b, err := slow.Read(readCtx)
		if err != nil {
			t.Fatalf("slow client: read: %v (next versions %v)", err, next)
		}
		var msg servertest.WSMessage
		if err := json.Unmarshal(b, &msg); err != nil {
			t.Fatalf("slow client: %v", err)
		}
		switch {
		case msg.Type == "connection_ack":
			continue
		case !msg.IsNext():
			t.Fatalf("slow client: %s %s", msg.Type, msg.Payload)
		}
		var out struct {
			Data struct {
				AccountOperations struct {
					Node map[string]any `json:"node"`
				} `json:"accountOperations"`
			} `json:"data"`
		}
		if err := json.Unmarshal(msg.Payload, &out); err != nil {
			t.Fatalf("slow client: %v", err)
		}
		node := out.Data.AccountOperations.Node
		v, _ := node["version"].(float64)
		want, ok := next[msg.ID]
		if !ok || int(v) != want || node["d31"] != description {
			t.Fatalf("slow client: %s got version %v (description %.20q), want %d", msg.ID, v, node["d31"], want)
		}
		next[msg.ID]++
		if next[msg.ID] == n+2 {
			done++
		}
	}

	// The others are still stuck when the server stops: it ends their
	// streams anyway, within the shutdown timeout.
	stopping := time.Now()
	if err := srv.Stop(); err != nil {
		t.Errorf("stop with stuck clients: %v", err)
	}
	took := time.Since(stopping)
	t.Logf("stopped in %v", took)
	if took > srv.Config.ShutdownTimeout {
		t.Errorf("stop with stuck clients took %v, more than the shutdown timeout", took)
	}
}
