package server_test

import (
	"testing"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
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
