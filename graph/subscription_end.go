package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// codeUnavailable is the extensions.code of a subscription that ended
// because its reads kept failing: the client should subscribe again (from
// the last cursor or version it saw) after a while.
const codeUnavailable apperr.Code = "UNAVAILABLE"

// subscriptionEnd lets a subscription's stream end with an error result
// rather than a bare complete, which clients take for a normal end (and do
// not resubscribe after). gqlgen completes a subscription when its channel
// closes and has no way to attach an error to that end; so the operation's
// context carries an endState, the stream (see stream) records its error in
// it before it closes the channel, and when the stream has ended this
// extension answers once more, with that error, before the complete.
type subscriptionEnd struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.ResponseInterceptor
} = subscriptionEnd{}

// endState holds the error that ended one subscription operation.
type endState struct {
	mu  sync.Mutex
	err *gqlerror.Error
}

type endKey struct{}

func (subscriptionEnd) ExtensionName() string                   { return "SubscriptionEnd" }
func (subscriptionEnd) Validate(graphql.ExecutableSchema) error { return nil }

func (subscriptionEnd) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return next(ctx)
	}
	return next(context.WithValue(ctx, endKey{}, &endState{}))
}

func (subscriptionEnd) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp != nil {
		return resp
	}
	st, ok := ctx.Value(endKey{}).(*endState)
	if !ok {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err == nil {
		return nil
	}
	err := st.err
	st.err = nil // once: the next call ends the stream
	return &graphql.Response{Errors: gqlerror.List{err}}
}

// endWithError records why the subscription of ctx ends, for
// subscriptionEnd to send before the complete. field is the subscription's
// root field (its error path).
func endWithError(ctx context.Context, field, message string) {
	st, ok := ctx.Value(endKey{}).(*endState)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.err = &gqlerror.Error{
		Message:    message,
		Path:       ast.Path{ast.PathName(field)},
		Extensions: map[string]any{"code": string(codeUnavailable)},
	}
}
