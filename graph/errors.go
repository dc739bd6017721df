package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// internalMessage replaces the message of every error without a code.
const internalMessage = "internal error"

// ErrorPresenter is the one place where Go errors become GraphQL errors:
//   - an error with an *apperr.Error in its chain keeps its message and gets
//     that error's code in extensions.code;
//   - an error gqlgen or gqlparser made itself (parsing, validation,
//     limits) keeps its message and code, with BAD_USER_INPUT when it has none;
//   - anything else is INTERNAL: its message is hidden from the client and
//     logged with the path and the correlation id.
func ErrorPresenter(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		if code, ok := apperr.CodeOf(err); ok {
			gqlErr.Message = unwrapGQL(err).Error()
			setCode(gqlErr, code)
			return gqlErr
		}
		if timedOut(ctx, err) {
			return &gqlerror.Error{
				Message:    ErrRequestTimeout.Error(),
				Path:       gqlErr.Path,
				Locations:  gqlErr.Locations,
				Extensions: map[string]any{"code": CodeRequestTimeout},
			}
		}
		if gqlErr.Err == nil {
			if _, has := gqlErr.Extensions["code"]; !has {
				setCode(gqlErr, apperr.BadUserInput)
			}
			return gqlErr
		}
		if !errors.Is(err, context.Canceled) {
			logger.ErrorContext(ctx, "internal error", "err", err, "path", gqlErr.Path.String(),
				"correlation_id", caller.From(ctx).CorrelationID)
		}
		return &gqlerror.Error{
			Message:    internalMessage,
			Path:       gqlErr.Path,
			Locations:  gqlErr.Locations,
			Extensions: map[string]any{"code": string(apperr.Internal)},
		}
	}
}

// unwrapGQL returns the error a gqlerror wraps (its message has no path).
func unwrapGQL(err error) error {
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) && gqlErr.Err != nil {
		return gqlErr.Err
	}
	return err
}

func setCode(e *gqlerror.Error, code apperr.Code) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = string(code)
}

// RecoverFunc turns a resolver panic into an INTERNAL error, logging the
// stack: a bug answers one request with an error and never kills the server.
func RecoverFunc(logger *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "resolver panic", "panic", p, "stack", string(debug.Stack()),
			"correlation_id", caller.From(ctx).CorrelationID)
		return fmt.Errorf("panic: %v", p)
	}
}
