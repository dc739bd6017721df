package metrics

import (
	"context"
	"time"

	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/prometheus/client_golang/prometheus"
)

// CommandDecorator returns the command pipeline's metrics decorator: every
// command a handler runs, whether a GraphQL mutation sent it or a process
// manager, is counted in chronicle_handled_commands_total and timed in
// chronicle_handled_command_duration_seconds, labelled with its bounded
// context, its name (CreditAccount, ...), its source (api, process:<name>)
// and its outcome (as Outcome reads the error: ok, a code in lower case, or
// internal). Label values come from code, never from clients. Call it once
// per Metrics.
func (m *Metrics) CommandDecorator() command.Decorator {
	labels := []string{"context", "command", "source", "outcome"}
	handled := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "chronicle_handled_commands_total",
		Help: "Commands run by a command handler, by bounded context, command, source (api or process:<name>) and outcome.",
	}, labels)
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "chronicle_handled_command_duration_seconds",
		Help:    "Time to run a command in its handler (its read-your-writes wait included), by bounded context, command, source and outcome.",
		Buckets: commandBuckets,
	}, labels)
	m.registry.MustRegister(handled, duration)
	return func(info command.Info, next command.Run) command.Run {
		return func(ctx context.Context) (command.Outcome, error) {
			start := time.Now()
			out, err := next(ctx)
			values := []string{info.Context, info.Command, info.Source, Outcome(err)}
			handled.WithLabelValues(values...).Inc()
			duration.WithLabelValues(values...).Observe(time.Since(start).Seconds())
			return out, err
		}
	}
}
