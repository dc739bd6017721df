package account

import (
	"context"

	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/module"
	"github.com/chronicle-es/chronicle/internal/page"
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
	Reads  *ReadModel
	events StreamReader
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
		}),
		Reads:  reads,
		events: d.Store,
	}
}

// History is the audit trail of organization's account id: its stored
// events in version order (see the package function History).
func (a *App) History(ctx context.Context, organization string, id uuid.UUID, first *int, after string) (page.Page[eventstore.RecordedEvent], error) {
	return History(ctx, a.events, organization, id, first, after)
}
