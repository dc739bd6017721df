package server_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/redistest"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
	"github.com/jackc/pgx/v5"
)

// lockTable takes a lock on table in mode (e.g. "ACCESS EXCLUSIVE", which
// holds every reader, or "SHARE", which holds the writers only) within a
// transaction of its own, until release.
func lockTable(t *testing.T, databaseURL, table, mode string) (release func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE "+table+" IN "+mode+" MODE"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			_ = tx.Rollback(ctx)
			_ = conn.Close(ctx)
		})
	}
	t.Cleanup(release)
	return release
}

// waitForLockWaiters waits until n statements of the database wait for a
// lock.
func waitForLockWaiters(t *testing.T, databaseURL string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for {
		var waiting int
		err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		if err != nil {
			t.Fatalf("waiting for %d lock waiters: %v", n, err)
		}
		if waiting >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Requests beyond MAX_CONCURRENT_REQUESTS are refused at once (503,
// Retry-After, OVERLOADED) instead of queueing behind the ones served;
// subscription streams are not counted among them. Before, the third
// request waited for the lock like the others.
func TestOverloadRefusedFast(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) { c.MaxConcurrentRequests = 2 })
	client := srv.Client()
	client.MustSucceed(t, `{ accounts(first: 1) { edges { cursor } } }`, nil, nil)

	release := lockTable(t, srv.DatabaseURL, "accounts", "ACCESS EXCLUSIVE")
	var held sync.WaitGroup
	for range 2 {
		held.Go(func() {
			if resp, err := client.Do(context.Background(), servertest.Request{Query: `{ accounts(first: 1) { edges { cursor } } }`}); err != nil || len(resp.Errors) > 0 {
				t.Errorf("a held request: %v %+v", err, resp)
			}
		})
	}
	waitForLockWaiters(t, srv.DatabaseURL, 2)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := client.Do(ctx, servertest.Request{Query: `{ __typename }`})
	if err != nil {
		t.Fatalf("the third request was not refused at once: %v", err)
	}
	if resp.Status != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		len(resp.Codes()) != 1 || resp.Codes()[0] != "OVERLOADED" {
		t.Errorf("third request: HTTP %d, Retry-After %q, body %s; want 503 with Retry-After and OVERLOADED",
			resp.Status, resp.Header.Get("Retry-After"), resp.Body)
	}
	// A subscription stream still opens: streams are bounded apart.
	ws := srv.MustDialWS(t, servertest.GraphQLTransportWS, nil)
	if err := ws.Init(ctx, map[string]any{"token": client.Token}); err != nil {
		t.Errorf("a WebSocket while the requests are at their bound: %v", err)
	}
	_ = ws.Close()

	release()
	held.Wait()
	client.MustSucceed(t, `{ __typename }`, nil, nil)
}

// A request is bounded by REQUEST_TIMEOUT: a query held by a lock ends with
// REQUEST_TIMEOUT (not INTERNAL, not a hang), and a command whose
// read-your-writes wait is held (its projection cannot write) still ends in
// its payload, with upToDate false, at the request's deadline. Before,
// both waited for the lock (and the command for READ_YOUR_WRITES_TIMEOUT).
func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) {
		c.RequestTimeout = 500 * time.Millisecond
		c.ReadYourWritesTimeout = time.Minute
	})
	client := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	release := lockTable(t, srv.DatabaseURL, "accounts", "ACCESS EXCLUSIVE")
	resp, err := client.Do(ctx, servertest.Request{Query: `{ accounts(first: 1) { edges { cursor } } }`})
	if err != nil {
		t.Fatalf("a query held by a lock: %v", err)
	}
	if codes := resp.Codes(); len(codes) != 1 || codes[0] != "REQUEST_TIMEOUT" {
		t.Errorf("a query held by a lock: HTTP %d %s, want REQUEST_TIMEOUT", resp.Status, resp.Body)
	}
	release()

	// SHARE holds the projection's writes, not the reads.
	release = lockTable(t, srv.DatabaseURL, "accounts", "SHARE")
	resp, err = client.Do(ctx, servertest.Request{Query: openMutation,
		Variables: servertest.Vars{"input": servertest.Vars{"owner": "timeout-" + randomSuffix(), "currency": "EUR"}}})
	if err != nil {
		t.Fatalf("a command whose read-your-writes wait is held: %v", err)
	}
	var out struct {
		OpenAccount payload `json:"openAccount"`
	}
	if len(resp.Errors) > 0 || resp.Decode(&out) != nil {
		t.Fatalf("a command whose read-your-writes wait is held: HTTP %d %s, want its payload", resp.Status, resp.Body)
	}
	if p := out.OpenAccount; p.UpToDate || p.Position == 0 || p.Version != 1 {
		t.Errorf("payload %+v, want upToDate false with the append's position and version 1", p)
	}
	release()
}

// Each organization's requests are limited over every instance (through
// Redis); another organization is not affected.
func TestRateLimitPerOrganization(t *testing.T) {
	t.Parallel()
	tune := func(c *config.Config) {
		c.RedisURL = redistest.SharedURL()
		c.RedisChannel = "chronicle-test:" + randomSuffix()
		c.RateLimit = 3
		c.RateLimitPeriod = time.Hour // no refill within the test
	}
	a := servertest.Start(t, tune)
	cfg := a.Config
	b := servertest.StartWith(t, cfg) // a second instance of the same deployment

	acme, other := a.ClientAs("alice", "acme-"+randomSuffix()), a.ClientAs("bob", "other-"+randomSuffix())
	acme.MustSucceed(t, `{ __typename }`, nil, nil)
	acme.MustSucceed(t, `{ __typename }`, nil, nil)
	acmeOnB := *acme
	acmeOnB.URL = b.URL + "/query"
	acmeOnB.MustSucceed(t, `{ __typename }`, nil, nil)
	for _, c := range []*servertest.Client{acme, &acmeOnB} {
		resp, err := c.Do(context.Background(), servertest.Request{Query: `{ __typename }`})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
			len(resp.Codes()) != 1 || resp.Codes()[0] != "RATE_LIMITED" {
			t.Errorf("4th request of the organization at %s: HTTP %d, Retry-After %q, %s; want 429, Retry-After, RATE_LIMITED",
				c.URL, resp.Status, resp.Header.Get("Retry-After"), resp.Body)
		}
	}
	other.MustSucceed(t, `{ __typename }`, nil, nil)
}

// blackhole is a TCP proxy to upstream that, once swallowing, forwards
// nothing more in either direction (a partition without a reset).
type blackhole struct {
	ln         net.Listener
	upstream   string
	swallowing atomic.Bool
}

func newBlackhole(t *testing.T, upstream string) *blackhole {
	t.Helper()
	return newBlackholeAt(t, "127.0.0.1:0", upstream)
}

// newBlackholeAt is newBlackhole listening at addr.
func newBlackholeAt(t *testing.T, addr, upstream string) *blackhole {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p := &blackhole{ln: ln, upstream: upstream}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(t, c)
		}
	}()
	return p
}

func (p *blackhole) serve(t *testing.T, c net.Conn) {
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		_ = c.Close()
		return
	}
	t.Cleanup(func() { _ = c.Close(); _ = up.Close() })
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 && !p.swallowing.Load() {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	go pipe(up, c)
	go pipe(c, up)
}

// Redis is not a hard dependency of the rate limit: when it stops
// answering, requests go through (after RATE_LIMIT_REDIS_TIMEOUT), and the
// server says so in its log.
func TestRateLimitLetsThroughWithoutRedis(t *testing.T) {
	t.Parallel()
	upstream := strings.TrimSuffix(strings.TrimPrefix(redistest.SharedURL(), "redis://"), "/0")
	proxy := newBlackhole(t, upstream)
	srv := servertest.Start(t, func(c *config.Config) {
		c.RedisURL = "redis://" + proxy.ln.Addr().String() + "/0"
		c.RedisChannel = "chronicle-test:" + randomSuffix()
		c.RateLimit = 1000
	})
	client := srv.Client()
	client.MustSucceed(t, `{ __typename }`, nil, nil)
	proxy.swallowing.Store(true)
	for range 3 {
		resp, err := client.Do(context.Background(), servertest.Request{Query: `{ __typename }`})
		if err != nil || resp.Status != http.StatusOK || len(resp.Errors) > 0 {
			t.Fatalf("with Redis partitioned: %v %+v", err, resp)
		}
	}
	if !strings.Contains(srv.Log(), "rate limit not checked") {
		t.Errorf("no log line says the rate limit was not checked:\n%s", srv.Log())
	}
}

// A client that sends its body slowly is cut: without a token at once,
// before its body is read; with one, at HTTP_READ_TIMEOUT. Before, both
// held their connection as long as they liked.
func TestSlowBodiesAreCut(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) { c.HTTPReadTimeout = 500 * time.Millisecond })
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct{ name, auth, status string }{
		{"without a token", "", "401"},
		{"with a token", "Authorization: Bearer " + srv.Client().Token + "\r\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// Headers, then the first byte of a 100,000-byte body, then
			// nothing.
			_, err = io.WriteString(conn, "POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
				tc.auth+"Content-Length: 100000\r\n\r\n{")
			if err != nil {
				t.Fatal(err)
			}
			// Not a timed assertion: a bound on the wait, far above the
			// read timeout, so that a held connection fails the test.
			_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			got, err := io.ReadAll(conn)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server held the connection of a slow body (read %q)", got)
			}
			if tc.status != "" && !strings.HasPrefix(string(got), "HTTP/1.1 "+tc.status) {
				t.Errorf("answer %q, want HTTP %s", got, tc.status)
			}
		})
	}
}

// HTTP_READ_TIMEOUT does not cut the streams, which read (WebSocket) or
// are read (SSE) for as long as they live.
func TestLongRequestsOutliveTheReadTimeout(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) {
		c.HTTPReadTimeout = 200 * time.Millisecond
		c.WSKeepAlive = 100 * time.Millisecond
	})
	client := srv.Client()
	opened := open(t, client, servertest.Vars{"owner": "streams-" + randomSuffix(), "currency": "EUR"})
	if opened.Account == nil {
		t.Fatalf("openAccount: %+v", opened)
	}
	id := opened.Account.ID
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sub := servertest.Request{Query: `subscription($id: ID!) { accountUpdated(id: $id) { id version } }`, Variables: servertest.Vars{"id": id}}

	sse, err := client.SubscribeSSE(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	defer sse.Close()
	if _, err := sse.Next(ctx); err != nil {
		t.Fatalf("SSE: first event: %v", err)
	}
	ws := srv.MustDialWS(t, servertest.GraphQLTransportWS, nil)
	defer ws.Close()
	if err := ws.Init(ctx, map[string]any{"token": client.Token}); err != nil {
		t.Fatal(err)
	}
	if err := ws.Subscribe(ctx, "1", sub); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Next(ctx); err != nil {
		t.Fatalf("WebSocket: first message: %v", err)
	}

	time.Sleep(5 * srv.Config.HTTPReadTimeout)
	select {
	case <-sse.Done():
		t.Error("the SSE stream ended at the read timeout")
	case <-ws.Done():
		t.Errorf("the WebSocket ended at the read timeout: %v", ws.Err())
	default:
	}
	if sse.Comments() == 0 || ws.KeepAlives() == 0 {
		t.Errorf("keepalives: SSE %d, WebSocket %d; want both streams alive", sse.Comments(), ws.KeepAlives())
	}
}

// Mutations beyond MAX_CONCURRENT_COMMANDS are refused (503, OVERLOADED)
// before they write, while queries are still served: commands, which hold
// their slot through the read-your-writes wait, cannot take every request
// slot.
func TestCommandsBoundedApart(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) {
		c.MaxConcurrentCommands = 1
		c.ReadYourWritesTimeout = time.Minute
	})
	client := srv.Client()
	openInput := func() servertest.Vars {
		return servertest.Vars{"input": servertest.Vars{"owner": "slots-" + randomSuffix(), "currency": "EUR"}}
	}
	// SHARE holds the projection's writes: the first command waits for
	// its read-your-writes in its slot.
	release := lockTable(t, srv.DatabaseURL, "accounts", "SHARE")
	held := make(chan error, 1)
	go func() {
		_, err := client.Do(context.Background(), servertest.Request{Query: openMutation, Variables: openInput()})
		held <- err
	}()
	// Its event is stored: it is in its read-your-writes wait.
	conn, err := pgx.Connect(context.Background(), srv.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM events").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first command appended nothing")
		}
	}

	resp, err := client.Do(context.Background(), servertest.Request{Query: openMutation, Variables: openInput()})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		len(resp.Codes()) != 1 || resp.Codes()[0] != "OVERLOADED" {
		t.Errorf("second command: HTTP %d, Retry-After %q, %s; want 503, Retry-After, OVERLOADED", resp.Status, resp.Header.Get("Retry-After"), resp.Body)
	}
	client.MustSucceed(t, `{ accounts(first: 1) { edges { cursor } } }`, nil, nil)
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM events").Scan(&n); err != nil || n != 1 {
		t.Errorf("events: %d (%v), want 1: the refused command must write nothing", n, err)
	}
	release()
	if err := <-held; err != nil {
		t.Errorf("the held command: %v", err)
	}
}
