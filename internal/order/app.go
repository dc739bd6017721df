package order

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chronicle-es/chronicle/internal/catalog"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/history"
	"github.com/chronicle-es/chronicle/internal/module"
	"github.com/chronicle-es/chronicle/internal/payment"
	"github.com/chronicle-es/chronicle/internal/process"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/chronicle-es/chronicle/internal/stock"
	"github.com/google/uuid"
)

const contextName = "order"

// Needs are the other contexts orders are built on.
type Needs struct {
	// Catalog prices the lines (its write side, at the moment of placing).
	Catalog *catalog.App
	// Stock and Payments receive the fulfilment process's commands.
	Stock    *stock.App
	Payments *payment.App
	// PaymentTimeout is how long an order may await its payment
	// (config ORDER_PAYMENT_TIMEOUT).
	PaymentTimeout time.Duration
}

// DefaultPaymentTimeout is Needs.PaymentTimeout when it is not positive.
const DefaultPaymentTimeout = 15 * time.Minute

// Module registers the orders context and its fulfilment process manager:
// module.Use(registry, order.Module(order.Needs{...})).
func Module(n Needs) module.Module[*App] {
	if n.PaymentTimeout <= 0 {
		n.PaymentTimeout = DefaultPaymentTimeout
	}
	return module.Module[*App]{
		Name:        contextName,
		Projections: []projection.Projection{Projection{}},
		New:         func(d module.Deps) *App { return New(d, n) },
		Processes: func(a *App, d module.Deps) []*process.Manager {
			return []*process.Manager{NewFulfilment(Senders{Orders: a.Commands, Stock: n.Stock.Commands, Payments: n.Payments.Commands,
				Personal: valueOpener(d)}, n.PaymentTimeout, d.Process)}
		},
	}
}

// App is the orders context as its resolvers use it.
type App struct {
	// Commands runs the order commands; Place prices a PlaceOrder first.
	Commands *command.Handler[Order, View]
	Reads    *ReadModel
	// History reads orders' streams: the audit trail, the last change and
	// time travel (At).
	History *history.Reader
	catalog *catalog.App
}

// Result is what an order command did.
type Result = command.Result[View]

// New builds the orders context from d on n.
func New(d module.Deps, n Needs) *App {
	reads := NewReadModel(d.Pool, d.Hub)
	return &App{
		Commands: command.NewHandler(d.Commands, command.Spec[Order, View]{
			Context:    contextName,
			Type:       Type,
			ParseID:    ParseID,
			Projection: ProjectionName,
			Read:       reads.Get,
			NotFound:   ErrOrderNotFound,
		}),
		Reads:   reads,
		History: history.NewReader(d.StreamReader(), Type.StreamType, Type.Events, ErrOrderNotFound),
		catalog: n.Catalog,
	}
}

// At is organization's order id as it was at a point of its past (exactly
// one of asOf and atVersion), whichever command moved it there (a
// mutation's or the fulfilment process's): the events up to that point
// folded by the orders projection's own fold (View.apply), so it is the
// row the read model held then; its Version and UpdatedAt are the version
// reached and the time of its last event. Errors: those of history.Fold
// (BAD_USER_INPUT for an impossible point, ErrOrderNotFound before the
// order existed or for another organization's).
func (a *App) At(ctx context.Context, organization string, id uuid.UUID, asOf *time.Time, atVersion *int64) (View, error) {
	return history.Fold(ctx, a.History, organization, id, asOf, atVersion, (*View).apply)
}

// Place prices cmd's lines from the catalog's write side (the facts of the
// moment, whatever the read model's lag) and places the order. Errors:
// ErrProductNotFound for a product not in the caller's catalog (a
// malformed id is left to Decide's ErrInvalidInput); those of Handle.
func (a *App) Place(ctx context.Context, cmd PlaceOrder, opts command.Options) (Result, error) {
	cmd.Prices = make(map[string]Price, len(cmd.Lines))
	for _, l := range cmd.Lines {
		id, err := command.ParseUUID(l.ProductID, "product", ErrInvalidInput)
		if err != nil {
			continue
		}
		p, err := a.catalog.Product(ctx, opts.Caller.Organization, id)
		if errors.Is(err, catalog.ErrProductNotFound) {
			continue // Decide refuses a line without a price
		}
		if err != nil {
			return Result{}, fmt.Errorf("price of product %s: %w", id, err)
		}
		cmd.Prices[id.String()] = Price{Amount: p.Price, Currency: p.Currency.Code, Discontinued: p.Status == catalog.StatusDiscontinued}
	}
	return a.Commands.Handle(ctx, cmd, opts)
}

// Get is the read model's Get (for resolvers).
func (a *App) Get(ctx context.Context, organization string, id uuid.UUID) (View, error) {
	return a.Reads.Get(ctx, organization, id)
}

// valueOpener opens sealed values with d's keys on d's pool (nil without
// keys).
func valueOpener(d module.Deps) ValueOpener {
	if d.Keys == nil {
		return nil
	}
	return func(ctx context.Context, organization string, values ...*string) error {
		return d.Keys.OpenValues(ctx, d.Pool, organization, values...)
	}
}
