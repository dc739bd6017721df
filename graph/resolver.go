// Package graph is the GraphQL layer: the gqlgen executor (generated.go),
// thin resolvers that turn inputs into commands and read models into types
// (one graph/<context>.go per bounded context), the error presenter, and the
// HTTP handler with its limits.
package graph

import (
	"context"
	"fmt"
	"github.com/chronicle-es/chronicle/internal/erasure"
	"log/slog"
	"sync"

	"github.com/chronicle-es/chronicle/internal/account"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/chronicle-es/chronicle/internal/catalog"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/module"
	"github.com/chronicle-es/chronicle/internal/order"
	"github.com/chronicle-es/chronicle/internal/payment"
	"github.com/chronicle-es/chronicle/internal/stock"
)

// Resolver is the root resolver: the bounded contexts' application values,
// and the goroutines of the open subscriptions.
type Resolver struct {
	account *account.App
	payment *payment.App
	catalog *catalog.App
	stock   *stock.App
	order   *order.App
	erasure *erasure.Service

	registry *module.Registry
	logger   *slog.Logger
	// subscriptions runs one goroutine per open subscription.
	subscriptions sync.WaitGroup
}

// NewResolver builds every bounded context from reg's dependencies and
// registers it (its projections join reg's engine). This is the one list of
// contexts: a context is added by its line here and its graph/<context>.go.
// Errors: those of module.Registry.Err (a projection registered twice).
func NewResolver(reg *module.Registry, logger *slog.Logger) (*Resolver, error) {
	if logger == nil {
		logger = slog.Default()
	}
	r := &Resolver{registry: reg, logger: logger}
	r.account = module.Use(reg, account.Module)
	r.payment = module.Use(reg, payment.Module)
	r.catalog = module.Use(reg, catalog.Module)
	r.stock = module.Use(reg, stock.Module(r.catalog))
	r.order = module.Use(reg, order.Module(order.Needs{
		Catalog: r.catalog, Stock: r.stock, Payments: r.payment, PaymentTimeout: reg.Settings().OrderPaymentTimeout,
	}))
	// Last: it waits for the read models registered above to scrub.
	r.erasure = module.Use(reg, erasure.Module(reg.Projections()))
	return r, reg.Err()
}

// Registry returns the registry of the resolver's bounded contexts.
func (r *Resolver) Registry() *module.Registry { return r.registry }

// WaitSubscriptions waits until the goroutine of every subscription has
// ended, or ctx ends (its error is returned). A subscription ends when its
// request's context does; call this after the HTTP server has stopped
// taking requests.
func (r *Resolver) WaitSubscriptions(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		r.subscriptions.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("subscriptions still running: %w", ctx.Err())
	}
}

// organization returns the caller's organization, the tenant every query,
// mutation and subscription is confined to. Errors: UNAUTHENTICATED when the
// request carries none (the edge refuses such requests outside development
// mode; this guards any path that would slip through).
func organization(ctx context.Context) (string, error) {
	if org := caller.From(ctx).Organization; org != "" {
		return org, nil
	}
	return "", apperr.New(apperr.Unauthenticated, "authentication required: no organization in the caller's identity")
}

// commandOptions builds the non-domain part of a mutation's command: the
// caller (actor, organization, correlation id) from the request, never from
// the input.
func commandOptions(ctx context.Context, expectedVersion *int, idempotencyKey *string) command.Options {
	return command.Options{
		ExpectedVersion: int64Ptr(expectedVersion),
		IdempotencyKey:  deref(idempotencyKey),
		Caller:          caller.From(ctx),
		Source:          command.SourceAPI,
	}
}

// handle runs one command of a context's handler with the request's options
// and converts its result into the mutation's payload.
func handle[S, V, P any, C command.Command[S]](ctx context.Context, h *command.Handler[S, V], cmd C,
	expectedVersion *int, idempotencyKey *string, payload func(command.Result[V]) P) (P, error) {
	res, err := h.Handle(ctx, cmd, commandOptions(ctx, expectedVersion, idempotencyKey))
	if err != nil {
		var zero P
		return zero, err
	}
	return payload(res), nil
}

// byID answers a by-id query for the caller's organization: it parses the
// client's id (BAD_USER_INPUT when malformed), reads the row of the caller's
// organization (NOT_FOUND for another's) and converts it.
func byID[ID, V, M any](ctx context.Context, raw string, parse func(string) (ID, error),
	get func(context.Context, string, ID) (V, error), convert func(V) M) (M, error) {
	var zero M
	org, id, err := orgAndID(ctx, raw, parse)
	if err != nil {
		return zero, err
	}
	v, err := get(ctx, org, id)
	if err != nil {
		return zero, err
	}
	return convert(v), nil
}

// orgAndID returns the caller's organization (UNAUTHENTICATED without one)
// and the client's id parsed by parse (BAD_USER_INPUT when malformed).
func orgAndID[ID any](ctx context.Context, raw string, parse func(string) (ID, error)) (string, ID, error) {
	var zero ID
	org, err := organization(ctx)
	if err != nil {
		return "", zero, err
	}
	id, err := parse(raw)
	if err != nil {
		return "", zero, err
	}
	return org, id, nil
}
