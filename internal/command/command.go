// Package command is the application layer every bounded context shares:
// one generic Handler runs a context's commands (parse the id, turn the
// caller into event metadata, idempotency, the repository's handle with
// retry, the bounded read-your-writes wait, reading the view, an optional
// hook), and a Pipeline of decorators wraps every command, whether it comes
// from a GraphQL mutation or from a process manager, for the cross-cutting
// concerns (metrics, logging, later tracing).
//
// A context writes only its domain: command types that implement
// Command[S] (a name, the stream they act on, a pure Decide), and a Spec that
// names its aggregate type, its projection and its read.
package command

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/google/uuid"
)

// Command is a command on an aggregate of state S. Implementations are plain
// structs of the domain data the client gave; who sends them (actor,
// organization) is never part of them: Decide gets it from the handler.
type Command[S any] interface {
	// Name is the command's stored name, e.g. "CreditAccount": recorded
	// with its idempotency key, and the label of its metrics.
	Name() string
	// Target is the id of the stream the command acts on, as the client
	// gave it (parsed by the Spec's ParseID). Commands that implement
	// Creator return "": the handler picks the id.
	Target() string
	// Decide maps the current state to new events, or to a typed domain
	// error. It must be pure: it may run more than once (on a retry).
	Decide(state S, env Env) ([]aggregate.Event, error)
}

// Env is what Decide knows besides the state.
type Env struct {
	// StreamID is the stream the command acts on: the parsed Target, or
	// the fresh id of a Creator.
	StreamID uuid.UUID
	// Actor is who sends the command (the token's subject, or a process
	// manager's name), recorded in the events that say who did what.
	Actor string
	// Organization is the caller's tenant: an aggregate of another
	// organization must be refused exactly like one that does not exist.
	Organization string
	// StreamKey is a Keyed command's key, in its canonical form (what
	// StreamID was derived from); "" for other commands.
	StreamKey string
}

// Creator is implemented by commands that create their stream. Clients never
// choose the id of a new entity: the handler gives it a fresh UUIDv7, so ids
// sort by creation and an id can never tell a caller whether it is taken in
// another organization. A retry with the same idempotency key finds the first
// attempt's entity through the key.
type Creator interface {
	// Creates is a marker; it is never called.
	Creates()
}

// Keyed is implemented by commands whose stream is named by a natural key
// within the caller's organization (a product's SKU, the product id a stock
// stream counts) rather than by an id the client gives or the handler
// picks. The handler derives the stream id with KeyedID(context,
// organization, key) and runs the decision like any command on an existing
// stream (not as a Creator): the first writer creates the stream, and a
// racing writer, whose append finds the version moved, is decided again
// under the stream's lock and sees the winner's events (e.g. "SKU taken").
// The event store's stream lock and expected-version check so enforce the
// key's uniqueness atomically, with no second write to keep in step.
//
// A Keyed command's Target is not used; Key's error (BAD_USER_INPUT) refuses
// the command before anything is read.
type Keyed interface {
	// Key returns the natural key in its one canonical form (two spellings
	// that mean the same key must give the same string), or a domain error
	// for a malformed one.
	Key() (string, error)
}

// keyedNamespace is the UUIDv5 namespace of KeyedID.
var keyedNamespace = uuid.MustParse("5b1f0c2e-8f0a-4c55-9a7e-3d2c6b9f41a7")

// KeyedID is the stream id of natural key key of organization in bounded
// context context: a UUIDv5 of the three, length-prefixed so that no choice
// of them collides with another. It is deterministic: a reader that knows
// the key finds the stream without an index (e.g. a product's stock).
// Unlike a Creator's UUIDv7 it carries no time order.
func KeyedID(context, organization, key string) uuid.UUID {
	name := strconv.Itoa(len(context)) + ":" + context + "/" + strconv.Itoa(len(organization)) + ":" + organization + "/" + key
	return uuid.NewSHA1(keyedNamespace, []byte(name))
}

// Options are the parts of a command that are not its domain data.
type Options struct {
	// ExpectedVersion, when not nil, is the stream version the caller saw
	// (CONFLICT when the stream is elsewhere); nil runs the command on the
	// latest state, retrying on a concurrent change.
	ExpectedVersion *int64
	// IdempotencyKey, when not empty, makes the command happen at most once
	// per organization; see ValidIdempotencyKey for what is accepted.
	IdempotencyKey string
	// Caller is who sends the command; its Organization must not be empty.
	Caller caller.Caller
	// CausationID is the id of what caused the command: empty for a
	// client's request, the triggering event's id for a process manager.
	CausationID string
	// Source names where the command comes from, for decorators: SourceAPI,
	// or "process:<name>" for a process manager.
	Source string
	// SkipView skips the read-your-writes wait and the read of the view
	// after the append (the Result's View is nil, UpToDate false): for
	// senders that react to events rather than read the entity, such as a
	// process manager, whose waits would only hold up its dispatcher.
	SkipView bool
}

// SourceAPI is the Source of commands sent by GraphQL mutations.
const SourceAPI = "api"

// MaxIdempotencyKeyLength is the longest accepted idempotency key, in bytes.
// Keys are stored in a btree index, whose rows cannot exceed about 2.7 kB; 200
// bytes hold any UUID, hash or composite key a client uses.
const MaxIdempotencyKeyLength = 200

// ErrInvalidInput (BAD_USER_INPUT) reports a malformed idempotency key or
// expected version.
var ErrInvalidInput = apperr.New(apperr.BadUserInput, "invalid input")

// ErrUnauthenticated (UNAUTHENTICATED) reports a command without an
// organization: the edge refuses such requests outside development mode;
// this guards any path that slips through.
var ErrUnauthenticated = apperr.New(apperr.Unauthenticated, "authentication required: no organization in the caller's identity")

// ValidIdempotencyKey checks a client's idempotency key: at most
// MaxIdempotencyKeyLength bytes of valid UTF-8 without control characters
// (NUL included, which PostgreSQL cannot store). Errors wrap ErrInvalidInput.
func ValidIdempotencyKey(key string) error {
	switch {
	case len(key) > MaxIdempotencyKeyLength:
		return fmt.Errorf("%w: idempotencyKey is %d bytes long, at most %d are allowed", ErrInvalidInput, len(key), MaxIdempotencyKeyLength)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: idempotencyKey is not valid UTF-8 text", ErrInvalidInput)
	case strings.ContainsFunc(key, unicode.IsControl):
		return fmt.Errorf("%w: idempotencyKey must not contain control characters", ErrInvalidInput)
	}
	return nil
}

// ParseUUID validates a client-given id: a UUID in the standard
// 36-character hyphenated form (any letter case), not the nil UUID. Any other
// input yields an error wrapping invalid, naming what (e.g. `invalid input:
// malformed account id "x"`).
func ParseUUID(s, what string, invalid error) (uuid.UUID, error) {
	if len(s) == 36 {
		if id, err := uuid.Parse(s); err == nil && id != uuid.Nil {
			return id, nil
		}
	}
	return uuid.Nil, fmt.Errorf("%w: malformed %s id %s", invalid, what, apperr.Quote(s))
}

// Info describes one command to the decorators.
type Info struct {
	// Context is the bounded context, e.g. "account".
	Context string
	// Command is Command.Name, e.g. "CreditAccount".
	Command string
	// StreamID is the stream it acts on (a fresh id for a Creator).
	StreamID uuid.UUID
	Caller   caller.Caller
	// Source is Options.Source (SourceAPI when empty).
	Source string
}

// Outcome is what a command did, as decorators see it.
type Outcome struct {
	// Position is the global position of the command's last event.
	Position int64
	// Checkpoint is the projection read order's point just at that event:
	// a projection that has passed it has applied the command.
	Checkpoint eventstore.Checkpoint
	// Version is the stream's version after the command.
	Version int64
	// Duplicate: an idempotency key already handled; nothing was appended.
	Duplicate bool
	// UpToDate: the projection had passed Position when the view was read.
	UpToDate bool
}

// Run runs one command and reports its outcome.
type Run func(ctx context.Context) (Outcome, error)

// Decorator wraps a command's run: it may act before and after next, and
// must return next's outcome and error unchanged unless it refuses the
// command before it runs (then nothing is appended).
type Decorator func(info Info, next Run) Run

// Pipeline is the chain of decorators every command passes through. The
// zero value and nil run commands undecorated.
type Pipeline struct {
	decorators []Decorator
}

// NewPipeline returns a pipeline; the first decorator is the outermost.
func NewPipeline(decorators ...Decorator) *Pipeline {
	return &Pipeline{decorators: decorators}
}

// Run runs run through the decorators.
func (p *Pipeline) Run(ctx context.Context, info Info, run Run) (Outcome, error) {
	if p != nil {
		for i := len(p.decorators) - 1; i >= 0; i-- {
			run = p.decorators[i](info, run)
		}
	}
	return run(ctx)
}

// Logging returns a decorator that logs every command at debug level, with
// its context, name, stream, source, correlation id, duration and error
// (internal errors are logged at error level by the GraphQL error
// presenter, with the same correlation id).
func Logging(logger *slog.Logger) Decorator {
	return func(info Info, next Run) Run {
		return func(ctx context.Context) (Outcome, error) {
			if !logger.Enabled(ctx, slog.LevelDebug) {
				return next(ctx)
			}
			start := time.Now()
			out, err := next(ctx)
			logger.DebugContext(ctx, "command", "context", info.Context, "command", info.Command, "stream", info.StreamID,
				"source", info.Source, "correlation_id", info.Caller.CorrelationID, "duration", time.Since(start).String(),
				"position", out.Position, "duplicate", out.Duplicate, "err", err)
			return out, err
		}
	}
}

// InStatus checks a lifecycle transition for the commands of a context
// whose entities have a status: the entity exists (exists) in the caller's
// organization, else notFound naming the stream (another organization's
// entity is refused exactly like one of nowhere); and its status is one of
// from, else invalid with "cannot <action> a <status> <entity>".
func InStatus[St ~string](env Env, exists bool, organization string, status St, notFound, invalid error,
	entity, action string, from ...St) error {
	if !exists || organization != env.Organization {
		return fmt.Errorf("%w: %s", notFound, env.StreamID)
	}
	for _, s := range from {
		if status == s {
			return nil
		}
	}
	return fmt.Errorf("%w: cannot %s a %s %s", invalid, action, status, entity)
}
