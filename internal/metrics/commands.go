package metrics

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// maxReparseBytes bounds the refused operations that are parsed again to
// find their mutation fields; larger ones are not counted.
const maxReparseBytes = 64 << 10

// CommandExtension returns a gqlgen handler extension that records every
// root field of a mutation as one command in chronicle_commands_total and
// chronicle_command_duration_seconds, labelled with the field's name
// (openAccount, creditAccount, ...) and its outcome:
//
//   - "ok" when the resolver returned no error;
//   - the error's apperr code in lower case (conflict, insufficient_funds,
//     not_found, unauthenticated, ...), as the error presenter reads it;
//   - "bad_user_input" when gqlgen refused the field or the whole operation
//     before the resolver ran: invalid arguments or variables, a document
//     that fails validation, a limit (complexity, depth). A request that does
//     not parse names no command and is not counted;
//   - "internal" for an error without a code, and for a panic.
//
// The duration is that of the root field, from its arguments to its payload
// (the read-your-writes wait included); for a refused operation, from the
// start of the request. Only the Mutation type's fields become label
// values, so clients cannot make up new series.
//
// Use one per handler: Validate reads the handler's schema.
func (m *Metrics) CommandExtension() graphql.HandlerExtension {
	return &commandExtension{m: m}
}

// commandExtension hooks three points of gqlgen's execution:
// InterceptResponse (around a whole response, also a refused operation's),
// InterceptRootField (around each root field: arguments, resolver, payload)
// and InterceptField (around each resolver call; it only looks at the root
// mutation fields, to see their errors).
type commandExtension struct {
	m *Metrics
	// mutation is the schema's mutation type name ("" when the schema has
	// none) and commands its field names.
	mutation string
	commands map[string]bool
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
	graphql.RootFieldInterceptor
	graphql.FieldInterceptor
} = (*commandExtension)(nil)

type ctxKey int

const (
	// operationKey holds the *operationRun of a mutation's response.
	operationKey ctxKey = iota
	// commandKey holds the *commandRun of a root mutation field.
	commandKey
)

// operationRun notes whether any root field of a mutation ran.
type operationRun struct{ fieldsRan atomic.Bool }

// commandRun is what InterceptField saw of one root mutation field.
// The root fields of a mutation run one after the other.
type commandRun struct {
	// called is set when the resolver was called (gqlgen accepted the
	// arguments); panicked when it did not return.
	called, panicked bool
	err              error
}

func (e *commandExtension) ExtensionName() string { return "Metrics" }

// Validate records the schema's mutation fields.
func (e *commandExtension) Validate(schema graphql.ExecutableSchema) error {
	e.commands = map[string]bool{}
	if mutation := schema.Schema().Mutation; mutation != nil {
		e.mutation = mutation.Name
		for _, f := range mutation.Fields {
			if !strings.HasPrefix(f.Name, "__") {
				e.commands[f.Name] = true
			}
		}
	}
	return nil
}

// InterceptResponse counts the commands of a mutation that gqlgen refused
// as a whole (parsing, validation, variables, operation limits): no root
// field ran, and the response holds only errors.
func (e *commandExtension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if e.mutation == "" || !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	switch {
	case oc.Operation != nil && oc.Operation.Operation != ast.Mutation:
		return next(ctx)
	case oc.Operation == nil && !strings.Contains(oc.RawQuery, "mutation"):
		return next(ctx)
	}
	start := oc.Stats.OperationStart
	if start.IsZero() {
		start = time.Now()
	}
	run := &operationRun{}
	resp := next(context.WithValue(ctx, operationKey, run))
	if run.fieldsRan.Load() || resp == nil || len(resp.Errors) == 0 {
		return resp
	}
	d := time.Since(start)
	for _, command := range e.refusedCommands(oc) {
		e.m.ObserveCommand(command, outcomeBadInput, d)
	}
	return resp
}

// refusedCommands returns the mutation fields that oc's operation selects
// at its root, parsing the query again when gqlgen could not validate it.
func (e *commandExtension) refusedCommands(oc *graphql.OperationContext) []string {
	op := oc.Operation
	var fragments ast.FragmentDefinitionList
	if op != nil && oc.Doc != nil {
		fragments = oc.Doc.Fragments
	} else {
		if len(oc.RawQuery) > maxReparseBytes {
			return nil
		}
		doc, err := parser.ParseQuery(&ast.Source{Input: oc.RawQuery})
		if err != nil {
			return nil
		}
		op, fragments = doc.Operations.ForName(oc.OperationName), doc.Fragments
	}
	if op == nil || op.Operation != ast.Mutation {
		return nil
	}
	var commands []string
	e.collect(op.SelectionSet, fragments, 0, &commands)
	return commands
}

// collect appends the known mutation fields of set (through fragments, at
// most a few levels deep) to out.
func (e *commandExtension) collect(set ast.SelectionSet, fragments ast.FragmentDefinitionList, depth int, out *[]string) {
	if depth > 4 {
		return
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if e.commands[s.Name] {
				*out = append(*out, s.Name)
			}
		case *ast.InlineFragment:
			e.collect(s.SelectionSet, fragments, depth+1, out)
		case *ast.FragmentSpread:
			if f := fragments.ForName(s.Name); f != nil {
				e.collect(f.SelectionSet, fragments, depth+1, out)
			}
		}
	}
}

// InterceptRootField times a root mutation field and records it with the
// outcome InterceptField saw.
func (e *commandExtension) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	root := graphql.GetRootFieldContext(ctx)
	if root == nil || !e.commands[root.Field.Name] {
		return next(ctx)
	}
	if oc := graphql.GetOperationContext(ctx); oc.Operation == nil || oc.Operation.Operation != ast.Mutation {
		return next(ctx)
	}
	if run, ok := ctx.Value(operationKey).(*operationRun); ok {
		run.fieldsRan.Store(true)
	}
	run := &commandRun{}
	start := time.Now()
	// Deferred: recorded even if next panics (gqlgen recovers resolver
	// panics further in, so it should not).
	defer func() { e.m.ObserveCommand(root.Field.Name, run.outcome(), time.Since(start)) }()
	return next(context.WithValue(ctx, commandKey, run))
}

// InterceptField notes the error of a root mutation field's resolver; it
// passes every other field straight through.
func (e *commandExtension) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Object != e.mutation || e.mutation == "" {
		return next(ctx)
	}
	run, ok := ctx.Value(commandKey).(*commandRun)
	if !ok {
		return next(ctx)
	}
	run.called, run.panicked = true, true
	res, err := next(ctx)
	run.panicked, run.err = false, err
	return res, err
}

// outcome returns the label of what the field's resolver did.
func (r *commandRun) outcome() string {
	switch {
	case !r.called:
		return outcomeBadInput
	case r.panicked:
		return outcomeInternal
	}
	return Outcome(r.err)
}

// Outcome returns the outcome label of a command's error: OutcomeOK for nil,
// its apperr code in lower case, the code of an error gqlgen made itself
// (BAD_USER_INPUT when it has none), else "internal". It reads errors as
// graph.ErrorPresenter does.
func Outcome(err error) string {
	if err == nil {
		return OutcomeOK
	}
	if code, ok := apperr.CodeOf(err); ok {
		return strings.ToLower(string(code))
	}
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) && gqlErr.Err == nil {
		if code, ok := gqlErr.Extensions["code"].(string); ok && code != "" {
			return strings.ToLower(code)
		}
		return outcomeBadInput
	}
	return outcomeInternal
}
