package server

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// requestInfo is what the request log learns from inside GraphQL.
type requestInfo struct {
	mu        sync.Mutex
	operation string
}

type requestInfoKey struct{}

// withRequestLog logs, at debug level, one line per request at /query once
// it has been answered: method, operation name (when GraphQL got to parse
// it), HTTP status, duration and correlation id. A stream's line comes when
// it ends. At info level and above it costs nothing.
func withRequestLog(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if !logger.Enabled(ctx, slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		info := &requestInfo{}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(ctx, requestInfoKey{}, info)))
		info.mu.Lock()
		op := info.operation
		info.mu.Unlock()
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		logger.DebugContext(ctx, "request", "method", r.Method, "operation", op, "status", status,
			"duration", time.Since(start), "correlation_id", w.Header().Get(headerCorrelationID))
	})
}

// statusWriter notes the response's status.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 || w.status == http.StatusSwitchingProtocols {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the server's writer (Flush,
// Hijack, deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// operationNamer tells the request log the name of the request's operation.
type operationNamer struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = operationNamer{}

func (operationNamer) ExtensionName() string                   { return "OperationNamer" }
func (operationNamer) Validate(graphql.ExecutableSchema) error { return nil }
func (operationNamer) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	info, ok := ctx.Value(requestInfoKey{}).(*requestInfo)
	if !ok {
		return nil
	}
	name := rc.OperationName
	if name == "" && rc.Operation != nil {
		name = rc.Operation.Name
	}
	if name == "" && rc.Operation != nil {
		name = string(rc.Operation.Operation) // anonymous: its type
	}
	info.mu.Lock()
	if info.operation == "" {
		info.operation = name
	}
	info.mu.Unlock()
	return nil
}
