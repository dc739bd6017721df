package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
	"github.com/google/uuid"
)

func TestOperationLimits(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) {
		c.DepthLimit = 4
		c.ComplexityLimit = 1000
		c.Introspection = false
	})
	client := srv.Client()

	// Within both limits.
	client.MustSucceed(t, `{ accounts(first: 5) { edges { cursor } } }`, nil, nil)

	// accounts > edges > node > balance > amount is five levels deep.
	client.MustFail(t, "DEPTH_LIMIT_EXCEEDED",
		`{ accounts(first: 1) { edges { node { balance { amount } } } } }`, nil)

	// 100 accounts × 100 operations each weighs far more than 1000.
	client.MustFail(t, "COMPLEXITY_LIMIT_EXCEEDED",
		`{ accounts(first: 100) { edges { node { operations(first: 100) { edges { cursor } } } } } }`, nil)

	// accountOperations' depth is counted, introspection's is not.
	client.MustFail(t, "DEPTH_LIMIT_EXCEEDED",
		`{ accounts(first: 1) { edges { node { balance { __typename amount } } } } }`, nil)

	// With introspection off, the schema is not disclosed, and the refusal
	// is a validation error (gqlgen answers those with HTTP 422), not INTERNAL.
	resp := client.MustDo(t, `{ __schema { types { name } } }`, nil)
	if codes := resp.Codes(); len(codes) != 1 || codes[0] != "GRAPHQL_VALIDATION_FAILED" || len(resp.Data) > 0 && string(resp.Data) != "null" {
		t.Fatalf("introspection with it disabled: HTTP %d, codes %v, data %s", resp.Status, codes, resp.Data)
	}
}

// The playground loads the schema with GraphiQL's introspection query, which
// is 15 levels deep: the depth limit must let it through.
func TestIntrospectionPassesTheDepthLimit(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) { c.DepthLimit = 4 })
	var out struct {
		Schema struct {
			Types []struct{ Name string }
		} `json:"__schema"`
	}
	srv.Client().MustSucceed(t, `{ __schema { types { name fields { name type { kind ofType { kind ofType { kind ofType { kind name } } } } } } } }`, nil, &out)
	if len(out.Schema.Types) == 0 {
		t.Fatal("introspection returned no types")
	}
}

// Documents whose validation is quadratic (or worse) in their size are
// refused before validation with a code of their own: on a server without
// the document limits the first took 11.7 s of CPU and then succeeded.
func TestCostlyDocumentsRefused(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	client := srv.Client()

	var chain strings.Builder
	chain.WriteString("query { ...F0 }\n")
	for i := range 1000 {
		fmt.Fprintf(&chain, "fragment F%d on Query { __typename ...F%d }\n", i, i+1)
	}
	chain.WriteString("fragment F1000 on Query { __typename }\n")
	nested := "{ account(id: \"" + uuid.NewString() + "\") {" +
		strings.Repeat(" operations { "+strings.Repeat(" edges { node { kind } }", 10)+" }", 10) + " } }"

	for _, tc := range []struct{ name, code, query string }{
		{"one field 6,000 times", "DOCUMENT_TOO_LARGE", "{" + strings.Repeat(" __typename", 6000) + " }"},
		{"one field 12,000 times", "TOKEN_LIMIT_EXCEEDED", "{" + strings.Repeat(" __typename", 12000) + " }"},
		{"a chain of 1,000 fragments", "DOCUMENT_TOO_LARGE", chain.String()},
		{"10 × 10 fields on one path", "DOCUMENT_TOO_LARGE", nested},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := client.MustFail(t, tc.code, tc.query, nil)
			if e.Message == "" {
				t.Error("refusal without a message")
			}
		})
	}
	// An ordinary document with repeated fields through fragments passes.
	client.MustSucceed(t, accountsQuery, nil, nil)
	client.MustSucceed(t, "{ a: __typename b: __typename"+strings.Repeat(" __typename", 50)+" }", nil, nil)
}
