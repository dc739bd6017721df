package account

import (
	"context"
	"fmt"
	"time"

	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/history"
	"github.com/chronicle-es/chronicle/internal/module"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
)

// Module registers the accounts context: module.Use(registry, account.Module).
var Module = module.Module[*App]{
	Name:        contextName,
	Projections: []projection.Projection{Projection{}},
	New:         New,
}

const contextName = "account"

// App is the accounts context as its resolvers use it.
type App struct {
	// Commands runs OpenAccount, CreditAccount, DebitAccount and
	// CloseAccount; its results carry the account as projected after them.
	Commands *command.Handler[Account, View]
	// Reads is the accounts read model.
	Reads *ReadModel
	// History reads accounts' streams: the audit trail and the last change.
	History *history.Reader
}

// Result is what an account command did.
type Result = command.Result[View]

// New builds the accounts context from d.
func New(d module.Deps) *App {
	reads := NewReadModel(d.Pool, d.Hub)
	return &App{
		Commands: command.NewHandler(d.Commands, command.Spec[Account, View]{
			Context:    contextName,
			Type:       Type,
			ParseID:    ParseID,
			Projection: ProjectionName,
			Read:       reads.Get,
			NotFound:   ErrAccountNotFound,
			// The projection hands the view it wrote (projection.Viewer).
			Organization: func(v View) string { return v.Organization },
		}),
		Reads:   reads,
		History: history.NewReader(d.StreamReader(), Type.StreamType, Type.Events, ErrAccountNotFound),
	}
}

// At is organization's account id as it was at a point of its past (exactly
// one of asOf and atVersion): the events up to that point folded by the
// accounts projection's own fold, so it is the row the read model held
// then. Its Version and UpdatedAt echo the version reached and the time of
// its last event. Errors: those of history.Reader.Until (BAD_USER_INPUT for
// an impossible point, ErrAccountNotFound before the account existed).
func (a *App) At(ctx context.Context, organization string, id uuid.UUID, asOf *time.Time, atVersion *int64) (View, error) {
	events, err := a.History.Until(ctx, organization, id, asOf, atVersion)
	if err != nil {
		return View{}, err
	}
	f := newFold()
	for _, re := range events {
		if err := f.apply(re); err != nil {
			return View{}, err
		}
	}
	v := f.rows[id]
	if v == nil {
		return View{}, fmt.Errorf("%w: %s", ErrAccountNotFound, id)
	}
	return *v, nil
}
