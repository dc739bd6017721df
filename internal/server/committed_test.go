package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
	"github.com/jackc/pgx/v5"
)

// TestCommittedWriteAnswersItsPayload makes the read after a command fail
// once its append has committed: another connection holds an exclusive lock
// on the accounts read model, and the server's connections have a
// statement timeout, so the projection cannot apply the credit and the
// read-your-writes read times out. The client must still get its payload,
// with the position and version of the stored event, upToDate false and no
// account: an error here (INTERNAL, before the kit) makes a client that
// retries without an idempotency key credit twice.
func TestCommittedWriteAnswersItsPayload(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) {
		c.DatabaseURL += "&options=-c%20statement_timeout%3D400"
		c.ReadYourWritesTimeout = 100 * time.Millisecond
	})
	c := srv.Client()
	opened := open(t, c, servertest.Vars{"owner": "Locked " + randomSuffix(), "currency": "EUR", "initialBalance": "1.00"})
	id := opened.AccountID
	eventually(t, 10*time.Second, "the account is projected", func() bool { return balance(t, c, id) == "1.00" })

	ctx := ctxTimeout(t, 30*time.Second)
	conn, err := pgx.Connect(ctx, strings.Split(srv.DatabaseURL, "&options=")[0])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	p := credit(t, c, servertest.Vars{"id": id, "amount": "2.00"})
	if p.UpToDate || p.Account != nil || p.Version != 2 || p.Position <= opened.Position || p.AccountID != id {
		t.Errorf("credit payload with the read model locked = %+v (account %+v), want version 2, upToDate false, no account", p, p.Account)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// The credit is stored exactly once: the event log and, once projected,
	// the balance show it.
	if n := len(allHistory(t, c, id)); n != 2 {
		t.Errorf("history has %d events, want 2", n)
	}
	eventually(t, 10*time.Second, "the balance shows the credit", func() bool { return balance(t, c, id) == "3.00" })
}

// balance returns the projected balance of account id, "" while it is not
// projected.
func balance(t *testing.T, c *servertest.Client, id string) string {
	t.Helper()
	var out struct {
		Account *account `json:"account"`
	}
	resp := c.MustDo(t, accountQuery, servertest.Vars{"id": id})
	if len(resp.Errors) > 0 || resp.Decode(&out) != nil || out.Account == nil {
		return ""
	}
	return out.Account.Balance.Amount
}
