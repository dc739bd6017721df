package server_test

import (
	"context"
	"github.com/google/uuid"
	"net/http"
	"strings"
	"testing"

	"github.com/chronicle-es/chronicle/internal/server/servertest"
	"github.com/jackc/pgx/v5"
)

// TestErrorCodes checks that every failure a client can cause comes back as
// HTTP 200 with a GraphQL error carrying extensions.code, changes nothing,
// and never becomes a 500.
func TestErrorCodes(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.Client()

	eur := open(t, c, servertest.Vars{"owner": "Errors " + randomSuffix(), "currency": "EUR", "initialBalance": "10.00"}).Account.ID
	jpy := open(t, c, servertest.Vars{"owner": "Errors JPY", "currency": "JPY", "initialBalance": "1000"}).Account.ID

	t.Run("INSUFFICIENT_FUNDS", func(t *testing.T) {
		e := c.MustFail(t, "INSUFFICIENT_FUNDS", debitMutation, in("id", eur, "amount", "10.01"))
		if !strings.Contains(e.Message, "10.00 EUR") || !strings.Contains(e.Message, "10.01 EUR") {
			t.Errorf("message %q does not name the balance and the debit", e.Message)
		}
		if len(e.Path) != 1 || e.Path[0] != "debitAccount" {
			t.Errorf("path = %v, want [debitAccount]", e.Path)
		}
	})

	badInput := []struct {
		name  string
		query string
		vars  servertest.Vars
	}{
		{"negative amount", creditMutation, in("id", eur, "amount", "-1.00")},
		{"negative debit", debitMutation, in("id", eur, "amount", "-1.00")},
		{"zero amount", creditMutation, in("id", eur, "amount", "0.00")},
		{"comma amount", creditMutation, in("id", eur, "amount", "1,00")},
		{"word amount", creditMutation, in("id", eur, "amount", "abc")},
		{"exponent amount", creditMutation, in("id", eur, "amount", "1e3")},
		{"empty amount", creditMutation, in("id", eur, "amount", "")},
		{"padded amount", creditMutation, in("id", eur, "amount", " 1.00")},
		{"too many EUR decimals", creditMutation, in("id", eur, "amount", "1.001")},
		{"decimals in JPY", creditMutation, in("id", jpy, "amount", "1.5")},
		{"too long description", creditMutation, in("id", eur, "amount", "1.00", "description", strings.Repeat("x", 501))},
		{"negative expectedVersion", creditMutation, in("id", eur, "amount", "1.00", "expectedVersion", -1)},
		{"malformed id in credit", creditMutation, in("id", "not-a-uuid", "amount", "1.00")},
		{"malformed id in close", closeMutation, in("id", "not-a-uuid")},
		{"nil uuid", creditMutation, in("id", "00000000-0000-0000-0000-000000000000", "amount", "1.00")},
		{"malformed id in account", accountQuery, servertest.Vars{"id": "not-a-uuid"}},
		{"malformed id in history", historyQuery, servertest.Vars{"id": "not-a-uuid"}},
		{"unknown currency", openMutation, in("owner", "Bob", "currency", "XYZ")},
		{"lowercase currency", openMutation, in("owner", "Bob", "currency", "eur")},
		{"negative initial balance", openMutation, in("owner", "Bob", "currency", "EUR", "initialBalance", "-1.00")},
		{"malformed initial balance", openMutation, in("owner", "Bob", "currency", "EUR", "initialBalance", "1.5.0")},
		{"empty owner", openMutation, in("owner", "", "currency", "EUR")},
		{"blank owner", openMutation, in("owner", "   ", "currency", "EUR")},
		{"too long owner", openMutation, in("owner", strings.Repeat("o", 201), "currency", "EUR")},
		{"first 0", operationsQuery, servertest.Vars{"id": eur, "first": 0}},
		{"first 101", historyQuery, servertest.Vars{"id": eur, "first": 101}},
		{"garbage cursor", operationsQuery, servertest.Vars{"id": eur, "after": "garbage!"}},
		{"cursor of another list", accountsQuery, servertest.Vars{"after": "ZXZlbnQ6MQ"}}, // "event:1"
	}
	for _, tc := range badInput {
		t.Run("BAD_USER_INPUT/"+tc.name, func(t *testing.T) {
			e := c.MustFail(t, "BAD_USER_INPUT", tc.query, tc.vars)
			if e.Message == "" || e.Message == "internal error" {
				t.Errorf("message %q does not say what is wrong", e.Message)
			}
		})
	}

	t.Run("nothing changed", func(t *testing.T) {
		if a := getAccount(t, c, eur); a.Balance != (money{"10.00", "EUR"}) || a.Version != 1 {
			t.Errorf("account after refused commands = %+v, want 10.00 EUR at version 1", a)
		}
		if n := len(allHistory(t, c, eur)); n != 1 {
			t.Errorf("history has %d events after refused commands, want 1", n)
		}
		if l := listAccounts(t, c, servertest.Vars{"owner": "Bob"}); len(l.Accounts.Edges) != 0 {
			t.Errorf("refused opens created accounts: %+v", l.Accounts.Edges)
		}
	})

	t.Run("NOT_FOUND", func(t *testing.T) {
		missing := randomUUID()
		resp := c.MustDo(t, accountQuery, servertest.Vars{"id": missing})
		if resp.Status != http.StatusOK || len(resp.Errors) != 1 || resp.Errors[0].Code() != "NOT_FOUND" {
			t.Fatalf("account(random id): HTTP %d, errors %+v, want one NOT_FOUND", resp.Status, resp.Errors)
		}
		var out struct {
			Account *account `json:"account"`
		}
		if err := resp.Decode(&out); err != nil || out.Account != nil {
			t.Errorf("account(random id) data = %s, want account null", resp.Data)
		}
		if p := resp.Errors[0].Path; len(p) != 1 || p[0] != "account" {
			t.Errorf("path = %v, want [account]", p)
		}
		// Upper case ids are the same account.
		if a := getAccount(t, c, strings.ToUpper(eur)); a.ID != eur {
			t.Errorf("account(upper-case id) = %s, want %s", a.ID, eur)
		}
		c.MustFail(t, "NOT_FOUND", creditMutation, in("id", missing, "amount", "1.00"))
		c.MustFail(t, "NOT_FOUND", debitMutation, in("id", missing, "amount", "1.00"))
		c.MustFail(t, "NOT_FOUND", closeMutation, in("id", missing))
		// The refused commands created no stream: its history is not found.
		c.MustFail(t, "NOT_FOUND", historyQuery, servertest.Vars{"id": missing})
	})

	t.Run("CONFLICT", func(t *testing.T) {
		id := open(t, c, servertest.Vars{"owner": "Conflict", "currency": "EUR"}).Account.ID
		p := credit(t, c, servertest.Vars{"id": id, "amount": "5.00", "expectedVersion": 1})
		if p.Version != 2 {
			t.Fatalf("credit at expectedVersion 1 -> version %d, want 2", p.Version)
		}
		e := c.MustFail(t, "CONFLICT", creditMutation, in("id", id, "amount", "5.00", "expectedVersion", 1))
		if !strings.Contains(e.Message, "version") {
			t.Errorf("conflict message %q does not mention the version", e.Message)
		}
		c.MustFail(t, "CONFLICT", debitMutation, in("id", id, "amount", "1.00", "expectedVersion", 7))
		c.MustFail(t, "CONFLICT", closeMutation, in("id", id, "expectedVersion", 0))
		if p := debit(t, c, servertest.Vars{"id": id, "amount": "5.00", "expectedVersion": 2}); p.Version != 3 || p.Account.Balance.Amount != "0.00" {
			t.Errorf("debit at expectedVersion 2 = %+v", p)
		}
		if n := len(allHistory(t, c, id)); n != 3 {
			t.Errorf("history has %d events, want 3", n)
		}
	})

	t.Run("server-chosen id", func(t *testing.T) {
		p := open(t, c, servertest.Vars{"owner": "Chosen", "currency": "KWD", "initialBalance": "1.250"})
		id, err := uuid.Parse(p.AccountID)
		if err != nil || id.Version() != 7 || p.Account == nil || p.Account.ID != p.AccountID || p.Account.Balance != (money{"1.250", "KWD"}) {
			t.Errorf("open = %+v (account %+v), want a UUIDv7 id", p, p.Account)
		}
	})

	t.Run("GraphQL errors have codes", func(t *testing.T) {
		cases := []struct {
			name, query string
			vars        servertest.Vars
			code        string
		}{
			{"unknown field", `query($id: ID!) { account(id: $id) { id nope } }`, servertest.Vars{"id": eur}, "GRAPHQL_VALIDATION_FAILED"},
			{"syntax error", `query { account(id: `, nil, "GRAPHQL_PARSE_FAILED"},
			{"missing variable", accountQuery, nil, "GRAPHQL_VALIDATION_FAILED"},
			{"wrong variable type", creditMutation, in("id", eur, "amount", "1.00", "expectedVersion", "abc"), "GRAPHQL_VALIDATION_FAILED"},
			{"object for a string", creditMutation, in("id", eur, "amount", servertest.Vars{"a": 1}), "GRAPHQL_VALIDATION_FAILED"},
			{"unknown input field", creditMutation, in("id", eur, "amount", "1.00", "bogus", 1), "GRAPHQL_VALIDATION_FAILED"},
			{"unknown enum value", accountsQuery, servertest.Vars{"status": "FROZEN"}, "GRAPHQL_VALIDATION_FAILED"},
		}
		for _, tc := range cases {
			resp := c.MustDo(t, tc.query, tc.vars)
			checkCleanErrors(t, resp)
			if len(resp.Errors) == 0 || resp.Errors[0].Code() != tc.code {
				t.Errorf("%s: errors %+v, want code %s", tc.name, resp.Errors, tc.code)
			}
			// gqlgen answers operations that do not validate with 422 on
			// application/json (the GraphQL-over-HTTP draft says 200);
			// either way not a server error.
			if resp.Status != http.StatusOK && resp.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s: HTTP %d, want 200 or 422", tc.name, resp.Status)
			}
		}
		// Not JSON at all.
		resp, err := c.Post(context.Background(), "application/json", []byte(`{"query":`), nil)
		if err != nil {
			t.Fatalf("malformed JSON body: %v", err)
		}
		checkCleanErrors(t, resp)
		if resp.Status >= 500 || len(resp.Errors) == 0 {
			t.Errorf("malformed JSON body: HTTP %d, errors %+v", resp.Status, resp.Errors)
		}
	})

	t.Run("idempotency key reused for another command", func(t *testing.T) {
		key := "reuse-" + randomSuffix()
		credit(t, c, servertest.Vars{"id": jpy, "amount": "1", "idempotencyKey": key})
		c.MustFail(t, "BAD_USER_INPUT", debitMutation, in("id", jpy, "amount", "1", "idempotencyKey", key))
		c.MustFail(t, "BAD_USER_INPUT", creditMutation, in("id", eur, "amount", "1.00", "idempotencyKey", key))
	})
}

// TestInternalErrorHidesDetails provokes a genuine internal error (a stream
// holding an event whose schema version the code does not know) and checks
// the client sees only "internal error" with code INTERNAL, while the server
// logs the cause.
func TestInternalErrorHidesDetails(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.Client()
	id := open(t, c, servertest.Vars{"owner": "Corrupt", "currency": "EUR", "initialBalance": "1.00"}).Account.ID

	ctx := ctxTimeout(t, 10e9)
	conn, err := pgx.Connect(ctx, srv.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// Stream type "legacy" keeps the accounts projection away from it; the
	// account repository reads the stream by id and chokes on it.
	if _, err := conn.Exec(ctx, `INSERT INTO events (event_id, stream_id, stream_type, version, type, schema_version, data)
		VALUES (gen_random_uuid(), $1, 'legacy', 2, 'AccountCredited', 99, '{"secret":"s3cr3t"}')`, id); err != nil {
		t.Fatal(err)
	}

	resp := c.MustDo(t, creditMutation, servertest.Vars{"input": servertest.Vars{"id": id, "amount": "1.00"}})
	if resp.Status != http.StatusOK || len(resp.Errors) != 1 {
		t.Fatalf("HTTP %d, errors %+v, want one error", resp.Status, resp.Errors)
	}
	e := resp.Errors[0]
	if e.Code() != "INTERNAL" || e.Message != "internal error" {
		t.Errorf("error = %+v, want code INTERNAL and message \"internal error\"", e)
	}
	if body := string(resp.Body); strings.Contains(body, "schema") || strings.Contains(body, "99") || strings.Contains(body, id) {
		t.Errorf("response leaks details: %s", body)
	}
	if log := srv.Log(); !strings.Contains(log, "internal error") || !strings.Contains(log, "stored schema version 99 is newer") {
		t.Errorf("the cause was not logged:\n%s", log)
	}
	// The rest of the API still works.
	if a := getAccount(t, c, id); a.Balance.Amount != "1.00" {
		t.Errorf("account = %+v", a)
	}
}
