package account

import (
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/history"
	"github.com/chronicle-es/chronicle/internal/module"
	"github.com/chronicle-es/chronicle/internal/projection"
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
		}),
		Reads:   reads,
		History: history.NewReader(d.Store, Type.StreamType, Type.Events, ErrAccountNotFound),
	}
}
