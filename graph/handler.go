package graph

import (
	"time"

	"context"
	"log/slog"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/chronicle-es/chronicle/graph/model"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Limits bound what one GraphQL operation may ask for.
type Limits struct {
	// Complexity is the most fields (with list fields weighted by `first`)
	// one operation may select; 0 disables the check.
	Complexity int
	// Depth is the deepest selection nesting allowed; 0 disables the check.
	Depth int
	// Introspection enables __schema and __type queries (the playground
	// needs them).
	Introspection bool
	// Document bounds a document's size and shape before validation.
	Document DocumentLimits
}

// NewHandler returns the GraphQL HTTP handler for the /query endpoint: the
// WebSocket and SSE transports (subscriptions), POST, GET and OPTIONS, a
// parsed-query cache, automatic persisted queries, the limits, and the
// error presenter. extensions are added after the built-in ones (for
// example metrics.CommandExtension).
func NewHandler(r *Resolver, limits Limits, transports Transports, logger *slog.Logger, extensions ...graphql.HandlerExtension) *handler.Server {
	cfg := Config{Resolvers: r}
	weighPages(&cfg.Complexity)
	srv := handler.New(NewExecutableSchema(cfg))
	addTransports(srv, transports)
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	// After APQ (which fills in the query), before parsing and validation.
	doc := newDocumentLimit(limits.Document)
	srv.Use(doc)
	srv.SetParserTokenLimit(doc.limits.Tokens)
	srv.Use(subscriptionsNeedLongRequest{})
	srv.Use(subscriptionEnd{})
	if limits.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		srv.Use(noIntrospection{})
	}
	if limits.Complexity > 0 {
		srv.Use(extension.FixedComplexityLimit(limits.Complexity))
	}
	if limits.Depth > 0 {
		srv.Use(depthLimit(limits.Depth))
	}
	for _, ext := range extensions {
		srv.Use(ext)
	}
	srv.SetErrorPresenter(ErrorPresenter(logger))
	srv.SetRecoverFunc(RecoverFunc(logger))
	return srv
}

// weighPages gives every connection field (every field that takes `first`)
// a complexity weighed by the page size it asks for. TestEveryPageIsWeighed
// fails for a field that is missing here.
func weighPages(c *ComplexityRoot) {
	c.Account.Operations = pageComplexity
	c.Query.Accounts = func(child int, first *int, _ *string, _ *string, _ *model.AccountStatus) int {
		return pageComplexity(child, first, nil)
	}
	c.Query.AccountHistory = func(child int, _ string, first *int, _ *string) int {
		return pageComplexity(child, first, nil)
	}
	history := func(child int, first *int, _ *string, _ []string) int { return pageComplexity(child, first, nil) }
	c.Account.History = history
	c.Payment.History = history
	c.Product.History = history
	c.Stock.History = history
	c.Order.History = history
	c.Query.Payments = func(child int, _ *model.PaymentStatus, _ *time.Time, _ *time.Time, first *int, _ *string) int {
		return pageComplexity(child, first, nil)
	}
	c.Query.Products = func(child int, _ *string, _ *string, _ *bool, _ *model.ProductOrder, first *int, _ *string) int {
		return pageComplexity(child, first, nil)
	}
	c.Query.Orders = func(child int, _ *model.OrderStatus, first *int, _ *string) int {
		return pageComplexity(child, first, nil)
	}
}

// pageComplexity weighs a connection field by the page size it asks for.
func pageComplexity(child int, first *int, _ *string) int {
	n := 20
	if first != nil && *first > 0 {
		n = *first
	}
	return 1 + n*child
}

// depthLimit refuses operations nested deeper than max selection levels,
// not counting introspection.
type depthLimit int

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit(0)

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (d depthLimit) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if depth := selectionDepth(rc.Operation.SelectionSet, rc.Doc.Fragments, 0); depth > int(d) {
		err := gqlerror.Errorf("operation has depth %d, more than the limit of %d", depth, int(d))
		err.Extensions = map[string]any{"code": "DEPTH_LIMIT_EXCEEDED"}
		return err
	}
	return nil
}

// selectionDepth returns the nesting depth of set; seen guards against
// fragment cycles (the validator refuses them, but cheaply twice).
func selectionDepth(set ast.SelectionSet, fragments ast.FragmentDefinitionList, guard int) int {
	if guard > 64 {
		return guard
	}
	deepest := 0
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") {
				// Introspection (__schema, __type, __typename) is bounded by
				// the schema, and GraphiQL's own schema query is 15 deep.
				continue
			}
			if len(s.SelectionSet) > 0 {
				d = 1 + selectionDepth(s.SelectionSet, fragments, guard+1)
			} else {
				d = 1
			}
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, fragments, guard+1)
		case *ast.FragmentSpread:
			if f := fragments.ForName(s.Name); f != nil {
				d = selectionDepth(f.SelectionSet, fragments, guard+1)
			}
		}
		deepest = max(deepest, d)
	}
	return deepest
}

// noIntrospection refuses, at validation, an operation that asks for
// __schema or __type. Without it gqlgen answers such a field with a plain
// error at execution, which would be reported as INTERNAL.
type noIntrospection struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = noIntrospection{}

func (noIntrospection) ExtensionName() string                   { return "NoIntrospection" }
func (noIntrospection) Validate(graphql.ExecutableSchema) error { return nil }
func (noIntrospection) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if asksIntrospection(rc.Operation.SelectionSet, rc.Doc.Fragments, 0) {
		err := gqlerror.Errorf("introspection is disabled on this server")
		err.Extensions = map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}
		return err
	}
	return nil
}

// asksIntrospection looks for the introspection root fields, which may only
// stand at the root of an operation (directly or through fragments).
func asksIntrospection(set ast.SelectionSet, fragments ast.FragmentDefinitionList, guard int) bool {
	if guard > 64 {
		return false
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if asksIntrospection(s.SelectionSet, fragments, guard+1) {
				return true
			}
		case *ast.FragmentSpread:
			if f := fragments.ForName(s.Name); f != nil && asksIntrospection(f.SelectionSet, fragments, guard+1) {
				return true
			}
		}
	}
	return false
}
