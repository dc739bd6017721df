package graph

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/vektah/gqlparser/v2/ast"
)

// latestStateFields are the subscription fields whose results are the
// latest state of something, where the schema promises that changes may be
// coalesced: subscribers of one of them with the same key (shareKey) share
// one execution. A field that promises every change once, in order
// (accountOperations, orderUpdated) or only what happens after one
// subscriber's own start (productAdded), is never shared.
// TestEverySubscriptionIsClassified fails for a field missing from both
// lists.
var latestStateFields = map[string]bool{
	"accountUpdated":          true,
	"paymentUpdated":          true,
	"paymentAnalyticsUpdated": true,
	"productUpdated":          true,
	"stockChanged":            true,
}

// orderedFields are the subscription fields that are never shared.
var orderedFields = map[string]bool{
	"accountOperations": true,
	"orderUpdated":      true,
	"productAdded":      true,
}

// shareKey is gqlws.Config.Share: the key of the subscriptions that may
// share one execution and one encoded frame per result. Two subscribers
// share when everything a result depends on is the same:
//
//   - the caller's organization (every read is confined to it), actor and
//     roles (no read depends on who within the organization asks, or on
//     their roles, today; the key keeps them apart so that one that does
//     later cannot leak);
//   - the document's text, the operation name and the variables (coerced,
//     encoded with sorted keys), so the same selection with the same
//     arguments;
//   - one root field, of latestStateFields.
//
// Anything else (queries and mutations over the socket, ordered streams, a
// caller without an organization) runs on its own.
func shareKey(ctx context.Context, op *graphql.OperationContext) (string, bool) {
	if op.Operation == nil || op.Operation.Operation != ast.Subscription {
		return "", false
	}
	c := caller.From(ctx)
	if c.Organization == "" {
		return "", false
	}
	fields := graphql.CollectFields(op, op.Operation.SelectionSet, []string{"Subscription"})
	if len(fields) != 1 || !latestStateFields[fields[0].Name] {
		return "", false
	}
	vars, err := json.Marshal(op.Variables)
	if err != nil {
		return "", false
	}
	roles := slices.Clone(c.Roles)
	slices.Sort(roles)
	return strings.Join([]string{c.Organization, c.Actor, strings.Join(roles, ","), op.OperationName, op.RawQuery, string(vars)}, "\x00"), true
}
