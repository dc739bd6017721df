package graph

import (
	"context"
	"errors"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// CodeRequestTimeout is the code of an error caused by REQUEST_TIMEOUT.
const CodeRequestTimeout = "REQUEST_TIMEOUT"

// ErrRequestTimeout is the cause (context.Cause) of a request's context
// ending at its time bound; the error presenter answers the errors it
// causes with CodeRequestTimeout.
var ErrRequestTimeout = errors.New("the request took longer than its time bound (REQUEST_TIMEOUT)")

// timedOut reports whether err is the end of ctx at its request's time
// bound.
func timedOut(ctx context.Context, err error) bool {
	return errors.Is(context.Cause(ctx), ErrRequestTimeout) &&
		(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrRequestTimeout))
}

// requestDeadlineKey is the context key of a detached command's request
// deadline.
type requestDeadlineKey struct{}

// RequestDeadline returns the deadline of the request a command was sent
// in, which DetachCommands took off the command's context: the
// read-your-writes wait ends there.
func RequestDeadline(ctx context.Context) (time.Time, bool) {
	d, ok := ctx.Value(requestDeadlineKey{}).(time.Time)
	return d, ok
}

// DetachCommands runs the resolvers of a mutation on a context that
// neither the request's deadline (REQUEST_TIMEOUT) nor the client's
// disconnection cancels: a command cut in its append, at its commit say,
// would leave the client an error for a write that may have committed.
// The deadline is kept as a value (RequestDeadline) for the
// read-your-writes wait, which ends there with upToDate false. Queries
// keep their deadline. A mutation's run is still bounded: by the database
// statements of one command, the read-your-writes wait, and the bound on
// concurrent requests.
type DetachCommands struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = DetachCommands{}

func (DetachCommands) ExtensionName() string                   { return "DetachCommands" }
func (DetachCommands) Validate(graphql.ExecutableSchema) error { return nil }

func (DetachCommands) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx)
	if op == nil || op.Operation == nil || op.Operation.Operation != ast.Mutation {
		return next(ctx)
	}
	detached := context.WithoutCancel(ctx)
	if d, ok := ctx.Deadline(); ok {
		detached = context.WithValue(detached, requestDeadlineKey{}, d)
	}
	return next(detached)
}
