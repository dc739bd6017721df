package projection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgnotify"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Config tunes the engine. Zero values take the defaults in brackets.
type Config struct {
	// BatchSize is the most events applied in one transaction [500].
	BatchSize int
	// PollInterval is the slow poll that backs up LISTEN/NOTIFY, and how
	// often a runner checks that it still holds its lock [1s].
	PollInterval time.Duration
	// LockRetryInterval is how often a standby instance tries to take over
	// a projection [1s].
	LockRetryInterval time.Duration
	// OnUpdate, when set, is called after each committed batch, from the
	// runner's goroutine: it must not block (hand off to a buffer).
	OnUpdate func(Update)
	// OnRebuild, when set, is called on every instance, from the engine's
	// listener goroutine, after a rebuild (see Rebuild, possibly run by
	// another process) has swapped in a projection's new read model: any
	// row may have changed, so every subscriber of the projection must read
	// again (for example live.Hub.RingAll). Keys is empty. It must not
	// block.
	OnRebuild func(Update)
	Logger    *slog.Logger
	// Opener opens the sealed personal data of a PersonalReader's events
	// before Apply (nil: they are applied sealed).
	Opener Opener
	// Own, when set, reports whether a store notification (by the
	// sending backend's pid) came from this process's own store
	// (eventstore.Store.Announced), whose appends wake the runners
	// in-process (WakeFor): the listener then wakes no runner for it.
	// Nil: every store notification wakes every runner.
	Own func(pid uint32) bool
}

func (c Config) withDefaults() Config {
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.LockRetryInterval <= 0 {
		c.LockRetryInterval = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Engine runs a set of projections and answers read-your-writes waits.
type Engine struct {
	pool    *pgxpool.Pool
	cfg     Config
	runners []*runner
	watches map[string]*watch
	// notify announces the runners' checkpoints, each under its
	// projection's name, in one NOTIFY statement per send.
	notify *pgnotify.Coalescer
}

// NewEngine returns an engine for projections on pool (more may be added
// with Register before Run). Names must be unique.
func NewEngine(pool *pgxpool.Pool, cfg Config, projections ...Projection) (*Engine, error) {
	cfg = cfg.withDefaults()
	e := &Engine{pool: pool, cfg: cfg, watches: make(map[string]*watch, len(projections)),
		notify: pgnotify.New(pool, CheckpointChannel, CheckpointNotifyInterval)}
	for _, p := range projections {
		if err := e.Register(p); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Register adds projection p; call it before Run. Errors: a projection of
// the same name is already registered.
func (e *Engine) Register(p Projection) error {
	if _, dup := e.watches[p.Name()]; dup {
		return fmt.Errorf("projection %q registered twice", p.Name())
	}
	w := newWatch()
	e.watches[p.Name()] = w
	r := &runner{pool: e.pool, proj: p, cfg: e.cfg, watch: w, wake: make(chan struct{}, 1), notify: e.notify}
	if s, ok := p.(Selective); ok {
		r.streamTypes = s.StreamTypes()
	}
	e.runners = append(e.runners, r)
	return nil
}

// Run runs the projections until ctx is cancelled: a listener for the store's
// and the checkpoints' notifications, and one runner per projection that
// becomes active when it wins the projection's advisory lock. A batch in
// progress when ctx is cancelled is finished (or rolled back) before Run
// returns. Run returns ctx's error, or the first start-up error.
func (e *Engine) Run(ctx context.Context) error {
	if err := e.refreshWatches(ctx); err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Go(func() { e.listen(ctx) })
	for _, r := range e.runners {
		wg.Go(func() { r.run(ctx) })
	}
	wg.Wait()
	return ctx.Err()
}

// Active reports, for every projection of the engine by name, whether this
// engine's runner holds the projection's lock (is the instance applying it)
// now. A fresh map per call.
func (e *Engine) Active() map[string]bool {
	out := make(map[string]bool, len(e.runners))
	for _, r := range e.runners {
		out[r.proj.Name()] = r.active.Load()
	}
	return out
}

// WaitFor blocks until projection name has applied every event up to target
// (an append's Checkpoint), or ctx ends (its error is returned).
// Errors: ctx.Err(); an error for an unknown projection.
func (e *Engine) WaitFor(ctx context.Context, name string, target eventstore.Checkpoint) error {
	w, ok := e.watches[name]
	if !ok {
		return fmt.Errorf("unknown projection %q", name)
	}
	return w.wait(ctx, target)
}

// ViewAfter returns the row under key of projection name (a Viewer) as a
// batch of this instance's runner that reached target left it, so that a
// command's read-your-writes payload needs no read after its wait. False
// when this instance's runner is not the active one, or did not write key
// at or after target among its latest batches: then read the read model.
//
// Why it is never stale for the command: its events are at or before
// target, and every batch up to that batch's checkpoint was applied in order
// before it, so the row includes them. The runner forgets its views when the
// read model may have been written by someone else (it stepped down, or
// found the checkpoint moved by another runner or a rebuild), and a key an
// erasure scrubbed is forgotten in the batch that scrubs it.
func (e *Engine) ViewAfter(name, key string, target eventstore.Checkpoint) (any, bool) {
	for _, r := range e.runners {
		if r.proj.Name() == name {
			if !r.active.Load() {
				return nil, false
			}
			return r.views.after(key, target)
		}
	}
	return nil, false
}

// Checkpoint returns what this instance knows of projection name's checkpoint.
func (e *Engine) Checkpoint(name string) (eventstore.Checkpoint, bool) {
	w, ok := e.watches[name]
	if !ok {
		return eventstore.Checkpoint{}, false
	}
	return w.get(), true
}

// refreshWatches reads every checkpoint from the database: at start, and
// whenever notifications may have been missed.
func (e *Engine) refreshWatches(ctx context.Context) error {
	names := make([]string, 0, len(e.watches))
	for name := range e.watches {
		names = append(names, name)
	}
	cps, err := loadCheckpoints(ctx, e.pool, names)
	if err != nil {
		return err
	}
	for name, cp := range cps {
		e.watches[name].advance(cp)
	}
	return nil
}

// Wake tells the engine that events were appended: every runner active in
// this process reads again (one that is busy picks the nudge up after its
// current batch; nudges coalesce). It does not block, so it can be called
// right after each commit: the server calls it from the event store's
// AppendObserver, which wakes this process's runners without waiting for
// the store's coalesced NOTIFY (eventstore.NotifyChannel), which wakes the
// runners of other processes.
func (e *Engine) Wake() { e.wakeAll() }

// WakeFor is Wake after an append to a stream of streamType: it nudges the
// runners whose projection applies such streams' events, every runner but
// those of the Selective projections that do not list streamType.
func (e *Engine) WakeFor(streamType string) {
	for _, r := range e.runners {
		if r.streamTypes == nil || slices.Contains(r.streamTypes, streamType) {
			r.nudge()
		}
	}
}

// wakeAll nudges every runner.
func (e *Engine) wakeAll() {
	for _, r := range e.runners {
		r.nudge()
	}
}

// listen holds a dedicated connection that LISTENs to the store's and the
// checkpoints' channels, reconnecting with backoff. After every (re)connect
// it wakes the runners and reloads the checkpoints, since notifications sent
// while it was away are lost.
func (e *Engine) listen(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := e.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		e.cfg.Logger.Warn("projection listener lost its connection", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (e *Engine) listenOnce(ctx context.Context) error {
	conn, err := connectDedicated(ctx, e.pool)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, ch := range []string{eventstore.NotifyChannel, CheckpointChannel, RebuildChannel} {
		if _, err := conn.Exec(ctx, "LISTEN "+ch); err != nil {
			return fmt.Errorf("listen %s: %w", ch, err)
		}
	}
	if err := e.refreshWatches(ctx); err != nil {
		return err
	}
	refreshed := time.Now()
	e.wakeAll()

	for {
		// The checkpoints of projections run by other instances are
		// reloaded at least once per PollInterval, notifications or not:
		// a checkpoint notification is sent after its batch's commit and
		// can be lost (CheckpointChannel).
		if time.Since(refreshed) >= e.cfg.PollInterval {
			if err := e.refreshWatches(ctx); err != nil {
				return err
			}
			refreshed = time.Now()
		}
		waitCtx, cancel := context.WithTimeout(ctx, e.cfg.PollInterval-time.Since(refreshed))
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			continue
		case err != nil:
			return fmt.Errorf("wait for notification: %w", err)
		}
		switch n.Channel {
		case eventstore.NotifyChannel:
			if e.cfg.Own == nil || !e.cfg.Own(n.PID) {
				e.wakeAll()
			}
		case CheckpointChannel:
			name, cp, err := parseCheckpointNotice(n.Payload)
			if err != nil {
				e.cfg.Logger.Warn("ignoring checkpoint notice", "err", err)
				continue
			}
			if w, ok := e.watches[name]; ok {
				w.advance(cp)
			}
		case RebuildChannel:
			name, cp, err := parseCheckpointNotice(n.Payload)
			if err != nil {
				e.cfg.Logger.Warn("ignoring rebuild notice", "err", err)
				continue
			}
			w, ok := e.watches[name]
			if !ok {
				continue
			}
			w.advance(cp)
			e.wakeAll() // the active runner reloads its checkpoint
			if e.cfg.OnRebuild != nil {
				e.cfg.OnRebuild(Update{Projection: name, Checkpoint: cp})
			}
		}
	}
}
