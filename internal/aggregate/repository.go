package aggregate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/google/uuid"
)

// EventStore is the part of *eventstore.Store the repository uses.
type EventStore interface {
	// ReadStreamForFold reads a stream to load an aggregate from: only what
	// folding needs, since every command reads its whole stream.
	ReadStreamForFold(ctx context.Context, streamID uuid.UUID) ([]eventstore.FoldEvent, error)
	Append(ctx context.Context, req eventstore.AppendRequest) (eventstore.AppendResult, error)
	AppendLocked(ctx context.Context, req eventstore.AppendRequest, decide eventstore.DecideFunc) (eventstore.AppendResult, error)
	LookupIdempotencyKey(ctx context.Context, key string, streamID uuid.UUID, command string) (eventstore.AppendResult, bool, error)
}

// Options are the parts of a command that are not its domain data.
type Options struct {
	// ExpectedVersion, when not nil, is the stream version the caller saw;
	// the command fails with a *eventstore.WrongExpectedVersionError if the
	// stream is elsewhere. When nil the command runs on the latest state,
	// retrying on a concurrent change.
	ExpectedVersion *int64
	// IdempotencyKey, when not empty, makes the command happen at most once
	// per tenant (Metadata.Tenant): see StoredIdempotencyKey.
	IdempotencyKey string
	// Creates marks a command that creates its stream under an id picked
	// for this attempt: the stream must not exist, and a retry with the
	// same idempotency key (under another fresh id) finds the first
	// attempt's result by the key alone.
	Creates  bool
	Metadata eventstore.Metadata
}

// StoredIdempotencyKey is the key under which the event store records
// IdempotencyKey: scoped to Metadata.Tenant, so two organizations that pick
// the same key never see each other's results. The tenant is length-prefixed
// ("4:acme/key"), so no choice of tenant and key collides with another.
// Empty when IdempotencyKey is.
func (o Options) StoredIdempotencyKey() string {
	if o.IdempotencyKey == "" || o.Metadata.Tenant == "" {
		return o.IdempotencyKey
	}
	return strconv.Itoa(len(o.Metadata.Tenant)) + ":" + o.Metadata.Tenant + "/" + o.IdempotencyKey
}

// ErrInvalidExpectedVersion (BAD_USER_INPUT) reports a negative
// Options.ExpectedVersion, refused by Handle before anything is read.
var ErrInvalidExpectedVersion = apperr.New(apperr.BadUserInput, "invalid input")

// Decide is a command applied to the current state: the new events, or a
// domain error. It must be pure: it may run more than once.
type Decide[S any] func(state S) ([]Event, error)

// Repository loads aggregates of one Type from the event store and runs
// commands against them.
type Repository[S any] struct {
	store     EventStore
	typ       Type[S]
	snapshots *Snapshotter
	cache     *stateCache[S] // nil: no cache
}

// NewRepository returns a repository for aggregates of type typ. With a
// snapshotter (nil: none) and a Type whose Snapshots policy is set, it loads
// aggregates from their newest snapshot and offers new ones in the
// background. With CacheStates, its commands start from the states its
// earlier commands left.
func NewRepository[S any](store EventStore, typ Type[S], snapshots *Snapshotter, opts ...Option) *Repository[S] {
	var o repositoryOptions
	for _, opt := range opts {
		opt(&o)
	}
	return &Repository[S]{store: store, typ: typ, snapshots: snapshots, cache: newStateCache[S](o.cacheSize)}
}

// Load returns the aggregate's state and version (0 when the stream does not
// exist): from its newest snapshot and the events after it when snapshots
// are on, else by folding the whole stream. It always reads the store (never
// the state cache, whose entries belong to commands).
func (r *Repository[S]) Load(ctx context.Context, id uuid.UUID) (S, int64, error) {
	state, version, _, err := r.load(ctx, id)
	return state, version, err
}

// load is Load that also returns the version of the snapshot it started
// from (0: none).
func (r *Repository[S]) load(ctx context.Context, id uuid.UUID) (S, int64, int64, error) {
	if p, on := snapshotting(r.snapshots, r.typ); on {
		return r.loadFromSnapshot(ctx, id, p)
	}
	events, err := r.store.ReadStreamForFold(ctx, id)
	if err != nil {
		var zero S
		return zero, 0, 0, err
	}
	state, version, err := r.fold(id, events)
	return state, version, 0, err
}

// fold evolves the initial state through events, the whole stream of
// aggregate id, and returns it with the stream's version. A stream of
// another stream type is, to this aggregate, one that does not exist
// (version 0): a command for it finds no aggregate (NOT_FOUND), and an id
// of another context can never be decoded as this one's.

func (r *Repository[S]) fold(id uuid.UUID, events []eventstore.FoldEvent) (S, int64, error) {
	state := r.typ.Initial()
	if len(events) > 0 && events[0].StreamType != r.typ.StreamType {
		return state, 0, nil
	}
	state, err := r.evolveFrom(id, state, events)
	return state, int64(len(events)), err
}

// evolveFrom decodes events (upcasting old shapes) and folds them into
// state.
func (r *Repository[S]) evolveFrom(id uuid.UUID, state S, events []eventstore.FoldEvent) (S, error) {
	for _, fe := range events {
		e, err := r.typ.Decode(fe.Type, fe.SchemaVersion, fe.Data)
		if err != nil {
			return state, fmt.Errorf("decode %s v%d of stream %s: %w", fe.Type, fe.Version, id, err)
		}
		state = r.typ.Evolve(state, e)
	}
	return state, nil
}

// Handle runs the command named command (e.g. "DebitAccount") against
// aggregate id: it loads the state, calls decide, and appends the events with
// the version it decided on.
//
// Concurrency: with an explicit expected version, a stream that is elsewhere
// fails with *eventstore.WrongExpectedVersionError (code CONFLICT). Without
// one, a first attempt is optimistic; if another writer got in between, the
// command is decided again on fresh state under the stream's lock
// (eventstore.Store.AppendLocked), where no writer can get in between, so a
// hot stream serialises instead of starving.
//
// Idempotency: a key already handled returns the original result, with
// Duplicate set, and decides nothing.
//
// Errors: ErrInvalidExpectedVersion; decide's domain errors as returned;
// eventstore errors.
func (r *Repository[S]) Handle(ctx context.Context, id uuid.UUID, command string, opts Options, decide Decide[S]) (eventstore.AppendResult, error) {
	if opts.ExpectedVersion != nil && *opts.ExpectedVersion < 0 {
		return eventstore.AppendResult{}, fmt.Errorf("%w: expectedVersion must be at least 0, got %d", ErrInvalidExpectedVersion, *opts.ExpectedVersion)
	}
	key := opts.StoredIdempotencyKey()
	if key != "" {
		lookupID := id
		if opts.Creates {
			lookupID = uuid.Nil // the key, not this attempt's fresh id, names it
		}
		res, found, err := r.store.LookupIdempotencyKey(ctx, key, lookupID, command)
		if err != nil || found {
			return res, err
		}
	}
	req := eventstore.AppendRequest{
		StreamID:       id,
		StreamType:     r.typ.StreamType,
		Metadata:       opts.Metadata,
		IdempotencyKey: key,
		Command:        command,
	}

	var (
		from    cachedState[S]
		decided []Event
	)
	for useCache := !opts.Creates; ; useCache = false {
		var (
			cached bool
			err    error
		)
		if from, cached, err = r.start(ctx, id, opts, useCache); err != nil {
			return eventstore.AppendResult{}, err
		}
		if opts.Creates && from.version != 0 {
			return eventstore.AppendResult{}, &eventstore.WrongExpectedVersionError{StreamID: id, Expected: eventstore.NoStream, Actual: from.version}
		}
		if opts.ExpectedVersion != nil && *opts.ExpectedVersion != from.version {
			r.cache.put(id, from) // current, as read: the client's version is not
			return eventstore.AppendResult{}, &eventstore.WrongExpectedVersionError{StreamID: id, Expected: *opts.ExpectedVersion, Actual: from.version}
		}
		decided, err = decide(from.state)
		if req.Events, err = r.encode(decided, err); err == nil {
			break
		}
		if !cached {
			r.cache.put(id, from) // refused on the stored stream: it stays current
			return eventstore.AppendResult{}, err
		}
		// Refused on a cached state: the stream may have moved since
		// (another instance), and the refusal is final only on the
		// stored stream.
	}
	state, version := from.state, from.version
	req.ExpectedVersion = version
	res, err := r.store.Append(ctx, req)
	if err == nil && !res.Duplicate {
		r.settle(id, state, r.stored(decided, req.Events), res.ToVersion, from.snapshotVersion)
	}
	if opts.ExpectedVersion != nil || opts.Creates || !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		return res, err
	}

	res, err = r.store.AppendLocked(ctx, req, func(recorded []eventstore.RecordedEvent) ([]eventstore.EventData, error) {
		events := make([]eventstore.FoldEvent, len(recorded))
		for i, re := range recorded {
			events[i] = re.FoldEvent()
		}
		if state, _, err = r.fold(id, events); err != nil {
			return nil, err
		}
		decided, err = decide(state)
		req.Events, err = r.encode(decided, err)
		return req.Events, err
	})
	if err == nil && !res.Duplicate {
		r.settle(id, state, r.stored(decided, req.Events), res.ToVersion, from.snapshotVersion)
	}
	return res, err
}

// start returns the state a command on stream id decides on, and whether
// it came from the cache: with useCache, the cached one, taken out of the
// cache, when there is one and it is at the version the command expects (if
// it expects one); else the state as stored.
func (r *Repository[S]) start(ctx context.Context, id uuid.UUID, opts Options, useCache bool) (cachedState[S], bool, error) {
	if useCache {
		if c, ok := r.cache.take(id); ok && (opts.ExpectedVersion == nil || *opts.ExpectedVersion == c.version) {
			return c, true, nil
		}
	}
	state, version, snapshotVersion, err := r.load(ctx, id)
	return cachedState[S]{state: state, version: version, snapshotVersion: snapshotVersion}, false, err
}

// stored returns the decided events as they were stored: an event with
// personal fields comes back from its sealed payload, so that the state a
// snapshot keeps holds sealed values, never the plain ones.
func (r *Repository[S]) stored(decided []Event, data []eventstore.EventData) []Event {
	out, cloned := decided, false
	for i, d := range data {
		if d.Personal == nil || i >= len(decided) {
			continue
		}
		e, err := r.typ.Events.Decode(d.Type, d.SchemaVersion, d.Data)
		if err != nil {
			continue // cannot happen: it was encoded by the same registry
		}
		if !cloned {
			out, cloned = slices.Clone(decided), true
		}
		out[i] = e
	}
	return out
}

// settle folds the decided events into state, the state a command
// decided on, when something needs the state the command left (at
// version): the cache, or a snapshot, which is offered when snapshots are
// on, the stream has grown Every events past its last snapshot, and no
// offer of the stream is still waiting to be written.
func (r *Repository[S]) settle(id uuid.UUID, state S, decided []Event, version, snapshotVersion int64) {
	p, on := snapshotting(r.snapshots, r.typ)
	offer := on && version-snapshotVersion >= p.Every && !r.snapshots.offering(id)
	if !offer && r.cache == nil {
		return
	}
	for _, e := range decided {
		state = r.typ.Evolve(state, e)
	}
	if offer {
		r.offerSnapshot(id, state, version, p)
		snapshotVersion = version
	}
	r.cache.put(id, cachedState[S]{state: state, version: version, snapshotVersion: snapshotVersion})
}

func (r *Repository[S]) encode(events []Event, err error) ([]eventstore.EventData, error) {
	if err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, errors.New("command decided no events")
	}
	out := make([]eventstore.EventData, len(events))
	for i, e := range events {
		name, version, data, err := r.typ.Events.Encode(e)
		if err != nil {
			return nil, err
		}
		out[i] = eventstore.EventData{Type: name, SchemaVersion: version, Data: data}
		if p, ok := e.(Personal); ok {
			subject, fields := p.PersonalData()
			out[i].Personal = &eventstore.Personal{Subject: subject, Fields: fields}
		}
	}
	return out, nil
}
