package projection

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgnotify"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// runner runs one projection while it holds the projection's advisory lock.
type runner struct {
	pool  *pgxpool.Pool
	proj  Projection
	cfg   Config
	watch *watch
	wake  chan struct{}
	// streamTypes are a Selective projection's, read once at Register
	// (nil: every append wakes the runner).
	streamTypes []string
	// notify announces committed checkpoints on CheckpointChannel (the
	// engine's, shared by its runners); batches counts them, as its
	// sequence.
	notify  *pgnotify.Coalescer
	batches int64
	// active is set while this runner holds the projection's lock.
	active atomic.Bool
	// views are the rows its latest batches wrote, for a Viewer.
	views recentViews
}

// CheckpointNotifyInterval is the least time between two CheckpointChannel
// sends of one engine (each carries the latest checkpoint of every
// projection that advanced since the last).
const CheckpointNotifyInterval = 2 * time.Millisecond

// announce tells other instances of the checkpoint a batch committed, from
// outside the batch's transaction: a NOTIFY inside it would make its commit
// take PostgreSQL's cluster-wide notify lock through its WAL flush (see
// package pgnotify). This instance's waiters know already (watch.advance).
// A notification lost to a crash or a failed send is made up for by the
// next one, or by the listeners' reload every PollInterval.
func (r *runner) announce(cp eventstore.Checkpoint) {
	r.batches++
	r.notify.Notify(r.proj.Name(), r.batches, checkpointNotice(r.proj.Name(), cp))
}

// nudge makes the runner read again; a busy runner picks it up after its
// current batch, and nudges coalesce.
func (r *runner) nudge() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// errFenced means another runner advanced the checkpoint under us.
var errFenced = errors.New("checkpoint moved by another runner")

func (r *runner) run(ctx context.Context) {
	log := r.cfg.Logger.With("projection", r.proj.Name())
	for ctx.Err() == nil {
		lockConn, err := r.acquire(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("projection lock", "err", err)
			}
		} else if lockConn != nil {
			log.Info("projection runner active")
			r.active.Store(true)
			stopLead := r.lead(ctx)
			err := r.serve(ctx, lockConn)
			stopLead()
			r.active.Store(false)
			r.views.clear()
			lockConn.Close(context.WithoutCancel(ctx)) // releases the advisory lock
			if ctx.Err() == nil {
				log.Warn("projection runner stepped down", "err", err)
			}
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(r.cfg.LockRetryInterval):
		}
	}
}

// lead starts the projection's Lead, if it is a Leader, and returns the
// function that stops it and waits for it to return.
func (r *runner) lead(ctx context.Context) (stop func()) {
	l, ok := r.proj.(Leader)
	if !ok {
		return func() {}
	}
	leadCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Lead(leadCtx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// acquire opens a dedicated connection and tries the projection's session
// advisory lock on it. It returns nil, nil when another instance holds it.
func (r *runner) acquire(ctx context.Context) (*pgx.Conn, error) {
	conn, err := connectDedicated(ctx, r.pool)
	if err != nil {
		return nil, err
	}
	var locked bool
	err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended('chronicle projection ' || $1, 0))`, r.proj.Name()).Scan(&locked)
	if err != nil || !locked {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return conn, nil
}

// serve applies batches until ctx ends or the lock connection fails.
func (r *runner) serve(ctx context.Context, lockConn *pgx.Conn) error {
	cps, err := loadCheckpoints(ctx, r.pool, []string{r.proj.Name()})
	if err != nil {
		return err
	}
	p := newProgress(cps[r.proj.Name()])
	r.watch.advance(p.applied)

	// How soon to look again when events are held back behind the horizon,
	// and after a failed batch. Both start at firstRetry and double.
	//
	// Held back: no notification says when the horizon moves (the open
	// transaction may roll back, or be in another database), so the runner
	// polls, and the cap is the lag it adds after the horizon has moved: a
	// cap of maxHeldBackRetry keeps it within the read-your-writes budget
	// (the aim is a lag p99 under 50 ms), where doubling up to PollInterval
	// added up to a second. The price is one empty read and one look past
	// the horizon every maxHeldBackRetry while, and only while, events are
	// held back: two index probes, measured at 0.4 ms of round trips and
	// 0.15 ms of this process's CPU, so at most 100 such pairs a second, a
	// few per cent of one core. A store NOTIFY still wakes the runner at
	// once.
	//
	// Failed: a batch that fails will likely fail again (a poisoned event,
	// the database away): back off up to PollInterval, so as not to spin.
	const (
		firstRetry       = 2 * time.Millisecond
		maxHeldBackRetry = 10 * time.Millisecond
	)
	heldBackRetry, failedRetry := firstRetry, firstRetry
	poll := time.NewTicker(r.cfg.PollInterval)
	defer poll.Stop()
	for {
		// The known checkpoint passed ours: another runner, or a rebuild's
		// swap, moved it. Resume from the stored one rather than fail a
		// batch on tables that already hold its effects.
		if r.watch.get().Compare(p.applied) > 0 {
			r.views.clear()
			cps, err := loadCheckpoints(ctx, r.pool, []string{r.proj.Name()})
			if err != nil {
				return err
			}
			p = newProgress(cps[r.proj.Name()])
		}
		n, heldBack, err := r.step(ctx, &p)
		failed := false
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			// Fenced, or the batch failed: either way the stored checkpoint
			// is the truth to resume from (a failure can come from a stale
			// one, when another runner was active for a while).
			r.views.clear()
			cps, lerr := loadCheckpoints(ctx, r.pool, []string{r.proj.Name()})
			if lerr != nil {
				return lerr
			}
			p = newProgress(cps[r.proj.Name()])
			r.watch.advance(p.applied)
			if errors.Is(err, errFenced) {
				continue
			}
			r.cfg.Logger.Error("projection batch failed", "projection", r.proj.Name(), "err", err)
			failed = true
		case n == r.cfg.BatchSize:
			failedRetry = firstRetry
			continue // more to read right away
		}

		var wait <-chan time.Time
		switch {
		case failed:
			wait = time.After(failedRetry)
			failedRetry = min(2*failedRetry, r.cfg.PollInterval)
		case heldBack:
			wait = time.After(heldBackRetry)
			heldBackRetry = min(2*heldBackRetry, maxHeldBackRetry, r.cfg.PollInterval)
		default:
			heldBackRetry, failedRetry = firstRetry, firstRetry
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.wake:
		case <-wait:
		case <-poll.C:
			if err := lockConn.Ping(ctx); err != nil {
				return fmt.Errorf("lock connection: %w", err)
			}
		}
	}
}

// progress is where a runner is: applied is the checkpoint of the last
// event it applied (or passed over), stored the one projection_checkpoints
// holds, written at storedAt. They differ after batches the projection sent
// nothing for: their advance is stored with the next batch that sends
// something, or once PollInterval has passed since the last store.
type progress struct {
	applied, stored eventstore.Checkpoint
	storedAt        time.Time
}

func newProgress(stored eventstore.Checkpoint) progress {
	return progress{applied: stored, stored: stored, storedAt: time.Now()}
}

// step applies one batch after p.applied and advances it. It returns how
// many events it applied and whether events are waiting behind the horizon.
func (r *runner) step(ctx context.Context, p *progress) (int, bool, error) {
	events, heldBack, err := readCommitted(ctx, r.pool, r.proj, r.cfg.Opener, p.applied, r.cfg.BatchSize)
	if err != nil {
		return 0, heldBack, err
	}
	// A batch that has begun is finished even on shutdown, within a bound.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if len(events) == 0 {
		return 0, heldBack, r.storeDue(bctx, p)
	}
	next := events[len(events)-1].Checkpoint()
	keys, views, err := r.applyBatch(bctx, p, next, events)
	if err != nil {
		return 0, false, err
	}
	p.applied = next
	// Before the waiters wake, so that they find their views.
	r.views.record(next, views)
	r.watch.advance(next)
	r.announce(next)
	u := Update{Projection: r.proj.Name(), Checkpoint: next, Keys: keys}
	if l, ok := r.proj.(Leader); ok {
		l.Committed(u)
	}
	if r.cfg.OnUpdate != nil {
		r.cfg.OnUpdate(u)
	}
	return len(events), false, nil
}

// applyBatch applies events and advances the stored checkpoint from
// p.stored to `to` in one transaction, or, when the projection sent nothing
// for them, leaves the advance to be stored later (storeDue). It returns the
// keys the batch changed and, for a Viewer, their rows (nil otherwise).
func (r *runner) applyBatch(ctx context.Context, p *progress, to eventstore.Checkpoint, events []eventstore.RecordedEvent) ([]string, map[string]any, error) {
	var (
		keys  []string
		views map[string]any
	)
	err := r.inBatch(ctx, func(tx *batchTx) error {
		var err error
		if v, ok := r.proj.(Viewer); ok {
			views, err = v.ApplyViews(ctx, tx, events)
			keys, err = ApplyKeys(views, err)
		} else {
			keys, err = r.proj.Apply(ctx, tx, events)
		}
		if err != nil {
			return fmt.Errorf("apply %d events after %v: %w", len(events), p.applied, err)
		}
		if !tx.begun && time.Since(p.storedAt) < r.cfg.PollInterval {
			return nil // nothing to commit yet: see batchTx
		}
		return r.store(ctx, tx, p, to)
	})
	if err != nil {
		return nil, nil, err
	}
	return keys, views, nil
}

// storeDue stores p.applied when it is ahead of p.stored and PollInterval
// has passed since the last store (the runner reads, and so calls it, at
// least once per PollInterval). Errors: errFenced; the database's.
func (r *runner) storeDue(ctx context.Context, p *progress) error {
	if p.applied == p.stored || time.Since(p.storedAt) < r.cfg.PollInterval {
		return nil
	}
	return r.inBatch(ctx, func(tx *batchTx) error { return r.store(ctx, tx, p, p.applied) })
}

// inBatch runs fn in a batchTx on a connection of the pool, rolled back
// unless fn committed it. A connection released inside a transaction (a
// failed batch) is closed by the pool, never reused.
func (r *runner) inBatch(ctx context.Context, fn func(tx *batchTx) error) error {
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire a batch connection: %w", err)
	}
	defer conn.Release()
	tx := &batchTx{conn: conn.Conn()}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after the commit
	return fn(tx)
}

// store advances the stored checkpoint from p.stored to `to` and commits
// tx. Errors: errFenced; the database's.
func (r *runner) store(ctx context.Context, tx *batchTx, p *progress, to eventstore.Checkpoint) error {
	if err := tx.commitAdvancing(ctx, r.proj.Name(), p.stored, to); err != nil {
		return err
	}
	p.stored, p.storedAt = to, time.Now()
	return nil
}

// connectDedicated opens a connection outside the pool with the pool's
// settings, for sessions that must stay on one backend (LISTEN, locks).
func connectDedicated(ctx context.Context, pool *pgxpool.Pool) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	return conn, nil
}
