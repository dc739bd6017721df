package command

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
)

// Deps are what every context's handler shares: they come from the server.
type Deps struct {
	Store aggregate.EventStore
	// Waiter answers read-your-writes waits (*projection.Engine).
	Waiter projection.Waiter
	// Views, when set, hands a command whose projection is a
	// projection.Viewer the row its batch wrote (*projection.Engine), for a
	// Spec with Organization: no read after the wait.
	Views ViewSource
	// Wait bounds the read-your-writes wait of a command's result; 0 means
	// no wait (the result then says UpToDate false unless the projection
	// happens to be there).
	Wait time.Duration
	// Pipeline decorates every command (nil: none).
	Pipeline *Pipeline
	// Logger logs a view that could not be read after a committed append
	// (slog.Default() when nil).
	Logger *slog.Logger
	// Snapshots takes aggregate snapshots in the background for the types
	// that have a snapshot policy (nil: no snapshots).
	Snapshots *aggregate.Snapshotter
	// StateCache is how many aggregate states (streams) each context's
	// repository keeps for its next commands (aggregate.CacheStates; 0:
	// none, every command reads its stream).
	StateCache int
}

// ViewSource is the part of *projection.Engine that hands a
// read-your-writes waiter its view (projection.Engine.ViewAfter).
type ViewSource interface {
	ViewAfter(projection, key string, target eventstore.Checkpoint) (any, bool)
}

// Spec is what a bounded context tells the handler about itself.
type Spec[S, V any] struct {
	// Context names the bounded context ("account"), for decorators.
	Context string
	// Type is the aggregate's type.
	Type aggregate.Type[S]
	// ParseID parses a client-given id (Command.Target); its errors are
	// BAD_USER_INPUT.
	ParseID func(raw string) (uuid.UUID, error)
	// Projection names the projection that serves Read.
	Projection string
	// Read reads the entity's view for organization after the command
	// (never from a cache that the command has not invalidated yet).
	Read func(ctx context.Context, organization string, id uuid.UUID) (V, error)
	// NotFound is the error (matched with errors.Is) that Read returns
	// for an entity that is not projected yet.
	NotFound error
	// Organization, when set, returns the organization a view belongs to:
	// with Deps.Views and a Projection that is a projection.Viewer keyed by
	// stream id, the view the projection's batch wrote (a V) is the
	// payload, when it is organization's, and Read is not called.
	Organization func(V) string
	// AfterRead, when set, is called once the view has been read after a
	// command that appended events and whose projection is up to date
	// (UpToDate and not Duplicate), e.g. to raise a read cache's floor. It
	// cannot fail the command: the write has happened.
	AfterRead func(ctx context.Context, res Result[V])
	// Admit, when set, checks a command of organization before anything is
	// read or appended, with I/O the pure Decide cannot do: e.g. that an
	// entity of another context the command refers to exists (stock of a
	// product of the catalog). Its error refuses the command as returned.
	Admit func(ctx context.Context, organization string, cmd Command[S]) error
}

// Result is what a command did, and the entity as projected after it.
type Result[V any] struct {
	// ID is the entity (stream) the command acted on; for a Creator, the
	// id the handler gave it.
	ID uuid.UUID
	// View is the projected entity: read after the projection passed the
	// command's events when UpToDate, else whatever could be read (nil when
	// nothing could: not projected yet, or the read failed).
	View *V
	Outcome
}

// Handler runs the commands of one bounded context.
type Handler[S, V any] struct {
	deps Deps
	spec Spec[S, V]
	repo *aggregate.Repository[S]
}

// NewHandler returns the handler of spec's context.
func NewHandler[S, V any](deps Deps, spec Spec[S, V]) *Handler[S, V] {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	return &Handler[S, V]{deps: deps, spec: spec, repo: aggregate.NewRepository(deps.Store, spec.Type, deps.Snapshots, aggregate.CacheStates(deps.StateCache))}
}

// viewReadTimeout bounds the read of the view after a committed append when
// the request's own context has ended: the payload is still owed.
const viewReadTimeout = 2 * time.Second

// Handle runs cmd with opts through the pipeline:
//
//  1. checks opts (ErrUnauthenticated without an organization,
//     ErrInvalidInput for a malformed idempotency key), runs the Spec's
//     Admit, and parses the target id (the Spec's ParseID errors), or picks
//     a fresh UUIDv7 for a Creator, or derives the id of a Keyed command's
//     key (KeyedID; Key's errors);
//  2. runs the command on the aggregate (aggregate.Repository.Handle: the
//     idempotency key, the expected version, the retry on a concurrent
//     change under the stream's lock);
//  3. waits, at most Deps.Wait, for the Spec's projection to pass the
//     append, reads the view, and calls AfterRead.
//
// Once the append has committed, Handle returns the result and no error,
// whatever happens to the wait and the read: a failed or timed-out read
// leaves UpToDate false and View nil, and is logged. A client that retries
// must never do a write twice because an answer said it failed.
//
// Errors (nothing appended): those of step 1; the domain errors of Decide;
// *eventstore.WrongExpectedVersionError (CONFLICT) for an explicit expected
// version; eventstore errors (INTERNAL); a decorator's refusal.
func (h *Handler[S, V]) Handle(ctx context.Context, cmd Command[S], opts Options) (Result[V], error) {
	if opts.Caller.Organization == "" {
		return Result[V]{}, ErrUnauthenticated
	}
	if err := ValidIdempotencyKey(opts.IdempotencyKey); err != nil {
		return Result[V]{}, err
	}
	if h.spec.Admit != nil {
		if err := h.spec.Admit(ctx, opts.Caller.Organization, cmd); err != nil {
			return Result[V]{}, err
		}
	}
	_, creates := cmd.(Creator)
	keyed, isKeyed := cmd.(Keyed)
	var (
		id  uuid.UUID
		key string
	)
	switch {
	case isKeyed:
		var err error
		key, err = keyed.Key()
		if err != nil {
			return Result[V]{}, err
		}
		id = KeyedID(h.spec.Context, opts.Caller.Organization, key)
	case creates:
		var err error
		if id, err = uuid.NewV7(); err != nil {
			return Result[V]{}, fmt.Errorf("new %s id: %w", h.spec.Context, err)
		}
	default:
		var err error
		if id, err = h.spec.ParseID(cmd.Target()); err != nil {
			return Result[V]{}, err
		}
	}
	commandID, err := uuid.NewV7()
	if err != nil {
		return Result[V]{}, fmt.Errorf("command id: %w", err)
	}
	source := opts.Source
	if source == "" {
		source = SourceAPI
	}
	aopts := aggregate.Options{
		ExpectedVersion: opts.ExpectedVersion,
		IdempotencyKey:  opts.IdempotencyKey,
		Creates:         creates,
		Metadata: eventstore.Metadata{
			Actor:         opts.Caller.Actor,
			Tenant:        opts.Caller.Organization,
			CorrelationID: opts.Caller.CorrelationID,
			CausationID:   opts.CausationID,
			CommandID:     commandID.String(),
		},
	}
	info := Info{Context: h.spec.Context, Command: cmd.Name(), StreamID: id, Caller: opts.Caller, Source: source}

	var out Result[V]
	_, err = h.deps.Pipeline.Run(ctx, info, func(ctx context.Context) (Outcome, error) {
		res, err := h.repo.Handle(ctx, id, cmd.Name(), aopts, func(s S) ([]aggregate.Event, error) {
			return cmd.Decide(s, Env{StreamID: id, Actor: opts.Caller.Actor, Organization: opts.Caller.Organization, StreamKey: key})
		})
		if err != nil {
			return Outcome{}, err
		}
		if opts.SkipView {
			out = Result[V]{ID: res.StreamID, Outcome: outcome(res)}
		} else {
			out = h.result(ctx, opts.Caller.Organization, res)
		}
		return out.Outcome, nil
	})
	if err != nil {
		return Result[V]{}, err
	}
	return out, nil
}

// result waits (bounded) for the projection to pass the append, then reads
// the view. It cannot fail: the write has happened.
func (h *Handler[S, V]) result(ctx context.Context, organization string, res eventstore.AppendResult) Result[V] {
	out := Result[V]{ID: res.StreamID, Outcome: outcome(res)}
	upToDate, err := projection.AwaitBounded(ctx, h.deps.Waiter, h.spec.Projection, out.Checkpoint, h.deps.Wait)
	if err != nil {
		upToDate = false // the request's context ended during the wait
	}
	readCtx := ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		readCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), viewReadTimeout)
		defer cancel()
	}
	if upToDate {
		if v, ok := h.handedView(organization, res); ok {
			out.View, out.UpToDate = &v, true
			h.afterRead(readCtx, out)
			return out
		}
	}
	v, err := h.spec.Read(readCtx, organization, res.StreamID)
	switch {
	case err == nil:
		out.View = &v
		out.UpToDate = upToDate
	case errors.Is(err, h.spec.NotFound) && !upToDate:
		// Not projected yet: the payload says so with UpToDate false.
	default:
		h.deps.Logger.ErrorContext(ctx, "reading the view after a committed command failed; answering upToDate false",
			"context", h.spec.Context, "id", res.StreamID, "position", res.LastPosition, "err", err)
	}
	h.afterRead(readCtx, out)
	return out
}

// handedView is the view of res's stream that its projection's batch wrote
// (Deps.Views), if this instance has it and it is organization's.
func (h *Handler[S, V]) handedView(organization string, res eventstore.AppendResult) (V, bool) {
	var zero V
	if h.deps.Views == nil || h.spec.Organization == nil {
		return zero, false
	}
	got, ok := h.deps.Views.ViewAfter(h.spec.Projection, res.StreamID.String(), res.Checkpoint())
	if !ok {
		return zero, false
	}
	v, ok := got.(V)
	if !ok || h.spec.Organization(v) != organization {
		return zero, false
	}
	return v, true
}

// afterRead calls the Spec's AfterRead for an up-to-date result of an
// append.
func (h *Handler[S, V]) afterRead(ctx context.Context, out Result[V]) {
	if out.UpToDate && !out.Duplicate && h.spec.AfterRead != nil {
		h.spec.AfterRead(ctx, out)
	}
}

// outcome is what an append did, before any wait.
func outcome(res eventstore.AppendResult) Outcome {
	return Outcome{Position: res.LastPosition, Checkpoint: res.Checkpoint(), Version: res.ToVersion, Duplicate: res.Duplicate}
}

// Load returns the aggregate's current state and version (0 when it does not
// exist), for readers that fold the write side (e.g. a process manager or
// another context's command that needs a fact, such as a price).
func (h *Handler[S, V]) Load(ctx context.Context, id uuid.UUID) (S, int64, error) {
	return h.repo.Load(ctx, id)
}
