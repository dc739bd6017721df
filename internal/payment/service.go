package payment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/chronicle-es/chronicle/internal/readcache"
	"github.com/google/uuid"
)

// Waiter is what the service waits on for read-your-writes
// (*projection.Engine).
type Waiter = projection.Waiter

// Result is what a command did, and the payment as projected after it.
type Result struct {
	// Payment is read after the projection passed the command's events
	// when UpToDate, else the latest projected state (nil if none yet).
	Payment   *View
	PaymentID uuid.UUID
	// Position is the global position of the command's last event.
	Position  int64
	Version   int64
	UpToDate  bool
	Duplicate bool
}

// Service runs payment commands with read-your-writes results.
type Service struct {
	repo   *aggregate.Repository[Payment]
	reads  *ReadModel
	cache  *readcache.Cache
	waiter Waiter
	wait   time.Duration
	logger *slog.Logger
}

// NewService returns a Service. wait bounds how long a command's result
// waits for the payments projection; cache may be nil; logger logs a failed
// cache invalidation.
func NewService(store aggregate.EventStore, reads *ReadModel, cache *readcache.Cache, waiter Waiter, wait time.Duration, logger *slog.Logger) *Service {
	return &Service{repo: aggregate.NewRepository(store, Type), reads: reads, cache: cache, waiter: waiter, wait: wait, logger: logger}
}

// Command names, stored with idempotency keys.
const (
	cmdInitiate = "InitiatePayment"
	cmdProcess  = "ProcessPayment"
	cmdFail     = "FailPayment"
	cmdRefund   = "RefundPayment"
)

// Initiate starts a payment. An empty cmd.PaymentID gets a fresh UUIDv7;
// with an idempotency key, a retry returns the first payment. Errors: those
// of InitiatePayment.Decide and of aggregate.Repository.Handle.
func (s *Service) Initiate(ctx context.Context, cmd InitiatePayment, opts aggregate.Options) (Result, error) {
	if cmd.PaymentID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return Result{}, fmt.Errorf("new payment id: %w", err)
		}
		cmd.PaymentID = id.String()
		if opts.IdempotencyKey != "" {
			// The retry of a command without an id must land on the first
			// one's stream: derive the id from the (tenant-scoped) key.
			cmd.PaymentID = uuid.NewSHA1(idempotentIDSpace, []byte(opts.StoredIdempotencyKey())).String()
		}
	}
	return s.handle(ctx, cmd.PaymentID, cmd.Organization, cmdInitiate, opts, cmd.Decide)
}

// idempotentIDSpace is the UUIDv5 namespace of payment ids derived from
// idempotency keys.
var idempotentIDSpace = uuid.MustParse("5b0e8a0e-8f0c-4d5e-9a55-0c6f6e1c2a11")

// Process processes a payment. Errors: ProcessPayment.Decide's and
// *eventstore.WrongExpectedVersionError.
func (s *Service) Process(ctx context.Context, cmd ProcessPayment, opts aggregate.Options) (Result, error) {
	return s.handle(ctx, cmd.PaymentID, cmd.Organization, cmdProcess, opts, cmd.Decide)
}

// Fail fails a payment. Errors: FailPayment.Decide's and
// *eventstore.WrongExpectedVersionError.
func (s *Service) Fail(ctx context.Context, cmd FailPayment, opts aggregate.Options) (Result, error) {
	return s.handle(ctx, cmd.PaymentID, cmd.Organization, cmdFail, opts, cmd.Decide)
}

// Refund refunds a payment. Errors: RefundPayment.Decide's and
// *eventstore.WrongExpectedVersionError.
func (s *Service) Refund(ctx context.Context, cmd RefundPayment, opts aggregate.Options) (Result, error) {
	return s.handle(ctx, cmd.PaymentID, cmd.Organization, cmdRefund, opts, cmd.Decide)
}

func (s *Service) handle(ctx context.Context, rawID, organization, command string, opts aggregate.Options, decide aggregate.Decide[Payment]) (Result, error) {
	id, err := ParseID(rawID)
	if err != nil {
		return Result{}, err
	}
	res, err := s.repo.Handle(ctx, uuid.MustParse(id), command, opts, decide)
	if err != nil {
		return Result{}, err
	}
	return s.result(ctx, organization, res)
}

// result waits (bounded) for the projection to pass the append, reads the
// payment from the database, and raises the cache floor of what the
// command changed to the command's checkpoint, so that every read made
// after this returns sees the change (see package readcache). A time-out
// is not an error: the write has happened.
func (s *Service) result(ctx context.Context, organization string, res eventstore.AppendResult) (Result, error) {
	out := Result{PaymentID: res.StreamID, Position: res.LastPosition, Version: res.ToVersion, Duplicate: res.Duplicate}
	upToDate, err := projection.AwaitBounded(ctx, s.waiter, ProjectionName, res.Checkpoint(), s.wait)
	if err != nil {
		return Result{}, err
	}
	out.UpToDate = upToDate
	v, err := s.reads.GetFresh(ctx, organization, res.StreamID)
	switch {
	case err == nil:
		out.Payment = &v
		if out.UpToDate && !res.Duplicate {
			keys := []string{v.ID.String(), StatsDayKey(v.Organization, v.InitiatedAt)}
			if err := s.cache.Invalidate(ctx, ProjectionName, res.Checkpoint(), keys...); err != nil {
				// The write stands and must be reported as done. Readers
				// fall back to the database while Redis fails; an entry
				// that survives is replaced at the key's next change or TTL.
				s.logger.ErrorContext(ctx, "read cache invalidation after a command failed", "payment", v.ID, "err", err)
			}
		}
	case !errors.Is(err, ErrPaymentNotFound) || out.UpToDate:
		return Result{}, err
	}
	return out, nil
}
