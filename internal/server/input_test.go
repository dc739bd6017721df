package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/server/servertest"
)

// TestBadInputIsNeverInternal sends what PostgreSQL, the index or Go would
// choke on: each must be refused as BAD_USER_INPUT with a clear message,
// never INTERNAL (which a client can otherwise raise at will, polluting the
// alert on internal errors).
func TestBadInputIsNeverInternal(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.Client()
	id := open(t, c, servertest.Vars{"owner": "Input " + randomSuffix(), "currency": "EUR", "initialBalance": "10.00"}).AccountID
	payment := initiate(t, c, "5.00", "EUR").ID

	cases := []struct {
		name  string
		query string
		vars  servertest.Vars
	}{
		{"NUL in description", creditMutation, in("id", id, "amount", "1.00", "description", "a\u0000b")},
		{"control characters in description", creditMutation, in("id", id, "amount", "1.00", "description", "a\nb\u0007")},
		{"NUL in idempotencyKey", creditMutation, in("id", id, "amount", "1.00", "idempotencyKey", "k\u0000")},
		{"idempotencyKey of 3 KB", creditMutation, in("id", id, "amount", "1.00", "idempotencyKey", strings.Repeat("k", 3000))},
		{"NUL in the owner filter", accountsQuery, servertest.Vars{"owner": "a\u0000"}},
		{"malformed Time", paymentsQuery, servertest.Vars{"from": "yesterday"}},
		{"Time without a zone", paymentsQuery, servertest.Vars{"from": "2026-12-01T10:00:00"}},
		{"expectedVersion above 32 bits", creditMutation, in("id", id, "amount", "1.00", "expectedVersion", int64(2147483648))},
		{"first above 32 bits", accountsQuery, servertest.Vars{"first": int64(4294967297)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.MustDo(t, tc.query, tc.vars)
			if len(resp.Errors) != 1 {
				t.Fatalf("HTTP %d, errors %+v, want one", resp.Status, resp.Errors)
			}
			e := resp.Errors[0]
			if code := e.Code(); code != "BAD_USER_INPUT" && code != "GRAPHQL_VALIDATION_FAILED" {
				t.Errorf("code %q (%s), want BAD_USER_INPUT", code, e.Message)
			}
			if e.Message == "" || e.Message == "internal error" {
				t.Errorf("message %q is not a clear refusal", e.Message)
			}
		})
	}
	if n := len(allHistory(t, c, id)); n != 1 {
		t.Errorf("the refused commands appended: history has %d events, want 1", n)
	}

	// An id of another bounded context is not found, like one of nowhere
	// (it was INTERNAL: the aggregate could not decode the other context's
	// events).
	c.MustFail(t, "NOT_FOUND", processMutation, servertest.Vars{"input": servertest.Vars{"id": id}})
	c.MustFail(t, "NOT_FOUND", creditMutation, in("id", payment, "amount", "1.00"))

	t.Run("invalid UTF-8 in the body", func(t *testing.T) {
		body := []byte(`{"query":"mutation($input: CreditAccountInput!) { creditAccount(input: $input) { version } }",` +
			`"variables":{"input":{"id":"` + id + `","amount":"1.00","description":"caf` + "\xe9" + `"}}}`)
		resp, err := c.Post(ctxTimeout(t, 10*time.Second), "application/json", body, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status == http.StatusOK && len(resp.Errors) == 0 {
			t.Fatalf("invalid UTF-8 accepted: %s", resp.Body)
		}
		if len(resp.Errors) != 1 || resp.Errors[0].Code() != "BAD_USER_INPUT" {
			t.Errorf("HTTP %d, errors %+v, want BAD_USER_INPUT", resp.Status, resp.Errors)
		}
	})
	if n := len(allHistory(t, c, id)); n != 1 {
		t.Errorf("history has %d events, want 1", n)
	}
}

// TestNoCrossTenantExistenceOracle: an id that exists only in another
// organization answers exactly like one that exists nowhere, for every
// mutation, query and subscription. Creates take no client id, so there is no
// "already exists" to tell them apart.
func TestNoCrossTenantExistenceOracle(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	acme, globex := srv.ClientAs("ann", "acme"), srv.ClientAs("gus", "globex")
	acc := open(t, acme, servertest.Vars{"owner": "Ann", "currency": "EUR", "initialBalance": "5.00"}).AccountID
	pay := initiate(t, acme, "5.00", "EUR").ID
	nowhere := randomUUID()

	for _, target := range []string{acc, pay, nowhere} {
		for _, m := range []struct {
			query string
			vars  servertest.Vars
		}{
			{creditMutation, in("id", target, "amount", "1.00")},
			{debitMutation, in("id", target, "amount", "1.00")},
			{closeMutation, in("id", target)},
			{processMutation, servertest.Vars{"input": servertest.Vars{"id": target}}},
			{accountQuery, servertest.Vars{"id": target}},
		} {
			e := globex.MustFail(t, "NOT_FOUND", m.query, m.vars)
			if want := target; !strings.Contains(e.Message, want) {
				t.Errorf("message %q does not name the id asked for", e.Message)
			}
		}
	}
}
