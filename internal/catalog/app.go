package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/chronicle-es/chronicle/internal/history"

	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/module"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
)

// Module registers the catalog context: module.Use(registry, catalog.Module).
var Module = module.Module[*App]{
	Name:        contextName,
	Projections: []projection.Projection{Projection{}},
	New:         New,
}

// App is the catalog context as its resolvers and other contexts use it.
type App struct {
	// Commands runs AddProduct (command.Keyed by the SKU), UpdateProduct,
	// ChangeProductPrice and DiscontinueProduct; its results carry the
	// product as projected after them.
	Commands *command.Handler[Product, View]
	// Reads is the catalog read model.
	Reads *ReadModel
	// History reads products' streams: the audit trail, the last change
	// and time travel (At).
	History *history.Reader
}

// Result is what a catalog command did.
type Result = command.Result[View]

// New builds the catalog context from d.
func New(d module.Deps) *App {
	reads := NewReadModel(d.Pool, d.Hub)
	return &App{
		Commands: command.NewHandler(d.Commands, command.Spec[Product, View]{
			Context:    contextName,
			Type:       Type,
			ParseID:    ParseID,
			Projection: ProjectionName,
			Read:       reads.Get,
			NotFound:   ErrProductNotFound,
		}),
		Reads:   reads,
		History: history.NewReader(d.StreamReader(), Type.StreamType, Type.Events, ErrProductNotFound),
	}
}

// At is organization's product id as it was at a point of its past
// (exactly one of asOf and atVersion): the events up to that point folded
// by the catalog projection's own fold (View.apply), so it is the row the
// read model held then; its Version and UpdatedAt are the version reached
// and the time of its last event. Its Stock is zero: the stock is another
// stream (stock.App.At). Errors: those of history.Fold (BAD_USER_INPUT for
// an impossible point, ErrProductNotFound before the product existed or
// for another organization's).
func (a *App) At(ctx context.Context, organization string, id uuid.UUID, asOf *time.Time, atVersion *int64) (View, error) {
	return history.Fold(ctx, a.History, organization, id, asOf, atVersion, (*View).apply)
}

// Product returns organization's product id from the write side (its
// events, folded): the current facts, such as the price an order records,
// whatever the read model's lag. Errors: ErrProductNotFound, also for
// another organization's product; event store errors.
func (a *App) Product(ctx context.Context, organization string, id uuid.UUID) (Product, error) {
	p, _, err := a.Commands.Load(ctx, id)
	if err != nil {
		return Product{}, fmt.Errorf("load product %s: %w", id, err)
	}
	if p.Status == "" || p.Organization != organization {
		return Product{}, fmt.Errorf("%w: %s", ErrProductNotFound, id)
	}
	return p, nil
}

// ProductExists reports whether organization's catalog has product id,
// discontinued or not, from the write side (it implements stock.Products).
func (a *App) ProductExists(ctx context.Context, organization string, id uuid.UUID) (bool, error) {
	p, _, err := a.Commands.Load(ctx, id)
	if err != nil {
		return false, fmt.Errorf("load product %s: %w", id, err)
	}
	return p.Status != "" && p.Organization == organization, nil
}
