// Package logging builds the server's logger: JSON lines through slog, with
// readable durations, and adapters that route the libraries' own loggers
// (the standard library's log package, which net/http, gqlgen and the
// WebSocket transport write to, and go-redis) through it.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// New returns a logger that writes one JSON object per line to w, at level
// and above. Durations are written as Go durations ("100ms", "1.5s"), not
// as nanoseconds.
func New(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: ReadableDurations}))
}

// ReadableDurations is a slog.HandlerOptions.ReplaceAttr that writes a
// time.Duration as its String form.
func ReadableDurations(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

// Redis adapts logger to go-redis's logger (redis.SetLogger, which is
// global: call it in main only). Its lines are warnings: go-redis logs what
// went wrong (a failed reconnect, a pool problem), never routine events.
func Redis(logger *slog.Logger) RedisLogger {
	return RedisLogger{logger: logger.With("component", "go-redis")}
}

// RedisLogger implements go-redis's internal.Logging.
type RedisLogger struct{ logger *slog.Logger }

// Printf logs one go-redis message.
func (l RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.logger.WarnContext(ctx, strings.TrimSpace(fmt.Sprintf(format, v...)))
}
