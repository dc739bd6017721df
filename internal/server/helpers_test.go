package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/server/servertest"
)

// The GraphQL documents a client would send; every value goes in variables.
const (
	accountFields = `
fragment AccountFields on Account {
  id owner currency status version openedAt updatedAt
  balance { amount currency }
}`
	payloadFields = `
fragment PayloadFields on AccountPayload {
  accountId position version upToDate duplicate
  account { ...AccountFields }
}` + accountFields

	openMutation = `mutation Open($input: OpenAccountInput!) {
  openAccount(input: $input) { ...PayloadFields }
}` + payloadFields
	creditMutation = `mutation Credit($input: CreditAccountInput!) {
  creditAccount(input: $input) { ...PayloadFields }
}` + payloadFields
	debitMutation = `mutation Debit($input: DebitAccountInput!) {
  debitAccount(input: $input) { ...PayloadFields }
}` + payloadFields
	closeMutation = `mutation Close($input: CloseAccountInput!) {
  closeAccount(input: $input) { ...PayloadFields }
}` + payloadFields

	accountQuery = `query Account($id: ID!) {
  account(id: $id) { ...AccountFields }
}` + accountFields
	operationsQuery = `query Operations($id: ID!, $first: Int, $after: String) {
  account(id: $id) {
    id
    operations(first: $first, after: $after) {
      edges { cursor node { kind amount { amount currency } balanceAfter { amount currency } description version position recordedAt } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}`
	historyQuery = `query History($id: ID!, $first: Int, $after: String) {
  accountHistory(id: $id, first: $first, after: $after) {
    edges { cursor node { eventId position version type schemaVersion payload recordedAt
      metadata { actor correlationId causationId commandId } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`
	accountsQuery = `query Accounts($first: Int, $after: String, $owner: String, $status: AccountStatus) {
  accounts(first: $first, after: $after, owner: $owner, status: $status) {
    edges { cursor node { ...AccountFields } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}` + accountFields
)

type money struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

type account struct {
	ID        string `json:"id"`
	Owner     string `json:"owner"`
	Currency  string `json:"currency"`
	Status    string `json:"status"`
	Version   int    `json:"version"`
	OpenedAt  string `json:"openedAt"`
	UpdatedAt string `json:"updatedAt"`
	Balance   money  `json:"balance"`
}

type payload struct {
	AccountID string   `json:"accountId"`
	Position  int64    `json:"position"`
	Version   int      `json:"version"`
	UpToDate  bool     `json:"upToDate"`
	Duplicate bool     `json:"duplicate"`
	Account   *account `json:"account"`
}

type pageInfo struct {
	HasNextPage     bool    `json:"hasNextPage"`
	HasPreviousPage bool    `json:"hasPreviousPage"`
	StartCursor     *string `json:"startCursor"`
	EndCursor       *string `json:"endCursor"`
}

type operation struct {
	Kind         string `json:"kind"`
	Amount       money  `json:"amount"`
	BalanceAfter money  `json:"balanceAfter"`
	Description  string `json:"description"`
	Version      int    `json:"version"`
	Position     int64  `json:"position"`
	RecordedAt   string `json:"recordedAt"`
}

type operationsData struct {
	Account *struct {
		ID         string `json:"id"`
		Operations struct {
			Edges []struct {
				Cursor string    `json:"cursor"`
				Node   operation `json:"node"`
			} `json:"edges"`
			PageInfo pageInfo `json:"pageInfo"`
		} `json:"operations"`
	} `json:"account"`
}

type storedEvent struct {
	EventID       string         `json:"eventId"`
	Position      int64          `json:"position"`
	Version       int            `json:"version"`
	Type          string         `json:"type"`
	SchemaVersion int            `json:"schemaVersion"`
	Payload       map[string]any `json:"payload"`
	RecordedAt    string         `json:"recordedAt"`
	Metadata      struct {
		Actor         *string `json:"actor"`
		CorrelationID *string `json:"correlationId"`
		CausationID   *string `json:"causationId"`
		CommandID     *string `json:"commandId"`
	} `json:"metadata"`
}

type historyData struct {
	AccountHistory struct {
		Edges []struct {
			Cursor string      `json:"cursor"`
			Node   storedEvent `json:"node"`
		} `json:"edges"`
		PageInfo pageInfo `json:"pageInfo"`
	} `json:"accountHistory"`
}

type accountsData struct {
	Accounts struct {
		Edges []struct {
			Cursor string  `json:"cursor"`
			Node   account `json:"node"`
		} `json:"edges"`
		PageInfo pageInfo `json:"pageInfo"`
	} `json:"accounts"`
}

// randomSuffix makes owner names and keys unique across tests and runs.
func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// randomUUID returns a random (v4) UUID string.
func randomUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func open(t *testing.T, c *servertest.Client, input servertest.Vars) payload {
	t.Helper()
	var out struct {
		OpenAccount payload `json:"openAccount"`
	}
	c.MustSucceed(t, openMutation, servertest.Vars{"input": input}, &out)
	return out.OpenAccount
}

func credit(t *testing.T, c *servertest.Client, input servertest.Vars) payload {
	t.Helper()
	var out struct {
		CreditAccount payload `json:"creditAccount"`
	}
	c.MustSucceed(t, creditMutation, servertest.Vars{"input": input}, &out)
	return out.CreditAccount
}

func debit(t *testing.T, c *servertest.Client, input servertest.Vars) payload {
	t.Helper()
	var out struct {
		DebitAccount payload `json:"debitAccount"`
	}
	c.MustSucceed(t, debitMutation, servertest.Vars{"input": input}, &out)
	return out.DebitAccount
}

func closeAccount(t *testing.T, c *servertest.Client, input servertest.Vars) payload {
	t.Helper()
	var out struct {
		CloseAccount payload `json:"closeAccount"`
	}
	c.MustSucceed(t, closeMutation, servertest.Vars{"input": input}, &out)
	return out.CloseAccount
}

func getAccount(t *testing.T, c *servertest.Client, id string) account {
	t.Helper()
	var out struct {
		Account *account `json:"account"`
	}
	c.MustSucceed(t, accountQuery, servertest.Vars{"id": id}, &out)
	if out.Account == nil {
		t.Fatalf("account %s: null without an error", id)
	}
	return *out.Account
}

func history(t *testing.T, c *servertest.Client, id string, vars servertest.Vars) historyData {
	t.Helper()
	v := servertest.Vars{"id": id}
	for k, x := range vars {
		v[k] = x
	}
	var out historyData
	c.MustSucceed(t, historyQuery, v, &out)
	return out
}

// allHistory pages through the account's whole history, 100 events a page.
func allHistory(t *testing.T, c *servertest.Client, id string) []storedEvent {
	t.Helper()
	var (
		events []storedEvent
		after  any
	)
	for range 1000 {
		h := history(t, c, id, servertest.Vars{"first": 100, "after": after})
		for _, e := range h.AccountHistory.Edges {
			events = append(events, e.Node)
		}
		if !h.AccountHistory.PageInfo.HasNextPage {
			return events
		}
		after = *h.AccountHistory.PageInfo.EndCursor
	}
	t.Fatal("history: too many pages")
	return nil
}

// allOperations pages through the account's operations, pageSize a page.
func allOperations(t *testing.T, c *servertest.Client, id string, pageSize int) []operation {
	t.Helper()
	var (
		ops   []operation
		after any
	)
	for range 1000 {
		var out operationsData
		c.MustSucceed(t, operationsQuery, servertest.Vars{"id": id, "first": pageSize, "after": after}, &out)
		if out.Account == nil {
			t.Fatalf("operations: account %s is null", id)
		}
		conn := out.Account.Operations
		for _, e := range conn.Edges {
			ops = append(ops, e.Node)
		}
		if !conn.PageInfo.HasNextPage {
			return ops
		}
		after = *conn.PageInfo.EndCursor
	}
	t.Fatal("operations: too many pages")
	return nil
}

func listAccounts(t *testing.T, c *servertest.Client, vars servertest.Vars) accountsData {
	t.Helper()
	var out accountsData
	c.MustSucceed(t, accountsQuery, vars, &out)
	return out
}

// eventually polls cond every 20ms until it returns true or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkUTC fails unless s is an RFC 3339 timestamp in UTC ending with Z.
func checkUTC(t *testing.T, what, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !strings.HasSuffix(s, "Z") {
		t.Errorf("%s = %q, want an RFC 3339 UTC timestamp ending in Z (parse error %v)", what, s, err)
	}
	return ts
}

// checkCleanErrors fails unless every error of resp carries a code, the
// status is not a server error, and no error message looks like a leak.
func checkCleanErrors(t *testing.T, resp *servertest.Response) {
	t.Helper()
	if resp.Status >= 500 {
		t.Errorf("HTTP %d: %s", resp.Status, resp.Body)
	}
	for _, e := range resp.Errors {
		if e.Code() == "" {
			t.Errorf("error without extensions.code: %+v", e)
		}
		for _, leak := range []string{"SQLSTATE", "pgx", "goroutine", ".go:", "panic"} {
			if strings.Contains(e.Message, leak) {
				t.Errorf("error message %q leaks %q", e.Message, leak)
			}
		}
	}
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// in returns the variables {"input": {k1: v1, k2: v2, ...}} of a mutation
// from alternating keys and values.
func in(kv ...any) servertest.Vars {
	v := servertest.Vars{}
	for i := 0; i < len(kv); i += 2 {
		v[kv[i].(string)] = kv[i+1]
	}
	return servertest.Vars{"input": v}
}
