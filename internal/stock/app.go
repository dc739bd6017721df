package stock

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chronicle-es/chronicle/internal/history"

	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/module"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
)

// Products tells the stock context which products exist: the catalog's
// write side (catalog.App implements it).
type Products interface {
	// ProductExists reports whether organization's catalog has product id
	// (discontinued or not).
	ProductExists(ctx context.Context, organization string, id uuid.UUID) (bool, error)
}

// Module registers the stock context on the products of a catalog:
// module.Use(registry, stock.Module(catalogApp)).
func Module(products Products) module.Module[*App] {
	return module.Module[*App]{
		Name:        contextName,
		Projections: []projection.Projection{Projection{}},
		New:         func(d module.Deps) *App { return New(d, products) },
	}
}

// App is the stock context as its resolvers and process managers use it.
type App struct {
	// Commands runs RestockProduct, ReserveStock, CommitReservation and
	// ReleaseReservation (all command.Keyed by the product id: the stream
	// is the caller's organization's stock of that product). Restocking and
	// reserving a product that is not in the caller's catalog is
	// ErrProductNotFound. Results carry the stock as projected after them;
	// Result.ID is the stock stream's id (StreamID), View.ProductID the
	// product's.
	Commands *command.Handler[Stock, View]
	// Reads is the stock read model.
	Reads *ReadModel
	// History reads stock streams: the audit trail, the last change and
	// the stock at a time of its past (At).
	History *history.Reader
}

// Result is what a stock command did.
type Result = command.Result[View]

// New builds the stock context from d, on the catalog's products.
func New(d module.Deps, products Products) *App {
	reads := NewReadModel(d.Pool, d.Hub, products)
	return &App{
		Commands: command.NewHandler(d.Commands, command.Spec[Stock, View]{
			Context:    contextName,
			Type:       Type,
			ParseID:    ParseProductID,
			Projection: ProjectionName,
			Read:       reads.getByStream,
			NotFound:   ErrStockNotFound,
			Admit:      admit(products),
		}),
		Reads:   reads,
		History: history.NewReader(d.StreamReader(), Type.StreamType, Type.Events, ErrStockNotFound),
	}
}

// At is organization's stock of productID as it stood at asOf: the events
// of its stream recorded up to then, folded by the stock projection's own
// fold (View.apply), so it is the row the read model held then; the zero
// View (Version 0) when nothing had been restocked or reserved yet, as Get
// answers. It does not check that the product exists. Errors: those of
// history.Fold other than ErrStockNotFound.
func (a *App) At(ctx context.Context, organization string, productID uuid.UUID, asOf time.Time) (View, error) {
	id := StreamID(organization, productID)
	v, err := history.Fold(ctx, a.History, organization, id, &asOf, nil, (*View).apply)
	if errors.Is(err, ErrStockNotFound) {
		return View{ID: id, Organization: organization, ProductID: productID}, nil
	}
	if err != nil {
		return View{}, err
	}
	v.ID = id
	return v, nil
}

// admit refuses a restock or a reservation of a product that is not in the
// organization's catalog (NOT_FOUND, like an id of nowhere), before a stock
// stream is created for it. Commits and releases need a reservation, which
// only an admitted reservation made.
func admit(products Products) func(context.Context, string, command.Command[Stock]) error {
	return func(ctx context.Context, organization string, cmd command.Command[Stock]) error {
		var raw string
		switch c := cmd.(type) {
		case RestockProduct:
			raw = c.ProductID
		case ReserveStock:
			raw = c.ProductID
		default:
			return nil
		}
		return productExists(ctx, products, organization, raw)
	}
}

// productExists checks that raw is a product id of organization's catalog.
// Errors: ErrInvalidInput, ErrProductNotFound, the lookup's errors.
func productExists(ctx context.Context, products Products, organization, raw string) error {
	id, err := ParseProductID(raw)
	if err != nil {
		return err
	}
	ok, err := products.ProductExists(ctx, organization, id)
	if err != nil {
		return fmt.Errorf("look up product %s: %w", id, err)
	}
	if !ok {
		return fmt.Errorf("%w: %s", ErrProductNotFound, id)
	}
	return nil
}

// IsRefusal reports whether err is one of the domain refusals of a stock
// command that a process manager acts on rather than retries:
// ErrOutOfStock, ErrAlreadyReserved, ErrReservationNotFound,
// ErrInvalidStateTransition, ErrProductNotFound.
func IsRefusal(err error) bool {
	for _, target := range []error{ErrOutOfStock, ErrAlreadyReserved, ErrReservationNotFound, ErrInvalidStateTransition, ErrProductNotFound} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
