// Package eventstore is Chronicle's append-only event log in PostgreSQL.
//
// Streams are appended to with an expected version (optimistic concurrency):
// the stream's row in the streams table is updated conditionally in the same
// statement that inserts the events, so of N concurrent appenders expecting
// version v exactly one wins and the others get *WrongExpectedVersionError,
// with nothing appended. Committed appends are announced on NotifyChannel
// right after their commit, coalesced (see Store.announce), so projections of
// other processes wake up without polling; the appending process learns of
// them in-process (WithAppendObserver).
//
// Projections read the log in (transaction_id, position) order below the
// transaction-id horizon (ReadCommitted), which never skips an event that
// commits late; see docs/architecture.md.
package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/chronicle-es/chronicle/internal/pgnotify"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// NotifyChannel is the LISTEN/NOTIFY channel committed appends are
// announced on, after their commit, with the highest last position of the
// appends announced together as payload (at most one notification per
// MinNotifyInterval per Store). A notification can be lost (see Store.announce):
// listeners also poll.
const NotifyChannel = "chronicle_events"

// Querier is what both a pool and a transaction offer.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Store appends to and reads from the event log.
type Store struct {
	pool     *pgxpool.Pool
	appended AppendObserver
	notify   *pgnotify.Coalescer
	// notifyPool is where notify sends (WithNotifyPool), pool by default.
	notifyPool *pgxpool.Pool
	sealer     Sealer
	// groups is the group commit of plain appends (nil: off); groupLimit
	// is its statements in flight (WithAppendGroups).
	groups     *appendGroups
	groupLimit int
}

// Sealer encrypts the personal fields of events before they are stored
// (*datasubject.Keys). Seal runs in the append's transaction, after the
// stream's lock, and replaces the Data of each event with Personal set;
// its error aborts the append.
type Sealer interface {
	Seal(ctx context.Context, tx Querier, organization string, streamID uuid.UUID, streamType string, events []EventData) error
}

// WithSealer makes the Store seal personal fields with sealer. Without one
// they are stored as they are (tools and tests that do not erase).
func WithSealer(sealer Sealer) Option {
	return func(s *Store) { s.sealer = sealer }
}

// personal reports whether the Store must seal some of events.
func (s *Store) personal(events []EventData) bool {
	if s.sealer == nil {
		return false
	}
	for _, e := range events {
		if e.Personal != nil {
			return true
		}
	}
	return false
}

// seal seals req's personal fields in tx, when there are any.
func (s *Store) seal(ctx context.Context, tx Querier, req AppendRequest) error {
	if !s.personal(req.Events) {
		return nil
	}
	if err := s.sealer.Seal(ctx, tx, req.Metadata.Tenant, req.StreamID, req.StreamType, req.Events); err != nil {
		return fmt.Errorf("seal personal data: %w", err)
	}
	return nil
}

// AppendObserver is told of every append that committed: the stream's type
// and how many events it added (at least 1). It is not called for a failed
// append, for a duplicate of an idempotency key, or for an AppendLocked
// whose decision appended nothing. It runs on the appending goroutine right
// after the commit, so it must be quick and must not block (metrics count
// with it, and the server wakes its projection engine with it: appends no
// longer notify inside their transaction, and NotifyChannel's coalesced
// notification comes later).
type AppendObserver func(streamType string, events int)

// Option configures a Store.
type Option func(*Store)

// WithAppendObserver makes the Store call observe after each committed append.
func WithAppendObserver(observe AppendObserver) Option {
	return func(s *Store) { s.appended = observe }
}

// WithNotifyPool makes the Store send its NotifyChannel notifications on
// pool instead of its own. The server passes the projections' pool: under
// load the request pool has requests queueing for it, and a notification
// queued behind them reaches other instances' projections (and their
// read-your-writes waits) that much later (measured at 1,000 credits/s:
// 110 to 190 ms).
func WithNotifyPool(pool *pgxpool.Pool) Option {
	return func(s *Store) { s.notifyPool = pool }
}

// WithAppendGroups sets how many append statements the Store sends at once
// before it groups the appends that arrive meanwhile into one statement
// (group commit, see appendGroups; DefaultAppendGroups without this
// option); 0 sends every append by itself.
func WithAppendGroups(limit int) Option {
	return func(s *Store) { s.groupLimit = max(limit, 0) }
}

// New returns a Store on pool. The schema comes from the migrations package.
func New(pool *pgxpool.Pool, opts ...Option) *Store {
	s := &Store{pool: pool, notifyPool: pool, groupLimit: DefaultAppendGroups}
	for _, o := range opts {
		o(s)
	}
	if s.groupLimit > 0 {
		s.groups = &appendGroups{store: s, pool: pool, limit: s.groupLimit}
	}
	s.notify = pgnotify.New(s.notifyPool, NotifyChannel, MinNotifyInterval)
	return s
}

// observe passes a committed append on to the AppendObserver, and returns
// res and err as they are.
func (s *Store) observe(streamType string, res AppendResult, err error) (AppendResult, error) {
	// LastPosition is 0 when AppendLocked's decision appended nothing.
	if err != nil || res.Duplicate || res.LastPosition <= 0 {
		return res, err
	}
	if s.appended != nil {
		s.appended(streamType, int(res.ToVersion-res.FromVersion+1))
	}
	s.announce(res.LastPosition)
	return res, err
}

// Append appends req.Events to req.StreamID atomically: all of them or none.
// Under load it may commit in one transaction with other callers' appends
// (group commit, see WithAppendGroups), each of which still succeeds or
// fails by itself.
//
// Errors: *WrongExpectedVersionError (errors.Is ErrWrongExpectedVersion) when
// the stream is not at req.ExpectedVersion; ErrIdempotencyKeyReused when the
// key was used for another stream or command. With an idempotency key that
// was already handled, Append appends nothing and returns the original
// result with Duplicate set. Events with Personal set are sealed first (see
// WithSealer): their Data in req.Events is replaced by what was stored.
func (s *Store) Append(ctx context.Context, req AppendRequest) (AppendResult, error) {
	if err := validate(req); err != nil {
		return AppendResult{}, err
	}
	if req.IdempotencyKey == "" && !s.personal(req.Events) {
		// One statement in autocommit is atomic: one round trip per append,
		// or per group of appends under load.
		if s.groups != nil {
			return s.groups.append(ctx, req)
		}
		res, err := appendEvents(ctx, s.pool, req)
		return s.observe(req.StreamType, res, err)
	}
	res, err := s.inTx(ctx, req, func(tx pgx.Tx) (AppendResult, error) {
		if err := s.seal(ctx, tx, req); err != nil {
			return AppendResult{}, err
		}
		return appendEvents(ctx, tx, req)
	})
	return s.observe(req.StreamType, res, err)
}

// PrepareFunc runs in an append's transaction, under the stream's lock,
// and returns the events to append; with none, nothing is appended and the
// transaction commits what prepare wrote.
type PrepareFunc func(ctx context.Context, tx pgx.Tx) ([]EventData, error)

// AppendPrepared appends the events prepare returns to req.StreamID (at
// req.ExpectedVersion; req.Events is ignored) in the transaction prepare
// wrote in, so that its writes and the events commit together or not at
// all: an erasure deletes a key and records its event so. Errors: those of
// Append, and prepare's returned as is.
func (s *Store) AppendPrepared(ctx context.Context, req AppendRequest, prepare PrepareFunc) (AppendResult, error) {
	req.Events = nil
	res, err := s.inTx(ctx, req, func(tx pgx.Tx) (AppendResult, error) {
		events, err := prepare(ctx, tx)
		if err != nil || len(events) == 0 {
			return AppendResult{StreamID: req.StreamID}, err
		}
		req.Events = events
		if err := validate(req); err != nil {
			return AppendResult{}, err
		}
		if err := s.seal(ctx, tx, req); err != nil {
			return AppendResult{}, err
		}
		return appendEvents(ctx, tx, req)
	})
	return s.observe(req.StreamType, res, err)
}

// DecideFunc receives the stream's events, read under the stream's lock, and
// returns the events to append (nil or empty to append nothing).
type DecideFunc func(stream []RecordedEvent) ([]EventData, error)

// AppendLocked takes the stream's lock, reads the stream, asks decide for
// the events, and appends them in the same transaction, so no other appender
// can come in between: it cannot fail with a wrong expected version. It is
// the retry path for commands without an explicit expected version, which
// would otherwise starve on a hot stream. req.Events and req.ExpectedVersion
// are ignored.
//
// Events with Personal set are sealed as by Append, in the slice decide
// returned.
//
// Errors: those of Append, and decide's error returned as is.
func (s *Store) AppendLocked(ctx context.Context, req AppendRequest, decide DecideFunc) (AppendResult, error) {
	req.Events = nil
	res, err := s.inTx(ctx, req, func(tx pgx.Tx) (AppendResult, error) {
		var version int64
		// inTx holds the stream lock: the version cannot move under us.
		err := tx.QueryRow(ctx, `SELECT version FROM streams WHERE stream_id = $1`, req.StreamID).Scan(&version)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return AppendResult{}, fmt.Errorf("read version of stream %s: %w", req.StreamID, err)
		}
		recorded, err := readStream(ctx, tx, req.StreamID, 0, 0)
		if err != nil {
			return AppendResult{}, err
		}
		events, err := decide(recorded)
		if err != nil {
			return AppendResult{}, err
		}
		if len(events) == 0 {
			return AppendResult{StreamID: req.StreamID, FromVersion: version, ToVersion: version}, nil
		}
		req.Events, req.ExpectedVersion = events, version
		if err := validate(req); err != nil {
			return AppendResult{}, err
		}
		if err := s.seal(ctx, tx, req); err != nil {
			return AppendResult{}, err
		}
		return appendEvents(ctx, tx, req)
	})
	return s.observe(req.StreamType, res, err)
}

// inTx runs fn in a transaction that first claims req's idempotency key (when
// it has one) and afterwards records fn's result under it.
func (s *Store) inTx(ctx context.Context, req AppendRequest, fn func(pgx.Tx) (AppendResult, error)) (AppendResult, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return AppendResult{}, fmt.Errorf("begin append: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit

	// The stream lock comes first, before any write (see lockStream).
	if _, err := tx.Exec(ctx, lockStream, req.StreamID); err != nil {
		return AppendResult{}, fmt.Errorf("lock stream %s: %w", req.StreamID, err)
	}
	if req.IdempotencyKey != "" {
		// Inserting first makes a concurrent duplicate wait on this row and
		// then find the original result below.
		tag, err := tx.Exec(ctx,
			`INSERT INTO idempotency_keys (key, stream_id, command) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`,
			req.IdempotencyKey, req.StreamID, req.Command)
		if err != nil {
			return AppendResult{}, fmt.Errorf("claim idempotency key: %w", err)
		}
		if tag.RowsAffected() == 0 {
			// A creating command may have made up a fresh stream id for
			// its retry; the key, not the id, identifies it then.
			streamID := req.StreamID
			if req.ExpectedVersion == NoStream {
				streamID = uuid.Nil
			}
			res, found, err := lookupKey(ctx, tx, req.IdempotencyKey, streamID, req.Command)
			if err != nil {
				return AppendResult{}, err
			}
			if !found {
				return AppendResult{}, fmt.Errorf("idempotency key %q vanished", req.IdempotencyKey)
			}
			return res, nil
		}
	}
	res, err := fn(tx)
	if err != nil {
		return AppendResult{}, err
	}
	if req.IdempotencyKey != "" {
		_, err := tx.Exec(ctx, `
			UPDATE idempotency_keys
			SET from_version = $2, to_version = $3, first_position = $4, last_position = $5, transaction_id = $6::text::xid8
			WHERE key = $1`,
			req.IdempotencyKey, res.FromVersion, res.ToVersion, res.FirstPosition, res.LastPosition, strconv.FormatUint(res.TransactionID, 10))
		if err != nil {
			return AppendResult{}, fmt.Errorf("record idempotency key: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return AppendResult{}, fmt.Errorf("commit append: %w", err)
	}
	return res, nil
}

// LookupIdempotencyKey returns the result recorded under key, if any.
// streamID uuid.Nil matches any stream (for a command that creates its
// stream under a fresh id). Errors: ErrIdempotencyKeyReused when the key
// belongs to another stream or command.
func (s *Store) LookupIdempotencyKey(ctx context.Context, key string, streamID uuid.UUID, command string) (AppendResult, bool, error) {
	return lookupKey(ctx, s.pool, key, streamID, command)
}

func lookupKey(ctx context.Context, q Querier, key string, streamID uuid.UUID, command string) (AppendResult, bool, error) {
	var (
		res           AppendResult
		storedCommand string
		txid          *string
		from, to      *int64
		first, last   *int64
	)
	err := q.QueryRow(ctx, `
		SELECT stream_id, command, from_version, to_version, first_position, last_position, transaction_id::text
		FROM idempotency_keys WHERE key = $1`, key).
		Scan(&res.StreamID, &storedCommand, &from, &to, &first, &last, &txid)
	if errors.Is(err, pgx.ErrNoRows) {
		return AppendResult{}, false, nil
	}
	if err != nil {
		return AppendResult{}, false, fmt.Errorf("look up idempotency key: %w", err)
	}
	if (streamID != uuid.Nil && res.StreamID != streamID) || storedCommand != command {
		return AppendResult{}, false, fmt.Errorf("key %q was used for %s on stream %s: %w", key, storedCommand, res.StreamID, ErrIdempotencyKeyReused)
	}
	if txid == nil {
		// Only possible for a row committed without its result, which inTx
		// never does.
		return AppendResult{}, false, fmt.Errorf("idempotency key %q has no result", key)
	}
	res.FromVersion, res.ToVersion, res.FirstPosition, res.LastPosition = *from, *to, *first, *last
	if res.TransactionID, err = strconv.ParseUint(*txid, 10, 64); err != nil {
		return AppendResult{}, false, fmt.Errorf("parse transaction id %q: %w", *txid, err)
	}
	res.Duplicate = true
	return res, true, nil
}

// lockStream takes the stream's transaction-level advisory lock ($1 is the
// stream id). Every append takes it before its transaction writes anything,
// that is before the transaction is given its id: appenders of one stream
// then get their transaction ids in the order in which they append, so
// reading in (transaction_id, position) order, as projections do, sees each
// stream in version order. (A row lock alone does not do that: a waiter for
// the streams row already has its transaction id and may append after a
// transaction with a higher one.)
const lockStream = `SELECT pg_advisory_xact_lock(hashtextextended('chronicle stream ' || $1::uuid::text, 0))`

// The stream-lock step of an append (CTE lk, $1 the stream id): one row,
// free once the lock is held. tryLockStream takes it only when no other
// transaction holds it, and is not free otherwise: the group commit's
// statement slots never wait for a stream (see appendGroups).
const (
	waitLockStream = `SELECT true AS free FROM (` + lockStream + `) l`
	tryLockStream  = `SELECT pg_try_advisory_xact_lock(hashtextextended('chronicle stream ' || $1::uuid::text, 0)) AS free`
)

// The stream-row step of an append, by kind of expected version, after the
// stream lock (CTE lk). Each returns the stream's new version, or no row when
// the expectation does not hold or the lock is not free.
const (
	upsertStreamAny = `INSERT INTO streams (stream_id, stream_type, version) SELECT $1::uuid, $2::text, $3::bigint FROM lk WHERE lk.free
		ON CONFLICT (stream_id) DO UPDATE SET version = streams.version + EXCLUDED.version, updated_at = now()
		RETURNING version`
	insertStreamNew = `INSERT INTO streams (stream_id, stream_type, version) SELECT $1::uuid, $2::text, $3::bigint FROM lk WHERE lk.free
		ON CONFLICT (stream_id) DO NOTHING
		RETURNING version`
	updateStreamExact = `UPDATE streams SET version = version + $3, updated_at = now()
		FROM lk WHERE lk.free AND stream_id = $1 AND version = $9
		RETURNING version`
)

// appendTail inserts the events after the stream step s. It does not
// NOTIFY: see Store.announce for why.
// Parameters: $1 stream id, $2 stream type, $3 event count, $4 event ids,
// $5 types, $6 schema versions, $7 payloads, $8 metadata.
const appendTail = `,
ins AS (
	INSERT INTO events (event_id, stream_id, stream_type, version, type, schema_version, data, metadata)
	SELECT e.event_id, $1, $2, s.version - $3 + e.ord, e.type, e.schema_version, e.data, $8
	FROM s, unnest($4::uuid[], $5::text[], $6::int[], $7::jsonb[])
		WITH ORDINALITY AS e(event_id, type, schema_version, data, ord)
	ORDER BY e.ord
	RETURNING position, transaction_id
),
agg AS (SELECT min(position) AS first, max(position) AS last, min(transaction_id::text) AS txid FROM ins)
SELECT lk.free, s.version, agg.first, agg.last, agg.txid
FROM lk LEFT JOIN s ON true CROSS JOIN agg`

// appendEvents runs the append as one statement: the stream-row step and the
// event insert succeed or fail together, in whatever transaction q is in.
func appendEvents(ctx context.Context, q Querier, req AppendRequest) (AppendResult, error) {
	res, _, err := appendStream(ctx, q, req, true)
	return res, err
}

// appendStream is appendEvents; with wait false it takes the stream's lock
// only if it is free, and reports whether it was (when not, nothing is
// appended and err is nil).
func appendStream(ctx context.Context, q Querier, req AppendRequest, wait bool) (res AppendResult, locked bool, err error) {
	n := int64(len(req.Events))
	var events eventArrays
	for _, e := range req.Events {
		if err := events.add(e); err != nil {
			return AppendResult{}, false, err
		}
	}
	metadata, err := encodeMetadata(req.Metadata)
	if err != nil {
		return AppendResult{}, false, err
	}

	args := []any{req.StreamID, req.StreamType, n, events.ids, events.types, events.schemas, events.payloads, metadata}
	var stream string
	switch req.ExpectedVersion {
	case Any:
		stream = upsertStreamAny
	case NoStream:
		stream = insertStreamNew
	default:
		stream = updateStreamExact
		args = append(args, req.ExpectedVersion)
	}
	lock := waitLockStream
	if !wait {
		lock = tryLockStream
	}

	var (
		version, first, last *int64
		txid                 *string
	)
	err = q.QueryRow(ctx, "WITH lk AS MATERIALIZED ("+lock+"), s AS ("+stream+")"+appendTail, args...).
		Scan(&locked, &version, &first, &last, &txid)
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == uniqueViolation && pgErr.ConstraintName == eventVersionKey {
		// An event is stored at a version the streams row did not count
		// (written around the store): the log is the truth, and the stream
		// has moved past the expected version.
		return AppendResult{}, true, &WrongExpectedVersionError{StreamID: req.StreamID, Expected: req.ExpectedVersion, Actual: logVersion(ctx, q, req)}
	}
	if err != nil {
		return AppendResult{}, false, fmt.Errorf("append to stream %s: %w", req.StreamID, err)
	}
	if !locked {
		return AppendResult{}, false, nil
	}
	if version == nil {
		actual, verr := streamVersion(ctx, q, req.StreamID)
		if verr != nil {
			return AppendResult{}, true, verr
		}
		return AppendResult{}, true, &WrongExpectedVersionError{StreamID: req.StreamID, Expected: req.ExpectedVersion, Actual: actual}
	}
	res = AppendResult{StreamID: req.StreamID, ToVersion: *version, FromVersion: *version - n + 1, FirstPosition: *first, LastPosition: *last}
	if res.TransactionID, err = strconv.ParseUint(*txid, 10, 64); err != nil {
		return AppendResult{}, true, fmt.Errorf("parse transaction id %q: %w", *txid, err)
	}
	return res, true, nil
}

// eventArrays are the per-event parameter arrays of an append: a fresh
// event id (UUIDv7: time-ordered), type, schema version and payload of
// each event.
type eventArrays struct {
	ids      []uuid.UUID
	types    []string
	schemas  []int32
	payloads []string
}

// add adds e, with a fresh event id.
func (a *eventArrays) add(e EventData) error {
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("event id: %w", err)
	}
	a.ids = append(a.ids, id)
	a.types = append(a.types, e.Type)
	a.schemas = append(a.schemas, int32(max(e.SchemaVersion, 1)))
	a.payloads = append(a.payloads, string(e.Data))
	return nil
}

// encodeMetadata is md as the JSON text of the metadata column.
func encodeMetadata(md Metadata) (string, error) {
	b, err := json.Marshal(md)
	if err != nil {
		return "", fmt.Errorf("encode metadata: %w", err)
	}
	return string(b), nil
}

const (
	// uniqueViolation is PostgreSQL's SQLSTATE for a unique key violation.
	uniqueViolation = "23505"
	// eventVersionKey is the unique key on events (stream_id, version).
	eventVersionKey = "events_stream_id_version_key"
)

// logVersion is the highest version stored in the events of req's stream,
// for a conflict found by eventVersionKey; inside a transaction that the
// violation aborted it cannot be read, and it is at least one past the
// expected version.
func logVersion(ctx context.Context, q Querier, req AppendRequest) int64 {
	var v int64
	if err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1`, req.StreamID).Scan(&v); err != nil {
		return max(req.ExpectedVersion, 0) + 1
	}
	return v
}

func validate(req AppendRequest) error {
	switch {
	case req.StreamID == uuid.Nil:
		return errors.New("append: empty stream id")
	case req.StreamType == "":
		return errors.New("append: empty stream type")
	case len(req.Events) == 0:
		return errors.New("append: no events")
	case req.ExpectedVersion < Any:
		return fmt.Errorf("append: invalid expected version %d", req.ExpectedVersion)
	}
	for _, e := range req.Events {
		if e.Type == "" || !json.Valid(e.Data) {
			return fmt.Errorf("append: event %q has no type or invalid JSON data", e.Type)
		}
	}
	return nil
}

// StreamVersion returns the stream's current version, 0 when it does not exist.
func (s *Store) StreamVersion(ctx context.Context, streamID uuid.UUID) (int64, error) {
	return streamVersion(ctx, s.pool, streamID)
}

func streamVersion(ctx context.Context, q Querier, streamID uuid.UUID) (int64, error) {
	var v int64
	err := q.QueryRow(ctx, `SELECT version FROM streams WHERE stream_id = $1`, streamID).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read version of stream %s: %w", streamID, err)
	}
	return v, nil
}
