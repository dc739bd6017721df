// Package graph is the GraphQL layer: the gqlgen executor (generated.go),
// thin resolvers that turn inputs into commands and read models into types,
// the error presenter, and the HTTP handler with its limits.
package graph

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/chronicle-es/chronicle/graph/model"
	"github.com/chronicle-es/chronicle/internal/account"
	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/payment"
	"github.com/google/uuid"
)

// Resolver is the root resolver. It holds the application services, the
// live-update hub, and the goroutines of the open subscriptions.
type Resolver struct {
	Accounts     *account.Service
	AccountReads *account.ReadModel
	Events       account.StreamReader
	Payments     *payment.Service
	PaymentReads *payment.ReadModel
	// Hub rings the subscriptions when a projection has committed a change.
	Hub *live.Hub
	// Logger logs what ends a subscription other than its client
	// (slog.Default() when nil).
	Logger *slog.Logger

	// streams runs one goroutine per open subscription.
	streams sync.WaitGroup
}

// WaitSubscriptions waits until the goroutine of every subscription has
// ended, or ctx ends (its error is returned). A subscription ends when its
// request's context does; call this after the HTTP server has stopped
// taking requests.
func (r *Resolver) WaitSubscriptions(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		r.streams.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("subscriptions still running: %w", ctx.Err())
	}
}

func (r *Resolver) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
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

// commandOptions builds the non-domain part of a command from the request:
// the caller's actor and organization (Metadata.Tenant) become the events'
// metadata, never anything from the input.
func commandOptions(ctx context.Context, expectedVersion *int, idempotencyKey *string) (aggregate.Options, error) {
	c := caller.From(ctx)
	if _, err := organization(ctx); err != nil {
		return aggregate.Options{}, err
	}
	commandID, err := uuid.NewV7()
	if err != nil {
		return aggregate.Options{}, fmt.Errorf("command id: %w", err)
	}
	return aggregate.Options{
		ExpectedVersion: int64Ptr(expectedVersion),
		IdempotencyKey:  deref(idempotencyKey),
		Metadata: eventstore.Metadata{
			Actor:         c.Actor,
			Tenant:        c.Organization,
			CorrelationID: c.CorrelationID,
			CommandID:     commandID.String(),
		},
	}, nil
}

// accountCommand runs one account command with the request's options and
// maps its result to the payload.
func (r *Resolver) accountCommand(ctx context.Context, expectedVersion *int, idempotencyKey *string, run func(aggregate.Options) (account.Result, error)) (*model.AccountPayload, error) {
	opts, err := commandOptions(ctx, expectedVersion, idempotencyKey)
	if err != nil {
		return nil, err
	}
	res, err := run(opts)
	if err != nil {
		return nil, err
	}
	return payloadOf(res), nil
}

// accountID parses a client-given account id (BAD_USER_INPUT when malformed).
func accountID(raw string) (uuid.UUID, error) {
	id, err := account.ParseID(raw)
	if err != nil {
		return uuid.Nil, err
	}
	return uuid.MustParse(id), nil
}

// byID answers a by-id query for the caller's organization: it parses the
// client's id (BAD_USER_INPUT when malformed), reads the row of the caller's
// organization (NOT_FOUND for another's) and converts it.
func byID[V, M any](ctx context.Context, raw string, parse func(string) (uuid.UUID, error),
	get func(context.Context, string, uuid.UUID) (V, error), convert func(V) M) (M, error) {
	var zero M
	org, err := organization(ctx)
	if err != nil {
		return zero, err
	}
	id, err := parse(raw)
	if err != nil {
		return zero, err
	}
	v, err := get(ctx, org, id)
	if err != nil {
		return zero, err
	}
	return convert(v), nil
}
