package graph

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/vektah/gqlparser/v2"
)

// TestEverySubscriptionIsClassified: every Subscription field is either a
// latest-state field (shared) or an ordered one (never shared), so a new
// field is not shared by accident, nor left out by one.
func TestEverySubscriptionIsClassified(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	for _, f := range schema.Subscription.Fields {
		if latestStateFields[f.Name] == orderedFields[f.Name] {
			t.Errorf("Subscription.%s must be in exactly one of latestStateFields and orderedFields", f.Name)
		}
	}
	for name := range latestStateFields {
		if schema.Subscription.Fields.ForName(name) == nil {
			t.Errorf("latestStateFields names %s, which the schema does not have", name)
		}
	}
}

// TestShareKey: subscribers share only when organization, actor, roles,
// document, operation name and variables are all the same, and the operation is a
// subscription to one latest-state field.
func TestShareKey(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	const updated = `subscription S($id: ID!) { accountUpdated(id: $id) { version } }`
	op := func(query, name string, vars map[string]any) *graphql.OperationContext {
		t.Helper()
		doc, err := gqlparser.LoadQuery(schema, query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return &graphql.OperationContext{RawQuery: query, OperationName: name, Doc: doc,
			Operation: doc.Operations.ForName(name), Variables: vars}
	}
	as := func(actor, org string) context.Context {
		return caller.With(context.Background(), caller.Caller{Actor: actor, Organization: org, CorrelationID: actor + org})
	}
	id := map[string]any{"id": "018f0000-0000-7000-8000-000000000001"}
	key, ok := shareKey(as("alice", "acme"), op(updated, "S", id))
	if !ok {
		t.Fatal("accountUpdated is not shared")
	}
	if k, ok := shareKey(caller.With(context.Background(), caller.Caller{Actor: "alice", Organization: "acme", CorrelationID: "other"}), op(updated, "S", id)); !ok || k != key {
		t.Errorf("another correlation id: key %q, %v; want the same key", k, ok)
	}
	for name, tc := range map[string]struct {
		ctx context.Context
		op  *graphql.OperationContext
	}{
		"another organization": {as("alice", "globex"), op(updated, "S", id)},
		"another actor":        {as("bob", "acme"), op(updated, "S", id)},
		"other roles":          {caller.With(context.Background(), caller.Caller{Actor: "alice", Organization: "acme", Roles: []string{"admin"}}), op(updated, "S", id)},
		"other variables":      {as("alice", "acme"), op(updated, "S", map[string]any{"id": "018f0000-0000-7000-8000-000000000002"})},
		"another document":     {as("alice", "acme"), op(`subscription S($id: ID!) { accountUpdated(id: $id) { version balance { amount } } }`, "S", id)},
		"another operation":    {as("alice", "acme"), op(updated+` subscription T($id: ID!) { accountUpdated(id: $id) { version } }`, "T", id)},
	} {
		if k, ok := shareKey(tc.ctx, tc.op); ok && k == key {
			t.Errorf("%s: the same key", name)
		}
	}
	for name, tc := range map[string]struct {
		ctx context.Context
		op  *graphql.OperationContext
	}{
		"an ordered stream":  {as("alice", "acme"), op(`subscription S($id: ID!) { accountOperations(id: $id) { cursor } }`, "S", id)},
		"a query":            {as("alice", "acme"), op(`query S($id: ID!) { account(id: $id) { version } }`, "S", id)},
		"no organization":    {context.Background(), op(updated, "S", id)},
		"products from now":  {as("alice", "acme"), op(`subscription S { productAdded { id } }`, "S", nil)},
		"every order change": {as("alice", "acme"), op(`subscription S($id: ID!) { orderUpdated(id: $id) { id } }`, "S", id)},
	} {
		if _, ok := shareKey(tc.ctx, tc.op); ok {
			t.Errorf("%s is shared", name)
		}
	}
}
