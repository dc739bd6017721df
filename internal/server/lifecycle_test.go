package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
	"github.com/jackc/pgx/v5"
)

// projectionLock is the advisory lock the accounts projection's runner must
// win to run (see projection.runner.acquire).
const projectionLock = `hashtextextended('chronicle projection ' || 'accounts', 0)`

// TestReadYourWritesTimeout starts a server whose projection cannot run (the
// test holds its lock): commands still succeed, stored, with upToDate false
// and no account; once the lock is free the account appears.
func TestReadYourWritesTimeout(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	ctx := ctxTimeout(t, 30*time.Second)
	lockConn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer lockConn.Close(context.Background())
	var locked bool
	if err := lockConn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+projectionLock+`)`).Scan(&locked); err != nil || !locked {
		t.Fatalf("take the projection lock: %v, %v", locked, err)
	}

	cfg := servertest.Config()
	cfg.DatabaseURL = dbURL
	cfg.ReadYourWritesTimeout = 300 * time.Millisecond
	srv := servertest.StartWith(t, cfg)
	c := srv.Client()

	// The payload names the new account, whose view is null until the
	// projection has run.
	began := time.Now()
	p := open(t, c, servertest.Vars{"owner": "Standby", "currency": "EUR", "initialBalance": "7.00"})
	id := p.AccountID
	if waited := time.Since(began); waited < 300*time.Millisecond {
		t.Errorf("openAccount answered after %v, before the read-your-writes timeout", waited)
	}
	if p.UpToDate || p.Account != nil || p.Version != 1 || p.Position <= 0 || p.Duplicate {
		t.Fatalf("openAccount payload = %+v (account %+v), want upToDate false, account null, version 1", p, p.Account)
	}
	// The write is stored: the domain sees it, the event log shows it.
	p = credit(t, c, servertest.Vars{"id": id, "amount": "3.00"})
	if p.UpToDate || p.Account != nil || p.Version != 2 {
		t.Fatalf("creditAccount payload = %+v, want upToDate false, account null, version 2", p)
	}
	events := allHistory(t, c, id)
	if len(events) != 2 || events[0].Type != "AccountOpened" || events[1].Type != "AccountCredited" {
		t.Fatalf("history = %+v, want AccountOpened, AccountCredited", events)
	}
	// The read model does not have it yet.
	c.MustFail(t, "NOT_FOUND", accountQuery, servertest.Vars{"id": id})
	if l := listAccounts(t, c, servertest.Vars{"owner": "Standby"}); len(l.Accounts.Edges) != 0 {
		t.Fatalf("accounts(owner) = %+v before the projection ran", l.Accounts.Edges)
	}

	// Free the lock: the server's runner takes over and catches up.
	if _, err := lockConn.Exec(ctx, `SELECT pg_advisory_unlock(`+projectionLock+`)`); err != nil {
		t.Fatal(err)
	}
	var acc account
	eventually(t, 10*time.Second, "the account to be projected", func() bool {
		resp := c.MustDo(t, accountQuery, servertest.Vars{"id": id})
		if len(resp.Errors) > 0 {
			if resp.Errors[0].Code() != "NOT_FOUND" {
				t.Fatalf("account(id): %+v", resp.Errors)
			}
			return false
		}
		var out struct {
			Account account `json:"account"`
		}
		if err := resp.Decode(&out); err != nil {
			t.Fatal(err)
		}
		acc = out.Account
		return acc.Version == 2
	})
	if acc.Balance != (money{"10.00", "EUR"}) || acc.Status != "OPEN" {
		t.Errorf("projected account = %+v, want 10.00 EUR", acc)
	}
	// New writes are projected again. (Whether within this server's short
	// 300ms wait depends on the load on the machine and on transactions
	// elsewhere in the cluster, so only eventually.)
	p = debit(t, c, servertest.Vars{"id": id, "amount": "10.00"})
	if p.Version != 3 || (p.UpToDate && (p.Account == nil || p.Account.Version != 3 || p.Account.Balance.Amount != "0.00")) {
		t.Errorf("debit after the takeover = %+v (account %+v)", p, p.Account)
	}
	eventually(t, 10*time.Second, "the debit to be projected", func() bool {
		acc = getAccount(t, c, id)
		return acc.Version == 3
	})
	if acc.Balance.Amount != "0.00" {
		t.Errorf("account after the debit = %+v, want 0.00", acc)
	}
}

// TestHealthAndPlayground checks the plain HTTP endpoints and the body limit.
func TestHealthAndPlayground(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(cfg *config.Config) { cfg.MaxRequestBytes = 512 })
	hc := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := hc.Get(srv.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get("/healthz"); code != http.StatusOK || !strings.Contains(body, "ok") {
		t.Errorf("GET /healthz = %d %q", code, body)
	}
	if code, body := get("/readyz"); code != http.StatusOK || !strings.Contains(body, "ready") {
		t.Errorf("GET /readyz = %d %q", code, body)
	}
	// The playground: a GraphiQL page pointed at /query (written as a JS
	// string, so possibly as "\/query").
	if code, body := get("/"); code != http.StatusOK || !strings.Contains(strings.ToLower(body), "graphiql") ||
		!(strings.Contains(body, `"/query"`) || strings.Contains(body, `"\/query"`)) {
		t.Errorf("GET / = %d, body without the playground:\n%s", code, body)
	}
	if code, _ := get("/nope"); code != http.StatusNotFound {
		t.Errorf("GET /nope = %d, want 404", code)
	}

	c := srv.Client()
	// A small request passes the limit.
	c.MustSucceed(t, `query { accounts { edges { cursor } } }`, nil, nil)

	// A body over MaxRequestBytes is refused, with a GraphQL error and
	// without a 500, and nothing is executed.
	// Padding the query with a comment makes a request that would
	// otherwise succeed.
	padded := openMutation + "\n# " + strings.Repeat("x", 1000)
	resp, err := c.Do(context.Background(), servertest.Request{Query: padded,
		Variables: servertest.Vars{"input": servertest.Vars{"owner": "Big", "currency": "EUR"}}})
	switch {
	case err != nil && resp == nil:
		// The server may close the connection on an over-long body; that
		// is a refusal too, but it must not be a 5xx answer.
		t.Logf("over-long body: transport error %v", err)
	case err != nil:
		t.Errorf("over-long body: HTTP %d, undecodable body: %v", resp.Status, err)
	default:
		checkCleanErrors(t, resp)
		if len(resp.Errors) != 1 || !strings.Contains(resp.Errors[0].Message, "too large") {
			t.Errorf("over-long body: HTTP %d, errors %+v, want one saying the body is too large", resp.Status, resp.Errors)
		}
		t.Logf("over-long body: HTTP %d, %+v", resp.Status, resp.Errors)
	}
	if l := listAccounts(t, c, servertest.Vars{}); len(l.Accounts.Edges) != 0 {
		t.Errorf("the refused request opened an account: %+v", l.Accounts.Edges)
	}
	// The server still answers afterwards.
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz after the refusal = %d", code)
	}
}

// TestGracefulShutdown cancels the server while mutations are in flight:
// each request either completes normally or fails at the connection level,
// every acknowledged write is stored, and Serve returns nil.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.Client()
	id := open(t, c, servertest.Vars{"owner": "Shutdown", "currency": "EUR"}).Account.ID

	const workers = 20
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		acked     = map[int64]int{} // position -> version of each acknowledged credit
		transport atomic.Int64
		started   atomic.Int64
	)
	ctx := ctxTimeout(t, 30*time.Second)
	for w := range workers {
		wg.Go(func() {
			for {
				started.Add(1)
				resp, err := c.Do(ctx, servertest.Request{Query: creditMutation,
					Variables: servertest.Vars{"input": servertest.Vars{"id": id, "amount": "1.00"}}})
				if err != nil {
					if resp != nil {
						t.Errorf("worker %d: HTTP %d with an undecodable body: %v", w, resp.Status, err)
					}
					transport.Add(1)
					return // the server is gone
				}
				if resp.Status != http.StatusOK || len(resp.Errors) > 0 {
					t.Errorf("worker %d: HTTP %d, errors %+v", w, resp.Status, resp.Errors)
					return
				}
				var out struct {
					CreditAccount payload `json:"creditAccount"`
				}
				if err := resp.Decode(&out); err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
				mu.Lock()
				acked[out.CreditAccount.Position] = out.CreditAccount.Version
				mu.Unlock()
			}
		})
	}
	// Let the workers get going, then shut down under load.
	eventually(t, 10*time.Second, "some credits to complete", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= workers
	})
	if err := srv.Stop(); err != nil {
		t.Fatalf("Serve returned %v, want nil", err)
	}
	wg.Wait()
	t.Logf("%d requests sent, %d acknowledged, %d failed at the transport level", started.Load(), len(acked), transport.Load())
	if transport.Load() != workers {
		t.Errorf("%d workers stopped on a transport error, want all %d", transport.Load(), workers)
	}

	// Every acknowledged credit is stored; the stream has no gaps.
	conn, err := pgx.Connect(ctx, srv.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT position, version, type FROM events WHERE stream_id = $1 ORDER BY version`, id)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int64]int{}
	version := 0
	credits := 0
	for rows.Next() {
		var (
			pos int64
			v   int
			typ string
		)
		if err := rows.Scan(&pos, &v, &typ); err != nil {
			t.Fatal(err)
		}
		version++
		if v != version {
			t.Errorf("stream version %d follows %d", v, version-1)
		}
		if typ == "AccountCredited" {
			credits++
		}
		stored[pos] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for pos, v := range acked {
		if stored[pos] != v {
			t.Errorf("acknowledged credit at position %d, version %d is not stored", pos, v)
		}
	}
	if credits < len(acked) {
		t.Errorf("%d credits stored, fewer than the %d acknowledged", credits, len(acked))
	}

	// A new server on the same database projects everything stored.
	cfg := srv.Config
	again := servertest.StartWith(t, cfg)
	c2 := again.Client()
	var acc account
	eventually(t, 10*time.Second, "the new server's projection to catch up", func() bool {
		acc = getAccount(t, c2, id)
		return acc.Version == version
	})
	if want := (money{Amount: formatCents(credits * 100), Currency: "EUR"}); acc.Balance != want {
		t.Errorf("balance after restart = %+v, want %+v (%d credits stored)", acc.Balance, want, credits)
	}
	if ops := allOperations(t, c2, id, 100); len(ops) != credits {
		t.Errorf("%d operations after restart, want %d", len(ops), credits)
	}

	// Requests to the stopped server fail at the transport level.
	if _, err := c.Do(ctx, servertest.Request{Query: accountQuery, Variables: servertest.Vars{"id": id}}); err == nil {
		t.Error("the stopped server still answered")
	} else if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("request to the stopped server hung: %v", err)
	}
}

func formatCents(cents int) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }
