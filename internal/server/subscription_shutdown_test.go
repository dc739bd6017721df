package server_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
	"github.com/coder/websocket"
)

// TestSubscriptionShutdown stops a server with subscriptions open over every
// transport (and a WebSocket that never sent connection_init): Serve returns
// promptly, the WebSockets are closed with 1001 (going away, so clients
// reconnect), the SSE stream completes, and no goroutine is left behind.
//
// Not parallel: it counts the goroutines of the whole test binary, which is
// only meaningful while no other test runs (parallel tests wait for the
// sequential ones to finish).
func TestSubscriptionShutdown(t *testing.T) {
	before := runtime.NumGoroutine()

	srv := servertest.Start(t, func(c *config.Config) {
		c.ShutdownTimeout = 10 * time.Second
		c.WSKeepAlive = 50 * time.Millisecond
	})
	c := srv.Client()
	id := open(t, c, servertest.Vars{"owner": "Shutdown " + randomSuffix(), "currency": "EUR", "initialBalance": "1.00"}).Account.ID
	credit(t, c, servertest.Vars{"id": id, "amount": "1.00"})

	current := srv.MustDialWS(t, servertest.GraphQLTransportWS, nil)
	mustInit(t, current, nil)
	s := newSubs(t, current)
	s.subscribe("acc", accountUpdatedSub, servertest.Vars{"id": id})
	s.subscribe("ops", accountOperationsSub, servertest.Vars{"id": id})
	s.updated("acc")
	s.operation("ops")

	legacy := srv.MustDialWS(t, servertest.GraphQLWS, nil)
	mustInit(t, legacy, nil)
	l := newSubs(t, legacy)
	l.subscribe("1", accountUpdatedSub, servertest.Vars{"id": id})
	l.updated("1")

	uninitialised := srv.MustDialWS(t, servertest.GraphQLTransportWS, nil)

	st, err := c.SubscribeSSE(context.Background(), servertest.Request{Query: accountOperationsSub, Variables: servertest.Vars{"id": id}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sseOperation(t, st)

	began := time.Now()
	if err := srv.Stop(); err != nil {
		t.Fatalf("Serve returned %v", err)
	}
	took := time.Since(began)
	t.Logf("Serve returned %v after the shutdown began", took)
	if took > 3*time.Second {
		t.Errorf("Serve took %v to return, want well under the shutdown timeout", took)
	}

	for name, ws := range map[string]*servertest.WSConn{"graphql-transport-ws": current, "graphql-ws": legacy, "uninitialised": uninitialised} {
		select {
		case <-ws.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: still open after the shutdown", name)
		}
		if code := websocket.CloseStatus(ws.Err()); code != websocket.StatusGoingAway {
			t.Errorf("%s: closed with %v (%v), want 1001 going away", name, code, ws.Err())
		}
	}
	// The subscriptions did not end before the connection did.
	for _, m := range s.pending["acc"] {
		t.Errorf("acc after the shutdown: %s %s", m.Type, m.Payload)
	}
	if ev := nextSSE(t, st); ev.Event != "complete" {
		t.Errorf("SSE at shutdown: %q %s, want complete", ev.Event, ev.Data)
	}
	if _, err := st.Next(ctxTimeout(t, 5*time.Second)); !errors.Is(err, io.EOF) {
		t.Errorf("SSE after complete: %v, want EOF", err)
	}
	c.HTTP.CloseIdleConnections()

	// Allow a little slack for runtime and client-side goroutines that
	// are on their way out.
	const slack = 3
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before+slack {
		if time.Now().After(deadline) {
			var buf bytes.Buffer
			_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
			t.Fatalf("%d goroutines after the shutdown, %d before:\n%s", runtime.NumGoroutine(), before, buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("goroutines: %d before, %d after", before, runtime.NumGoroutine())
}
