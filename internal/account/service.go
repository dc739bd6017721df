package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
)

// Waiter is what the service waits on for read-your-writes
// (*projection.Engine).
type Waiter = projection.Waiter

// KeyLookup finds the result of an already handled idempotency key.
type KeyLookup interface {
	LookupIdempotencyKey(ctx context.Context, key string, streamID uuid.UUID, command string) (eventstore.AppendResult, bool, error)
}

// Store is what the service needs of the event store.
type Store interface {
	aggregate.EventStore
	StreamReader
}

// Result is what a command did, and the account as projected after it.
type Result struct {
	// Account is the projected account: read after the projection passed
	// the command's events when UpToDate, else the latest projected state
	// (nil if the account is not projected yet).
	Account *View
	// AccountID is the account the command acted on.
	AccountID uuid.UUID
	// Position is the global position of the command's last event.
	Position int64
	// Version is the account stream's version after the command.
	Version   int64
	UpToDate  bool
	Duplicate bool
}

// Service runs account commands and gives read-your-writes results.
type Service struct {
	store  Store
	repo   *aggregate.Repository[Account]
	reads  *ReadModel
	waiter Waiter
	wait   time.Duration
}

// NewService returns a Service. wait bounds how long a command's result
// waits for the accounts projection (read-your-writes); 0 means no wait.
func NewService(store Store, reads *ReadModel, waiter Waiter, wait time.Duration) *Service {
	return &Service{store: store, repo: aggregate.NewRepository(store, Type), reads: reads, waiter: waiter, wait: wait}
}

// Command names, stored with idempotency keys.
const (
	cmdOpen   = "OpenAccount"
	cmdCredit = "CreditAccount"
	cmdDebit  = "DebitAccount"
	cmdClose  = "CloseAccount"
)

// Open opens an account. An empty cmd.AccountID gets a fresh UUIDv7 (so
// account ids sort by creation). Errors: those of OpenAccount.Decide, and of
// aggregate.Repository.Handle.
func (s *Service) Open(ctx context.Context, cmd OpenAccount, opts aggregate.Options) (Result, error) {
	if cmd.AccountID == "" {
		if opts.IdempotencyKey != "" {
			// A retried open without an id must find the first one's account.
			res, found, err := s.store.LookupIdempotencyKey(ctx, opts.StoredIdempotencyKey(), uuid.Nil, cmdOpen)
			if err != nil {
				return Result{}, err
			}
			if found {
				return s.result(ctx, opts.Metadata.Tenant, res)
			}
		}
		id, err := uuid.NewV7()
		if err != nil {
			return Result{}, fmt.Errorf("new account id: %w", err)
		}
		cmd.AccountID = id.String()
	}
	return s.handle(ctx, cmd.AccountID, cmdOpen, opts, cmd.Decide)
}

// Credit credits an account. Errors: those of CreditAccount.Decide, and
// *eventstore.WrongExpectedVersionError.
func (s *Service) Credit(ctx context.Context, cmd CreditAccount, opts aggregate.Options) (Result, error) {
	return s.handle(ctx, cmd.AccountID, cmdCredit, opts, cmd.Decide)
}

// Debit debits an account. Errors: those of DebitAccount.Decide, and
// *eventstore.WrongExpectedVersionError.
func (s *Service) Debit(ctx context.Context, cmd DebitAccount, opts aggregate.Options) (Result, error) {
	return s.handle(ctx, cmd.AccountID, cmdDebit, opts, cmd.Decide)
}

// Close closes an account. Errors: those of CloseAccount.Decide, and
// *eventstore.WrongExpectedVersionError.
func (s *Service) Close(ctx context.Context, cmd CloseAccount, opts aggregate.Options) (Result, error) {
	return s.handle(ctx, cmd.AccountID, cmdClose, opts, cmd.Decide)
}

func (s *Service) handle(ctx context.Context, rawID, command string, opts aggregate.Options, decide aggregate.Decide[Account]) (Result, error) {
	id, err := ParseID(rawID)
	if err != nil {
		return Result{}, err
	}
	res, err := s.repo.Handle(ctx, uuid.MustParse(id), command, opts, decide)
	if err != nil {
		return Result{}, err
	}
	return s.result(ctx, opts.Metadata.Tenant, res)
}

// result waits (bounded) for the projection to pass the append, then reads
// the account. A time-out is not an error: the write has happened.
func (s *Service) result(ctx context.Context, organization string, res eventstore.AppendResult) (Result, error) {
	out := Result{AccountID: res.StreamID, Position: res.LastPosition, Version: res.ToVersion, Duplicate: res.Duplicate}
	upToDate, err := projection.AwaitBounded(ctx, s.waiter, ProjectionName, res.Checkpoint(), s.wait)
	if err != nil {
		return Result{}, err
	}
	out.UpToDate = upToDate
	v, err := s.reads.Get(ctx, organization, res.StreamID)
	switch {
	case err == nil:
		out.Account = &v
	case !errors.Is(err, ErrAccountNotFound) || out.UpToDate:
		return Result{}, err
	}
	return out, nil
}
