package eventstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultAppendGroups is how many append statements a Store has in flight
// at once before it groups the appends that arrive meanwhile
// (WithAppendGroups).
const DefaultAppendGroups = 2

// maxGroupAppends bounds the appends one grouped statement carries; the
// rest wait for the next one.
const maxGroupAppends = 64

// appendGroups is a Store's group commit: concurrent appends that arrive
// while the Store already has its limit of append statements in flight
// queue up, and the next statement to go out carries all of them (one per
// stream, at most maxGroupAppends) in one transaction.
//
// Why: each append alone costs PostgreSQL a statement, a transaction and a
// commit's WAL flush, and the server a round trip; under load most of an
// append's cost is that overhead, not its rows (issue 14: the store alone
// reached 0.8 of pgbench's INSERT transaction, and the credit path half of
// that). Group commit is what a database does with its own log; here it is
// done one level up, so the rows of several appends share one statement.
//
// What does not change:
//   - At low load nothing waits: an append that finds fewer than limit
//     statements in flight and nobody queued goes out at once, in a group
//     of one.
//   - Each append still succeeds or fails by itself. The grouped statement
//     takes each stream's lock without waiting (pg_try_advisory_xact_lock)
//     and checks each expected version by itself: an append whose stream is
//     locked by another transaction leaves the group and is appended alone,
//     waiting for the lock as before, so one busy stream never holds up the
//     others; one whose stream moved fails with *WrongExpectedVersionError
//     and the others commit. When the grouped statement itself fails with a
//     database error, nothing of it committed and every append of it is
//     appended alone, so each gets its own outcome.
//   - The order within a stream: a group holds at most one append per
//     stream, and a transaction that takes a stream's lock without waiting
//     never waits holding its transaction id, so appenders of one stream
//     still get their transaction ids in the order in which they append
//     (see lockStream).
//
// An append that has been sent in a group waits for the group's outcome
// even when its context ends (the group's statement has the latest of its
// members' deadlines); a queued one whose context ends leaves the queue and
// returns its context's error, with nothing appended.
type appendGroups struct {
	store *Store
	pool  *pgxpool.Pool
	// limit is how many append statements may be in flight at once.
	limit int

	mu       sync.Mutex
	inFlight int
	queue    []*groupedAppend
}

// groupedAppend is one append waiting in, or sent in, a group.
type groupedAppend struct {
	ctx context.Context
	req AppendRequest
	// taken is set (under appendGroups.mu) when a group takes it.
	taken bool
	// done is closed once outcome (and res or err) is set.
	done    chan struct{}
	outcome groupOutcome
	res     AppendResult
	err     error
}

// groupOutcome is what became of an append sent in a group.
type groupOutcome int

const (
	// grouped: appended with the group; res holds its result.
	grouped groupOutcome = iota
	// stale: its stream was not at its expected version; nothing appended.
	stale
	// alone: not appended; append it by itself (its stream was locked, or
	// the group's statement failed and committed nothing).
	alone
	// failed: err says why: a group of one's wrong expected version, or a
	// failure that leaves the outcome unknown (the connection lost, say).
	failed
)

// append appends req (no idempotency key, nothing to seal) and tells the
// Store's observer of it once it has committed.
func (g *appendGroups) append(ctx context.Context, req AppendRequest) (AppendResult, error) {
	a := &groupedAppend{ctx: ctx, req: req, done: make(chan struct{})}
	g.mu.Lock()
	if g.inFlight < g.limit && len(g.queue) == 0 {
		// A free slot: a group of one, sent from this goroutine.
		g.inFlight++
		a.taken = true
		g.mu.Unlock()
		g.commit([]*groupedAppend{a})
		g.release()
		return g.outcome(a)
	}
	g.queue = append(g.queue, a)
	g.mu.Unlock()

	select {
	case <-a.done:
	case <-ctx.Done():
		g.mu.Lock()
		taken := a.taken
		if !taken {
			g.queue = slices.DeleteFunc(g.queue, func(q *groupedAppend) bool { return q == a })
		}
		g.mu.Unlock()
		if !taken {
			return AppendResult{}, fmt.Errorf("append to stream %s: %w", req.StreamID, ctx.Err())
		}
		<-a.done
	}
	return g.outcome(a)
}

// outcome returns what became of a, once its group is done: appending it
// alone, outside the statement slots, when its group could not.
func (g *appendGroups) outcome(a *groupedAppend) (AppendResult, error) {
	switch a.outcome {
	case grouped:
		return a.res, nil // observed by the group
	case stale:
		actual, err := streamVersion(context.WithoutCancel(a.ctx), g.pool, a.req.StreamID)
		if err != nil {
			return AppendResult{}, err
		}
		return AppendResult{}, &WrongExpectedVersionError{StreamID: a.req.StreamID, Expected: a.req.ExpectedVersion, Actual: actual}
	case alone:
		// Waits for the stream's lock, holding no slot.
		res, err := appendEvents(a.ctx, g.pool, a.req)
		return g.store.observe(a.req.StreamType, res, err)
	default:
		return AppendResult{}, a.err
	}
}

// release gives up a statement slot: to the appends queued meanwhile, when
// there are any.
func (g *appendGroups) release() {
	if group := g.next(); group != nil {
		go g.run(group)
	}
}

// run commits group, then the groups queued meanwhile, in the slot it was
// given.
func (g *appendGroups) run(group []*groupedAppend) {
	for group != nil {
		g.commit(group)
		group = g.next()
	}
}

// next takes the next group for a slot that has just finished one, or,
// with nobody queued, gives the slot up and returns nil.
func (g *appendGroups) next() []*groupedAppend {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 {
		g.inFlight--
		return nil
	}
	return g.takeLocked()
}

// takeLocked takes the next group from the queue: the oldest appends, one
// per stream (a later append to a stream already in the group stays
// queued for the next), at most maxGroupAppends. g.mu is held.
func (g *appendGroups) takeLocked() []*groupedAppend {
	var group []*groupedAppend
	rest := g.queue[:0]
	for _, a := range g.queue {
		if len(group) == maxGroupAppends || slices.ContainsFunc(group, func(b *groupedAppend) bool { return b.req.StreamID == a.req.StreamID }) {
			rest = append(rest, a)
			continue
		}
		a.taken = true
		group = append(group, a)
	}
	clear(g.queue[len(rest):])
	g.queue = rest
	return group
}

// commit sends group's appends in one statement and sets each one's
// outcome; the Store's observer is told of those that committed. The
// statement never waits for a stream's lock, so a slot is never held up by
// another transaction's append (a group of one included: it is appended
// alone, outside the slot, when its stream is locked).
func (g *appendGroups) commit(group []*groupedAppend) {
	defer func() {
		for _, a := range group {
			close(a.done)
		}
	}()
	if len(group) == 1 {
		// The single statement, cheaper for one than the group's.
		a := group[0]
		ctx, cancel := groupContext(group)
		defer cancel()
		res, locked, err := appendStream(ctx, g.pool, a.req, false)
		switch {
		case err != nil:
			a.outcome, a.err = failed, err
		case !locked:
			a.outcome = alone
		default:
			a.outcome, a.res = grouped, res
			_, _ = g.store.observe(a.req.StreamType, res, nil)
		}
		return
	}
	results, err := g.send(group)
	if err != nil {
		outcome := failed
		if _, ok := errors.AsType[*pgconn.PgError](err); ok {
			// One statement in autocommit: it committed nothing.
			outcome = alone
		}
		for _, a := range group {
			a.outcome, a.err = outcome, err
		}
		return
	}
	for i, a := range group {
		r := results[i]
		switch {
		case !r.locked:
			a.outcome = alone
		case r.version == nil:
			a.outcome = stale
		default:
			a.outcome = grouped
			a.res = r.result(a.req)
			_, _ = g.store.observe(a.req.StreamType, a.res, nil)
		}
	}
}

// groupContext is the context a group's statement runs in: its first
// append's, without its cancellation (the statement commits others' appends
// too), bounded by the latest deadline among the appends (none when one of
// them has none).
func groupContext(group []*groupedAppend) (context.Context, context.CancelFunc) {
	ctx := context.WithoutCancel(group[0].ctx)
	var latest time.Time
	for _, a := range group {
		d, ok := a.ctx.Deadline()
		if !ok {
			return ctx, func() {}
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(ctx, latest)
}

// groupResult is one append's row of the grouped statement.
type groupResult struct {
	// locked is false when the stream's lock was held by another
	// transaction: nothing was appended to it.
	locked bool
	// version is the stream's new version, nil when it was not at the
	// expected version (or not locked).
	version     *int64
	first, last *int64
	txid        *string
}

// result is the AppendResult of req appended with version, positions and
// transaction id r.
func (r groupResult) result(req AppendRequest) AppendResult {
	res := AppendResult{StreamID: req.StreamID, ToVersion: *r.version, FirstPosition: *r.first, LastPosition: *r.last}
	res.FromVersion = res.ToVersion - int64(len(req.Events)) + 1
	// The statement's text transaction id parses: it is PostgreSQL's.
	res.TransactionID, _ = strconv.ParseUint(*r.txid, 10, 64)
	return res
}

// appendGroupSQL appends a group in one statement. Per append (the arrays
// $1..$5, in group order): stream id, stream type, event count, expected
// version (Any, NoStream or exact), metadata. Per event (the arrays
// $6..$11, the events of each append in order, appends in group order):
// its append's 1-based index in the group, event id, type, schema version,
// payload, and its 1-based index within its append.
//
// Each stream's lock is taken without waiting (lk), and only the appends
// whose lock was free go on (locked); the stream step of each kind of
// expected version is the one appendEvents uses. One row per append, in
// group order: whether its lock was free, the stream's new version (NULL
// when the expectation did not hold), its first and last positions and the
// transaction id.
const appendGroupSQL = `WITH a AS (
	SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::bigint[], $5::jsonb[])
		WITH ORDINALITY AS a(stream_id, stream_type, n, expected, metadata, ord)
),
lk AS MATERIALIZED (
	SELECT a.ord, pg_try_advisory_xact_lock(hashtextextended('chronicle stream ' || a.stream_id::text, 0)) AS free FROM a
),
locked AS (SELECT a.* FROM a JOIN lk USING (ord) WHERE lk.free),
s_new AS (
	INSERT INTO streams (stream_id, stream_type, version)
	SELECT stream_id, stream_type, n FROM locked WHERE expected = 0
	ON CONFLICT (stream_id) DO NOTHING
	RETURNING stream_id, version
),
s_any AS (
	INSERT INTO streams (stream_id, stream_type, version)
	SELECT stream_id, stream_type, n FROM locked WHERE expected = -1
	ON CONFLICT (stream_id) DO UPDATE SET version = streams.version + EXCLUDED.version, updated_at = now()
	RETURNING stream_id, version
),
s_exact AS (
	UPDATE streams SET version = streams.version + locked.n, updated_at = now()
	FROM locked WHERE locked.expected > 0 AND streams.stream_id = locked.stream_id AND streams.version = locked.expected
	RETURNING streams.stream_id, streams.version
),
s AS (SELECT * FROM s_new UNION ALL SELECT * FROM s_any UNION ALL SELECT * FROM s_exact),
ins AS (
	INSERT INTO events (event_id, stream_id, stream_type, version, type, schema_version, data, metadata)
	SELECT e.event_id, locked.stream_id, locked.stream_type, s.version - locked.n + e.idx, e.type, e.schema_version, e.data, locked.metadata
	FROM unnest($6::int[], $7::uuid[], $8::text[], $9::int[], $10::jsonb[], $11::int[])
		WITH ORDINALITY AS e(append_ord, event_id, type, schema_version, data, idx, ord)
	JOIN locked ON locked.ord = e.append_ord
	JOIN s ON s.stream_id = locked.stream_id
	ORDER BY e.ord
	RETURNING stream_id, position, transaction_id
),
agg AS (
	SELECT stream_id, min(position) AS first, max(position) AS last, min(transaction_id::text) AS txid
	FROM ins GROUP BY stream_id
)
SELECT lk.free, s.version, agg.first, agg.last, agg.txid
FROM a JOIN lk USING (ord) LEFT JOIN s USING (stream_id) LEFT JOIN agg USING (stream_id)
ORDER BY a.ord`

// send runs appendGroupSQL for group and returns one result per append, in
// group order.
func (g *appendGroups) send(group []*groupedAppend) ([]groupResult, error) {
	var (
		streamIDs = make([]uuid.UUID, len(group))
		types     = make([]string, len(group))
		counts    = make([]int64, len(group))
		expected  = make([]int64, len(group))
		metadata  = make([]string, len(group))
		batch     eventArrays
		// Per event: its append's index in the group, its index in its
		// append (both 1-based).
		appendOrds, indexes []int32
	)
	for i, a := range group {
		md, err := encodeMetadata(a.req.Metadata)
		if err != nil {
			return nil, err
		}
		streamIDs[i], types[i], counts[i], expected[i], metadata[i] = a.req.StreamID, a.req.StreamType, int64(len(a.req.Events)), a.req.ExpectedVersion, md
		for j, e := range a.req.Events {
			if err := batch.add(e); err != nil {
				return nil, err
			}
			appendOrds, indexes = append(appendOrds, int32(i+1)), append(indexes, int32(j+1))
		}
	}
	ctx, cancel := groupContext(group)
	defer cancel()
	rows, err := g.pool.Query(ctx, appendGroupSQL, streamIDs, types, counts, expected, metadata,
		appendOrds, batch.ids, batch.types, batch.schemas, batch.payloads, indexes)
	if err != nil {
		return nil, fmt.Errorf("append a group of %d: %w", len(group), err)
	}
	defer rows.Close()
	results := make([]groupResult, 0, len(group))
	for rows.Next() {
		var r groupResult
		if err := rows.Scan(&r.locked, &r.version, &r.first, &r.last, &r.txid); err != nil {
			return nil, fmt.Errorf("append a group of %d: %w", len(group), err)
		}
		results = append(results, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("append a group of %d: %w", len(group), err)
	}
	if len(results) != len(group) {
		return nil, fmt.Errorf("append a group of %d: %d results", len(group), len(results))
	}
	return results, nil
}
