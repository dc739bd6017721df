package payment

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/history"
	"github.com/chronicle-es/chronicle/internal/module"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/chronicle-es/chronicle/internal/readcache"
	"github.com/google/uuid"
)

const contextName = "payment"

// Module registers the payments context: module.Use(registry, payment.Module).
var Module = module.Module[*App]{
	Name:        contextName,
	Projections: []projection.Projection{Projection{}},
	New:         New,
}

// App is the payments context as its resolvers use it.
type App struct {
	// Commands runs InitiatePayment, ProcessPayment, FailPayment and
	// RefundPayment; its results carry the payment as projected after them.
	Commands *command.Handler[Payment, View]
	// Reads is the payments read model (through the read cache).
	Reads *ReadModel
	// History reads payments' streams: the audit trail and the last change.
	History *history.Reader
}

// Result is what a payment command did.
type Result = command.Result[View]

// New builds the payments context from d.
func New(d module.Deps) *App {
	reads := NewReadModel(d.Pool, d.Cache, d.Hub)
	return &App{
		Commands: command.NewHandler(d.Commands, command.Spec[Payment, View]{
			Context:    contextName,
			Type:       Type,
			ParseID:    ParseID,
			Projection: ProjectionName,
			Read:       reads.getFromDatabase,
			NotFound:   ErrPaymentNotFound,
			AfterRead:  raiseCacheFloor(d.Cache, d.Logger),
		}),
		Reads:   reads,
		History: history.NewReader(d.StreamReader(), Type.StreamType, Type.Events, ErrPaymentNotFound),
	}
}

// raiseCacheFloor raises the read cache's floor of what a command changed
// (the payment and its day's statistics) to the command's checkpoint, so
// that every read made after the command returned sees the change (see
// package readcache).
func raiseCacheFloor(cache *readcache.Cache, logger *slog.Logger) func(context.Context, Result) {
	return func(ctx context.Context, res Result) {
		v := res.View
		keys := []string{v.ID.String(), StatsDayKey(v.Organization, v.InitiatedAt)}
		// The checkpoint of the command's append: its last event's.
		if err := cache.Invalidate(ctx, ProjectionName, res.Checkpoint, keys...); err != nil {
			// The write stands and must be reported as done. Readers
			// fall back to the database while Redis fails.
			logger.ErrorContext(ctx, "read cache invalidation after a command failed", "payment", v.ID, "err", err)
		}
	}
}

// At is organization's payment id as it was at a point of its past (exactly
// one of asOf and atVersion): the events up to that point folded by the
// payments projection's own fold (View.apply), so it is the row the read
// model held then. Errors: those of history.Reader.Until (BAD_USER_INPUT for
// an impossible point, ErrPaymentNotFound before the payment existed).
func (a *App) At(ctx context.Context, organization string, id uuid.UUID, asOf *time.Time, atVersion *int64) (View, error) {
	v, err := history.Fold(ctx, a.History, organization, id, asOf, atVersion, func(v *View, re eventstore.RecordedEvent, e any) {
		v.apply(re, e)
	})
	if err != nil {
		return View{}, err
	}
	if v.ID == uuid.Nil {
		return View{}, fmt.Errorf("%w: %s", ErrPaymentNotFound, id)
	}
	v.normalizeTimes()
	return v, nil
}
