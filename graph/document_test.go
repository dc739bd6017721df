package graph

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
)

// Documents that make gqlparser's validation quadratic (or worse), built to
// the size a body limit of 1 MiB lets through or to just within the
// DocumentLimits.
var costlyDocuments = map[string]string{
	// One field repeated: 6,000 × took 11.7 s of CPU before the limits.
	"repeated-field-6000": "{" + strings.Repeat(" __typename", 6000) + " }",
	// A chain of fragments, each spreading the next: 13.9 s at 2,000.
	"fragment-chain-2000": fragmentChain(2000),
	"fragment-chain-1000": fragmentChain(1000),
	// 44.7 s at 10,000.
	"repeated-field-10000": "{" + strings.Repeat(" __typename", 10000) + " }",
	// Within the limits: 30 fields of one name in each of 11 sets (4,785
	// pairs compared), or 900 sets of one field.
	"within-sets-30x11": withinSets(11, 30),
	"within-sets-1x900": withinSets(900, 1),
	// Same-name fields nested three deep (20×20×20 on one path took 50 s; 10×10×10).
	"nested-10": nested(10, 10, 10),
	// Within the limits: 2 × 3 × 5 on the deepest path.
	"within-nested-2x3x5": nested(2, 3, 5),
}

func fragmentChain(n int) string {
	var b strings.Builder
	b.WriteString("query { ...F0 }\n")
	for i := range n {
		fmt.Fprintf(&b, "fragment F%d on Query { __typename", i)
		if i+1 < n {
			fmt.Fprintf(&b, " ...F%d", i+1)
		}
		b.WriteString(" }\n")
	}
	return b.String()
}

func withinSets(sets, same int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range sets {
		fmt.Fprintf(&b, " a%d: account(id: \"x\") {%s }", i, strings.Repeat(" id", same))
	}
	b.WriteString(" }")
	return b.String()
}

func nested(operations, edges, nodes int) string {
	inner := "node {" + " kind version" + " }"
	mid := "edges {" + strings.Repeat(" "+inner, nodes) + " }"
	outer := "operations {" + strings.Repeat(" "+mid, edges) + " }"
	outer = strings.Repeat(" "+outer, operations)
	return "{ account(id: \"x\") { " + outer + " } }"
}

// newTestExecutor returns an executor with the handler's document checks,
// over the real schema (no resolvers are reached: validation comes first).
func newTestExecutor() *executor.Executor {
	exec := executor.New(NewExecutableSchema(Config{Resolvers: &Resolver{}}))
	d := newDocumentLimit(DocumentLimits{})
	exec.Use(d)
	exec.SetParserTokenLimit(d.limits.Tokens)
	return exec
}

func createOperation(exec *executor.Executor, query string) (code string) {
	ctx := graphql.StartOperationTrace(context.Background())
	_, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: query})
	if len(errs) == 0 {
		return ""
	}
	c, _ := errs[0].Extensions["code"].(string)
	return c
}

// BenchmarkCostlyDocuments measures the CPU one request of each costly
// document costs to be refused (or validated): the aim is under 50 ms.
func BenchmarkCostlyDocuments(b *testing.B) {
	exec := newTestExecutor()
	for name, query := range costlyDocuments {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				// Each call differs by a trailing comment, so that neither
				// cache answers.
				createOperation(exec, fmt.Sprintf("%s #%d", query, b.N))
			}
		})
	}
}

func TestCostlyDocumentsRefused(t *testing.T) {
	exec := newTestExecutor()
	for name, want := range map[string]string{
		"repeated-field-6000":  CodeDocumentTooLarge,
		"repeated-field-10000": CodeTokenLimitExceeded,
		"fragment-chain-1000":  CodeDocumentTooLarge,
		"fragment-chain-2000":  CodeTokenLimitExceeded,
		"nested-10":            CodeDocumentTooLarge,
		"within-sets-30x11":    "",
		"within-sets-1x900":    "",
		"within-nested-2x3x5":  "",
	} {
		if got := createOperation(exec, costlyDocuments[name]); got != want {
			t.Errorf("%s: code %q, want %q", name, got, want)
		}
	}
}
