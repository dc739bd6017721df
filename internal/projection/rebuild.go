package projection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Rebuildable is a Projection that can be rebuilt from position zero: it
// names the read-model tables it writes.
//
// The contract, which a rebuild relies on:
//   - Tables are plain tables of schema public, and Apply (and Bulk) name
//     them unqualified, so that `SET LOCAL search_path = <scratch>, public`
//     redirects every write to the scratch copies. Other tables that Apply
//     reads resolve to public as usual.
//   - No table outside Tables has a foreign key to one of them, no view
//     depends on them, they have no triggers of their own and no column
//     default that takes a sequence's nextval (serial): a rebuild checks
//     and refuses such tables, since it could not carry them over.
//   - Foreign keys between the listed tables, and to other tables, are
//     carried over; so are indexes and constraints (with their names),
//     defaults, identity columns, comments and statistics targets. Privileges
//     are not: the tables belong to the role that ran the rebuild.
type Rebuildable interface {
	Projection
	// Tables returns the names of the read-model tables, unqualified.
	Tables() []string
}

// BulkApplier is optionally implemented by a Rebuildable projection whose
// rebuild should not go through Apply event by event: Rebuild then replays
// the log through a Bulk, which may fold large batches in memory and write
// with COPY.
type BulkApplier interface {
	// NewBulk returns a Bulk for one rebuild.
	NewBulk() Bulk
}

// Bulk replays the log into empty scratch tables during a rebuild. Its
// result, after Flush, must be exactly the read model that Apply would have
// built from the same events.
//
// While a Bulk runs the scratch tables have no indexes, no primary key, no
// unique or foreign-key constraints (they are built afterwards, which is
// several times faster than maintaining them row by row): a Bulk must write
// rows, with COPY or INSERT, and never look rows up in its tables. It keeps
// what it needs in memory; the memory should grow with the number of
// read-model rows, never with the number of events.
type Bulk interface {
	// Apply folds events, the next ones in read order, into the scratch
	// tables within tx (whose search_path points at them). Each call has its
	// own transaction.
	Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) error
	// Flush writes whatever the Bulk still holds, within tx; it is called
	// once, after the last Apply.
	Flush(ctx context.Context, tx pgx.Tx) error
}

// Errors of Rebuild, to test with errors.Is.
var (
	// ErrRebuildInProgress: another rebuild of the same projection is
	// running, in this process or another.
	ErrRebuildInProgress = errors.New("a rebuild of this projection is already running")
	// ErrNotRebuildable: the projection does not implement Rebuildable, or
	// its tables break the Rebuildable contract.
	ErrNotRebuildable = errors.New("projection cannot be rebuilt")
)

// RebuildChannel is the NOTIFY channel on which a rebuild, in the
// transaction that swaps the tables in, announces "name:transaction_id:position"
// (the rebuilt checkpoint). Every Engine listens to it and calls
// Config.OnRebuild.
const RebuildChannel = "chronicle_rebuilds"

// Phases of a rebuild, as reported in RebuildProgress.Phase.
const (
	// PhaseReplay replays the log from position zero into the scratch tables.
	PhaseReplay = "replay"
	// PhaseIndex builds the scratch tables' indexes and constraints and
	// analyzes them.
	PhaseIndex = "index"
	// PhaseCatchUp applies, with Apply, the events appended meanwhile.
	PhaseCatchUp = "catch-up"
	// PhaseSwap locks the live tables, applies the last events and swaps.
	PhaseSwap = "swap"
	// PhaseDone: the rebuilt tables are live.
	PhaseDone = "done"
)

// RebuildOptions tunes Rebuild. Zero values take the defaults in brackets.
type RebuildOptions struct {
	// BatchSize is the most events read, and applied in one transaction, at
	// once [10000]. The rebuild holds at most three batches in memory.
	BatchSize int
	// LockTimeout bounds how long the swap waits for its locks on the live
	// tables [2s]. Queries of those tables queue behind a waiting swap, so
	// it is kept short; on time-out the swap catches up again and retries.
	LockTimeout time.Duration
	// SwapAttempts is how many times the swap is tried [5].
	SwapAttempts int
	// Progress, when set, is called from Rebuild's goroutine after every
	// batch and at every phase change.
	Progress func(RebuildProgress)
	Logger   *slog.Logger
	// Opener opens the sealed personal data of a PersonalReader's events
	// (nil: they are applied sealed).
	Opener Opener
}

func (o RebuildOptions) withDefaults() RebuildOptions {
	if o.BatchSize <= 0 {
		o.BatchSize = 10_000
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = 2 * time.Second
	}
	if o.SwapAttempts <= 0 {
		o.SwapAttempts = 5
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// RebuildProgress is a rebuild's state, reported to RebuildOptions.Progress.
type RebuildProgress struct {
	// Phase is one of the Phase constants.
	Phase string
	// Events counts the events read so far, in every phase.
	Events int64
	// Checkpoint is the scratch tables' checkpoint.
	Checkpoint eventstore.Checkpoint
	// Elapsed is the time since Rebuild began.
	Elapsed time.Duration
}

// RebuildResult is what a completed rebuild did.
type RebuildResult struct {
	// Events counts the events read and applied (of every stream type).
	Events int64
	// Checkpoint is the live checkpoint the rebuilt tables were swapped in at.
	Checkpoint eventstore.Checkpoint
	// Duration is the whole rebuild's wall time; Replay, Index and Swap are
	// its main parts (the swap's lock is held for only a part of Swap).
	Duration, Replay, Index, Swap time.Duration
}

// Rebuild replays projection p from position zero into fresh tables while
// the live read model keeps serving and the live runner (in any process)
// keeps projecting, then swaps the fresh tables in atomically with their
// checkpoint. p must implement Rebuildable, and may implement BulkApplier.
//
// Steps:
//  1. Take the projection's rebuild lock (a session advisory lock on a
//     connection of its own) or fail with ErrRebuildInProgress; drop the
//     scratch schema a crashed rebuild may have left.
//  2. Create schema chronicle_rebuild_<name> with a copy of each table
//     (CREATE TABLE ... (LIKE public.t INCLUDING ALL)); with a Bulk, its
//     indexes and constraints are set aside to be built after the replay.
//  3. Replay: read the log with eventstore.ReadCommitted (gap-free, in
//     (transaction id, position) order) in batches, one reader ahead of the
//     writer, and apply each batch in a transaction of its own with
//     search_path set to the scratch schema.
//  4. Build the indexes and constraints (under their live names), ANALYZE.
//  5. Catch up with Apply until the scratch tables are near the head.
//  6. Swap, in one transaction: LOCK the live tables (waiting out the live
//     runner's batch in flight; blocking its next one and readers), lock
//     the checkpoint row, apply the last events, DROP the live tables, move
//     the scratch ones into public, set the checkpoint to the rebuilt one
//     and NOTIFY CheckpointChannel and RebuildChannel.
//
// After the swap the live runner's compare-and-set on its old checkpoint
// fails (or, if it was exactly at the rebuilt checkpoint, succeeds on the
// new tables, which are at that checkpoint), so no event's effect is lost or
// doubled; it reloads the checkpoint and continues on the new tables.
// Prepared statements are re-planned by PostgreSQL when the tables they name
// are replaced, as the columns and types are unchanged.
//
// Errors: ErrRebuildInProgress, ErrNotRebuildable, ctx's error, or a database
// error; on error the live read model is untouched and the scratch schema is
// dropped (best effort; a later rebuild drops it too).
func Rebuild(ctx context.Context, pool *pgxpool.Pool, p Projection, opts RebuildOptions) (RebuildResult, error) {
	opts = opts.withDefaults()
	rp, ok := p.(Rebuildable)
	if !ok {
		return RebuildResult{}, fmt.Errorf("rebuild %s: %w: it does not implement Rebuildable (Tables)", p.Name(), ErrNotRebuildable)
	}
	rb := &rebuild{
		pool:    pool,
		proj:    rp,
		opts:    opts,
		log:     opts.Logger.With("projection", p.Name()),
		started: time.Now(),
		scratch: scratchSchema(p.Name()),
	}
	if ba, ok := p.(BulkApplier); ok {
		rb.bulk = ba.NewBulk()
	}
	lockConn, err := rb.lock(ctx)
	if err != nil {
		return RebuildResult{}, err
	}
	defer lockConn.Close(context.WithoutCancel(ctx)) // releases the rebuild lock

	res, err := rb.run(ctx)
	if err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, derr := pool.Exec(cctx, `DROP SCHEMA IF EXISTS `+rb.scratch+` CASCADE`); derr != nil {
			rb.log.Warn("rebuild: drop scratch schema", "schema", rb.scratch, "err", derr)
		}
		return RebuildResult{}, fmt.Errorf("rebuild %s: %w", p.Name(), err)
	}
	return res, nil
}

// rebuild is one Rebuild in progress.
type rebuild struct {
	pool    *pgxpool.Pool
	proj    Rebuildable
	bulk    Bulk // nil: replay with Apply
	opts    RebuildOptions
	log     *slog.Logger
	started time.Time
	scratch string // quoted schema name

	tables *tableSet
	cp     eventstore.Checkpoint // of the scratch tables
	events int64
}

// lock takes the projection's rebuild lock on a dedicated connection; the
// lock lasts as long as the connection.
func (rb *rebuild) lock(ctx context.Context) (*pgx.Conn, error) {
	conn, err := connectDedicated(ctx, rb.pool)
	if err != nil {
		return nil, fmt.Errorf("rebuild %s: %w", rb.proj.Name(), err)
	}
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended('chronicle rebuild ' || $1, 0))`, rb.proj.Name()).Scan(&locked); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("rebuild %s: take rebuild lock: %w", rb.proj.Name(), err)
	}
	if !locked {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("rebuild %s: %w", rb.proj.Name(), ErrRebuildInProgress)
	}
	return conn, nil
}

func (rb *rebuild) run(ctx context.Context) (RebuildResult, error) {
	name := rb.proj.Name()
	if _, err := loadCheckpoints(ctx, rb.pool, []string{name}); err != nil {
		return RebuildResult{}, err
	}
	ts, err := inspectTables(ctx, rb.pool, rb.proj.Tables())
	if err != nil {
		return RebuildResult{}, err
	}
	rb.tables = ts
	if err := rb.tables.createScratch(ctx, rb.pool, rb.scratch, rb.bulk != nil); err != nil {
		return RebuildResult{}, err
	}

	var res RebuildResult
	rb.report(PhaseReplay)
	t := time.Now()
	if err := rb.replay(ctx); err != nil {
		return RebuildResult{}, err
	}
	res.Replay = time.Since(t)

	rb.report(PhaseIndex)
	t = time.Now()
	if err := rb.tables.finishScratch(ctx, rb.pool, rb.scratch); err != nil {
		return RebuildResult{}, err
	}
	res.Index = time.Since(t)

	rb.report(PhaseCatchUp)
	if err := rb.catchUp(ctx); err != nil {
		return RebuildResult{}, err
	}

	rb.report(PhaseSwap)
	t = time.Now()
	if err := rb.swap(ctx); err != nil {
		return RebuildResult{}, err
	}
	res.Swap = time.Since(t)
	if _, err := rb.pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+rb.scratch+` CASCADE`); err != nil {
		rb.log.Warn("rebuild: drop empty scratch schema", "schema", rb.scratch, "err", err)
	}
	res.Events, res.Checkpoint, res.Duration = rb.events, rb.cp, time.Since(rb.started)
	rb.report(PhaseDone)
	rb.log.Info("projection rebuilt", "events", res.Events, "checkpoint", res.Checkpoint, "duration", res.Duration)
	return res, nil
}

func (rb *rebuild) report(phase string) {
	if rb.opts.Progress != nil {
		rb.opts.Progress(RebuildProgress{Phase: phase, Events: rb.events, Checkpoint: rb.cp, Elapsed: time.Since(rb.started)})
	}
}

// replay reads the log from zero up to the horizon and applies it to the
// scratch tables. One goroutine reads the next batch while this one writes
// the previous, so PostgreSQL's reading and writing and the decoding overlap.
func (rb *rebuild) replay(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []eventstore.RecordedEvent, 1)
	readErr := make(chan error, 1)
	go func() {
		defer close(batches)
		var cp eventstore.Checkpoint
		for {
			events, _, err := readCommitted(ctx, rb.pool, rb.proj, rb.opts.Opener, cp, rb.opts.BatchSize)
			if err != nil {
				readErr <- err
				return
			}
			if len(events) == 0 {
				return
			}
			select {
			case batches <- events:
			case <-ctx.Done():
				return
			}
			if len(events) < rb.opts.BatchSize {
				return // at the horizon; the catch-up takes the rest
			}
			cp = events[len(events)-1].Checkpoint()
		}
	}()

	for events := range batches {
		err := rb.inScratch(ctx, func(tx pgx.Tx) error {
			if rb.bulk != nil {
				return rb.bulk.Apply(ctx, tx, events)
			}
			_, err := rb.proj.Apply(ctx, tx, events)
			return err
		})
		if err != nil {
			cancel()
			for range batches { //nolint:revive // drain so that the reader ends
			}
			return fmt.Errorf("replay %d events after %v: %w", len(events), rb.cp, err)
		}
		rb.advance(events)
		rb.report(PhaseReplay)
	}
	select {
	case err := <-readErr:
		return err
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if rb.bulk != nil {
		if err := rb.inScratch(ctx, func(tx pgx.Tx) error { return rb.bulk.Flush(ctx, tx) }); err != nil {
			return fmt.Errorf("flush bulk replay: %w", err)
		}
	}
	return nil
}

// catchUp applies, with Apply, the events after the scratch checkpoint until
// a batch comes back short: the scratch tables are then near the head, and
// the swap has little left to do while it holds its locks.
func (rb *rebuild) catchUp(ctx context.Context) error {
	for {
		events, _, err := readCommitted(ctx, rb.pool, rb.proj, rb.opts.Opener, rb.cp, rb.opts.BatchSize)
		if err != nil {
			return err
		}
		if len(events) == 0 {
			return nil
		}
		err = rb.inScratch(ctx, func(tx pgx.Tx) error {
			_, err := rb.proj.Apply(ctx, tx, events)
			return err
		})
		if err != nil {
			return fmt.Errorf("catch up %d events after %v: %w", len(events), rb.cp, err)
		}
		rb.advance(events)
		rb.report(PhaseCatchUp)
		if len(events) < rb.opts.BatchSize {
			return nil
		}
	}
}

func (rb *rebuild) advance(events []eventstore.RecordedEvent) {
	rb.cp = events[len(events)-1].Checkpoint()
	rb.events += int64(len(events))
}

// inScratch runs f in a transaction whose unqualified table names resolve to
// the scratch schema first. The commit does not wait for its WAL flush: a
// crash loses only scratch work, which a new rebuild redoes anyway.
func (rb *rebuild) inScratch(ctx context.Context, f func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, rb.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL search_path = `+rb.scratch+`, public; SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		return f(tx)
	})
}

// swap puts the scratch tables live, retrying when its locks time out or it
// is chosen as a deadlock victim; before each retry it catches up again.
func (rb *rebuild) swap(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := rb.swapOnce(ctx)
		if err == nil {
			return nil
		}
		var pgErr *pgconn.PgError
		retryable := errors.As(err, &pgErr) && (pgErr.Code == "55P03" || pgErr.Code == "40P01") // lock_not_available, deadlock_detected
		if !retryable || attempt >= rb.opts.SwapAttempts {
			return fmt.Errorf("swap (attempt %d): %w", attempt, err)
		}
		rb.log.Warn("rebuild: swap failed, retrying", "attempt", attempt, "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
		if err := rb.catchUp(ctx); err != nil {
			return err
		}
	}
}

// swapOnce is the swap transaction (see Rebuild).
func (rb *rebuild) swapOnce(ctx context.Context) error {
	name := rb.proj.Name()
	cp, events := rb.cp, rb.events
	err := pgx.BeginFunc(ctx, rb.pool, func(tx pgx.Tx) error {
		setup := fmt.Sprintf(`SET LOCAL lock_timeout = %d; SET LOCAL search_path = %s, public`, rb.opts.LockTimeout.Milliseconds(), rb.scratch)
		if _, err := tx.Exec(ctx, setup); err != nil {
			return err
		}
		// Tables first: this waits for the live runner's batch in flight
		// (which may still advance the checkpoint), then blocks the next
		// one's first write. Taking the checkpoint row first could deadlock
		// with a batch that holds the tables and waits for the row.
		if _, err := tx.Exec(ctx, `LOCK TABLE `+rb.tables.liveList()+` IN ACCESS EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("lock live tables: %w", err)
		}
		var (
			txid string
			live eventstore.Checkpoint
		)
		if err := tx.QueryRow(ctx, `SELECT transaction_id::text, position FROM projection_checkpoints WHERE name = $1 FOR UPDATE`, name).Scan(&txid, &live.Position); err != nil {
			return fmt.Errorf("lock checkpoint: %w", err)
		}
		var err error
		if live.TransactionID, err = strconv.ParseUint(txid, 10, 64); err != nil {
			return fmt.Errorf("lock checkpoint: %w", err)
		}
		for {
			batch, _, err := readCommitted(ctx, tx, rb.proj, rb.opts.Opener, cp, rb.opts.BatchSize)
			if err != nil {
				return err
			}
			if len(batch) == 0 {
				break
			}
			if _, err := rb.proj.Apply(ctx, tx, batch); err != nil {
				return fmt.Errorf("apply %d events after %v: %w", len(batch), cp, err)
			}
			cp = batch[len(batch)-1].Checkpoint()
			events += int64(len(batch))
		}
		// Every event the live runner had committed was below the horizon
		// when it read it, so it is below ours now; a rebuilt checkpoint
		// behind the live one would make read-your-writes waits lie.
		if cp.Compare(live) < 0 {
			return fmt.Errorf("rebuilt checkpoint %v is behind the live one %v", cp, live)
		}
		if _, err := tx.Exec(ctx, `DROP TABLE `+rb.tables.liveList()); err != nil {
			return fmt.Errorf("drop live tables: %w", err)
		}
		for _, t := range rb.tables.names {
			if _, err := tx.Exec(ctx, `ALTER TABLE `+rb.scratch+`.`+quoteIdent(t)+` SET SCHEMA public`); err != nil {
				return fmt.Errorf("move %s into public: %w", t, err)
			}
		}
		notice := name + ":" + strconv.FormatUint(cp.TransactionID, 10) + ":" + strconv.FormatInt(cp.Position, 10)
		if _, err := tx.Exec(ctx, `UPDATE projection_checkpoints SET transaction_id = $2::text::xid8, position = $3, updated_at = now() WHERE name = $1`,
			name, strconv.FormatUint(cp.TransactionID, 10), cp.Position); err != nil {
			return fmt.Errorf("set checkpoint: %w", err)
		}
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $3), pg_notify($2, $3)`, CheckpointChannel, RebuildChannel, notice); err != nil {
			return fmt.Errorf("notify: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	rb.cp, rb.events = cp, events
	return nil
}
