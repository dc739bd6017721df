package process

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Config is what a Manager needs besides its Definition. Zero values take
// the defaults in brackets.
type Config struct {
	// Pool serves the dispatcher and the deadlines (batches run in the
	// projection engine's transactions). Required.
	Pool *pgxpool.Pool
	// Now is the clock deadlines are fired by [time.Now].
	Now func() time.Time
	// PollInterval is how often the active instance looks for due
	// deadlines, and for outbox rows it was not woken for [1s].
	PollInterval time.Duration
	// Workers send outbox rows in parallel; rows of one process always go
	// to the same worker, in outbox order [8].
	Workers int
	// Logger [slog.Default()].
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// step is one run of a Definition's handler on a stored state (JSON; nil
// for a process not seen before).
type step func(state []byte) ([]byte, Effects, error)

// Manager runs one process manager: register it with the projection engine
// (it is a projection.Leader). Build it with New.
type Manager struct {
	name   string
	source string
	cfg    Config
	route  func(eventstore.RecordedEvent) (string, Event, bool, error)
	// streamTypes are the Definition's StreamTypes.
	streamTypes []string
	handle      func(Event) step
	// deadline and refused are nil when the Definition has no such step.
	deadline func(kind string, now time.Time) step
	refused  func(c Command, err error) step
	dispatch func(ctx context.Context, c Command, opts command.Options) error
	wake     chan struct{}
}

var _ projection.Leader = (*Manager)(nil)

// New returns the manager of def. It panics on a Definition without Name,
// Route, Handle or Dispatch (a programming error).
func New[S any](def Definition[S], cfg Config) *Manager {
	if def.Name == "" || def.Route == nil || def.Handle == nil || def.Dispatch == nil {
		panic("process: a Definition needs Name, Route, Handle and Dispatch")
	}
	m := &Manager{
		name: def.Name, source: "process:" + def.Name, cfg: cfg.withDefaults(),
		dispatch: def.Dispatch, wake: make(chan struct{}, 1), streamTypes: def.StreamTypes,
	}
	m.route = func(e eventstore.RecordedEvent) (string, Event, bool, error) {
		id, data, ok, err := def.Route(e)
		if err != nil || !ok {
			return "", Event{}, false, err
		}
		return id, Event{
			ID: e.EventID, StreamID: e.StreamID, StreamType: e.StreamType, Type: e.Type, Version: e.Version,
			RecordedAt: e.RecordedAt, Metadata: e.Metadata, Data: data,
		}, true, nil
	}
	m.handle = func(e Event) step {
		return typed(func(s S) (S, Effects) { return def.Handle(s, e) })
	}
	if def.OnDeadline != nil {
		m.deadline = func(kind string, now time.Time) step {
			return typed(func(s S) (S, Effects) { return def.OnDeadline(s, kind, now) })
		}
	}
	if def.OnRefused != nil {
		m.refused = func(c Command, err error) step {
			return typed(func(s S) (S, Effects) { return def.OnRefused(s, c, err) })
		}
	}
	return m
}

// typed runs fn on a state stored as JSON. A panic in fn becomes an error
// (the batch or step fails and is retried) rather than a crash of the
// runner.
func typed[S any](fn func(S) (S, Effects)) step {
	return func(raw []byte) (_ []byte, _ Effects, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("process step panicked: %v", r)
			}
		}()
		var s S
		if raw != nil {
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, Effects{}, fmt.Errorf("decode process state: %w", err)
			}
		}
		s, eff := fn(s)
		out, err := json.Marshal(s)
		if err != nil {
			return nil, Effects{}, fmt.Errorf("encode process state: %w", err)
		}
		return out, eff, nil
	}
}

// Name implements projection.Projection: "process:" + the Definition's name.
func (m *Manager) Name() string { return ProjectionName(m.name) }

// StreamTypes implements projection.Selective: the Definition's.
func (m *Manager) StreamTypes() []string { return m.streamTypes }

// ProcessName is the Definition's name.
func (m *Manager) ProcessName() string { return m.name }

// Committed implements projection.Leader: a committed batch may have
// written outbox rows, so the dispatcher looks.
func (m *Manager) Committed(projection.Update) { m.nudge() }

func (m *Manager) nudge() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// trigger is what caused a step: its id (an event id, or "deadline:<id>",
// "refused:<outbox seq>"), for the outbox keys, and the metadata its
// commands carry.
type trigger struct {
	id            string
	causationID   string
	correlationID string
	tenant        string
}

// loaded is a process's stored state within a transaction.
type loaded struct {
	raw   []byte
	dirty bool
}

// changes collects the writes of the steps of one transaction.
type changes struct {
	states    map[string]*loaded
	outbox    []outboxRow
	keys      map[string]bool
	deadlines []deadlineOp
}

type outboxRow struct {
	key, processID, command string
	payload                 []byte
	trig                    trigger
}

type deadlineOp struct {
	processID, kind string
	set             *Deadline
	trig            trigger
}

// run applies one step to process pid's state (loaded into ch.states) and
// records its effects.
func (m *Manager) run(ch *changes, pid string, trig trigger, st step) error {
	cur := ch.states[pid]
	if cur == nil {
		cur = &loaded{}
		ch.states[pid] = cur
	}
	next, eff, err := st(cur.raw)
	if err != nil {
		return fmt.Errorf("process %s: %w", pid, err)
	}
	if !bytes.Equal(next, cur.raw) {
		cur.raw, cur.dirty = next, true
	}
	for _, s := range eff.Send {
		key := m.name + "/" + trig.id + "/" + s.Step
		if err := command.ValidIdempotencyKey(key); err != nil {
			return fmt.Errorf("process %s step %q: %w", pid, s.Step, err)
		}
		if ch.keys[key] {
			return fmt.Errorf("process %s: step %q sent twice for one trigger", pid, s.Step)
		}
		ch.keys[key] = true
		payload, err := json.Marshal(s.Payload)
		if err != nil {
			return fmt.Errorf("process %s step %q: encode payload: %w", pid, s.Step, err)
		}
		ch.outbox = append(ch.outbox, outboxRow{key: key, processID: pid, command: s.Command, payload: payload, trig: trig})
	}
	for _, d := range eff.Set {
		ch.deadlines = append(ch.deadlines, deadlineOp{processID: pid, kind: d.Kind, set: &d, trig: trig})
	}
	for _, kind := range eff.Clear {
		ch.deadlines = append(ch.deadlines, deadlineOp{processID: pid, kind: kind, trig: trig})
	}
	return nil
}

// Apply implements projection.Projection: it runs the handler on each
// event the process manager routes, in order, and stores states, deadlines
// and outbox rows in tx (the batch's transaction, which also advances the
// checkpoint). It announces no keys.
func (m *Manager) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) ([]string, error) {
	type routed struct {
		pid string
		e   Event
	}
	var rs []routed
	var pids []string
	seen := map[string]bool{}
	for _, re := range events {
		pid, e, ok, err := m.route(re)
		if err != nil {
			return nil, fmt.Errorf("route event %s (%s): %w", re.EventID, re.Type, err)
		}
		if !ok {
			continue
		}
		rs = append(rs, routed{pid, e})
		if !seen[pid] {
			seen[pid] = true
			pids = append(pids, pid)
		}
	}
	if len(rs) == 0 {
		return nil, nil
	}
	ch, err := m.load(ctx, tx, pids)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		trig := trigger{id: r.e.ID.String(), causationID: r.e.ID.String(), correlationID: r.e.Metadata.CorrelationID, tenant: r.e.Metadata.Tenant}
		if err := m.run(ch, r.pid, trig, m.handle(r.e)); err != nil {
			return nil, err
		}
	}
	return nil, m.write(ctx, tx, ch)
}

// load reads and locks the stored states of pids (FOR UPDATE, in process id
// order: the dispatcher and the deadlines lock one state at a time, so no
// two transactions wait on each other in a cycle).
func (m *Manager) load(ctx context.Context, tx pgx.Tx, pids []string) (*changes, error) {
	rows, err := tx.Query(ctx, `SELECT process_id, state FROM process_states WHERE name = $1 AND process_id = ANY($2)
		ORDER BY process_id FOR UPDATE`, m.name, pids)
	if err != nil {
		return nil, fmt.Errorf("load process states: %w", err)
	}
	ch := &changes{states: make(map[string]*loaded, len(pids)), keys: map[string]bool{}}
	for rows.Next() {
		var pid string
		var raw []byte
		if err := rows.Scan(&pid, &raw); err != nil {
			return nil, fmt.Errorf("load process states: %w", err)
		}
		ch.states[pid] = &loaded{raw: raw}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load process states: %w", err)
	}
	return ch, nil
}

// write stores ch in one pipelined batch.
func (m *Manager) write(ctx context.Context, tx pgx.Tx, ch *changes) error {
	b := &pgx.Batch{}
	for pid, st := range ch.states {
		if st.dirty {
			b.Queue(`INSERT INTO process_states (name, process_id, state, version) VALUES ($1, $2, $3, 1)
				ON CONFLICT (name, process_id) DO UPDATE SET state = EXCLUDED.state,
				version = process_states.version + 1, updated_at = now()`, m.name, pid, st.raw)
		}
	}
	for _, d := range ch.deadlines {
		if d.set == nil {
			b.Queue(`DELETE FROM process_deadlines WHERE name = $1 AND process_id = $2 AND kind = $3`, m.name, d.processID, d.kind)
			continue
		}
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("deadline id: %w", err)
		}
		b.Queue(`INSERT INTO process_deadlines (name, process_id, kind, due_at, deadline_id, causation_id, correlation_id, tenant)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (name, process_id, kind) DO UPDATE SET due_at = EXCLUDED.due_at, deadline_id = EXCLUDED.deadline_id,
			causation_id = EXCLUDED.causation_id, correlation_id = EXCLUDED.correlation_id, tenant = EXCLUDED.tenant`,
			m.name, d.processID, d.kind, d.set.DueAt, id, d.trig.causationID, d.trig.correlationID, d.trig.tenant)
	}
	for _, o := range ch.outbox {
		b.Queue(`INSERT INTO process_outbox (name, key, process_id, command, payload, causation_id, correlation_id, tenant)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			m.name, o.key, o.processID, o.command, o.payload, o.trig.causationID, o.trig.correlationID, o.trig.tenant)
	}
	if err := projection.SendBatch(ctx, tx, b); err != nil {
		return fmt.Errorf("store process steps: %w", err)
	}
	return nil
}

// Lead implements projection.Leader: while this instance runs the process
// manager, it sends the outbox and fires due deadlines.
func (m *Manager) Lead(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { m.dispatchLoop(ctx) })
	wg.Go(func() { m.deadlineLoop(ctx) })
	wg.Wait()
}

// outboxBatch is how many outbox rows the dispatcher reads at a time.
const outboxBatch = 256

// dispatchLoop sends outbox rows until ctx ends: at once when woken (a
// committed batch, a fired deadline), else every PollInterval; after a
// failed send it backs off (10 ms doubling up to PollInterval).
func (m *Manager) dispatchLoop(ctx context.Context) {
	const firstRetry = 10 * time.Millisecond
	retry := firstRetry
	poll := time.NewTicker(m.cfg.PollInterval)
	defer poll.Stop()
	for ctx.Err() == nil {
		n, failed, err := m.DispatchOnce(ctx)
		if err != nil && ctx.Err() == nil {
			m.cfg.Logger.Error("process outbox", "process", m.name, "err", err)
			failed = true
		}
		var wait <-chan time.Time
		switch {
		case failed:
			wait = time.After(retry)
			retry = min(2*retry, m.cfg.PollInterval)
		case n == outboxBatch:
			retry = firstRetry
			continue
		default:
			retry = firstRetry
		}
		select {
		case <-ctx.Done():
		case <-m.wake:
		case <-wait:
		case <-poll.C:
		}
	}
}

// DispatchOnce reads up to one batch of outbox rows and sends them (rows of
// one process in order, processes in parallel). It returns how many rows it
// read, whether a send failed and was left for later, and a read error.
// The dispatcher of the active instance calls it; tests call it to step.
func (m *Manager) DispatchOnce(ctx context.Context) (int, bool, error) {
	rows, err := m.cfg.Pool.Query(ctx, `SELECT seq, key, process_id, command, payload, causation_id, correlation_id, tenant
		FROM process_outbox WHERE name = $1 ORDER BY seq LIMIT $2`, m.name, outboxBatch)
	if err != nil {
		return 0, false, fmt.Errorf("read outbox: %w", err)
	}
	type pending struct {
		seq  int64
		c    Command
		trig trigger
	}
	var all []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.seq, &p.c.Key, &p.c.ProcessID, &p.c.Name, &p.c.Payload, &p.trig.causationID, &p.trig.correlationID, &p.trig.tenant); err != nil {
			return 0, false, fmt.Errorf("read outbox: %w", err)
		}
		all = append(all, p)
	}
	if err := rows.Err(); err != nil {
		return 0, false, fmt.Errorf("read outbox: %w", err)
	}
	queues := make([][]pending, m.cfg.Workers)
	for _, p := range all {
		h := fnv.New32a()
		_, _ = h.Write([]byte(p.c.ProcessID))
		i := int(h.Sum32() % uint32(m.cfg.Workers))
		queues[i] = append(queues[i], p)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := false
	for _, q := range queues {
		if len(q) == 0 {
			continue
		}
		wg.Go(func() {
			blocked := map[string]bool{}
			for _, p := range q {
				if blocked[p.c.ProcessID] {
					continue // a process's later rows wait for its failed one
				}
				if err := m.send(ctx, p.seq, p.c, p.trig); err != nil {
					if ctx.Err() != nil {
						return
					}
					m.cfg.Logger.Warn("process command not sent; retrying later", "process", m.name,
						"command", p.c.Name, "key", p.c.Key, "err", err)
					mu.Lock()
					failed = true
					mu.Unlock()
					blocked[p.c.ProcessID] = true
				}
			}
		})
	}
	wg.Wait()
	return len(all), failed, nil
}

// sendTimeout bounds one command's dispatch.
const sendTimeout = 30 * time.Second

// send dispatches one outbox row and deletes it. A refused command (a
// domain error) is deleted too, after OnRefused when set; any other error is
// returned and the row stays.
func (m *Manager) send(ctx context.Context, seq int64, c Command, trig trigger) error {
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	err := m.dispatch(sctx, c, command.Options{
		IdempotencyKey: c.Key,
		Caller:         caller.Caller{Actor: m.source, Organization: trig.tenant, CorrelationID: trig.correlationID},
		CausationID:    trig.causationID,
		Source:         m.source,
		SkipView:       true,
	})
	if err != nil && !Refused(err) {
		if _, uerr := m.cfg.Pool.Exec(context.WithoutCancel(ctx), `UPDATE process_outbox SET attempts = attempts + 1 WHERE seq = $1`, seq); uerr != nil {
			err = errors.Join(err, uerr)
		}
		return err
	}
	if err != nil {
		m.cfg.Logger.Info("process command refused", "process", m.name, "command", c.Name, "key", c.Key, "err", err)
	}
	if err != nil && m.refused != nil {
		refusal := trigger{id: fmt.Sprintf("refused:%d", seq), causationID: trig.causationID, correlationID: trig.correlationID, tenant: trig.tenant}
		return m.inStep(ctx, c.ProcessID, `DELETE FROM process_outbox WHERE seq = $1`, []any{seq}, refusal, m.refused(c, err))
	}
	if _, err := m.cfg.Pool.Exec(context.WithoutCancel(ctx), `DELETE FROM process_outbox WHERE seq = $1`, seq); err != nil {
		return fmt.Errorf("delete sent outbox row: %w", err)
	}
	return nil
}

// Refused reports whether err is a context's refusal of a command (a
// domain or input error, with an apperr code other than INTERNAL): sending
// it again would be refused again.
func Refused(err error) bool {
	code, ok := apperr.CodeOf(err)
	return ok && code != apperr.Internal
}

// inStep runs one step outside a batch, in one transaction: it locks the
// process's state, runs claim (a statement that must affect one row: the
// deadline or outbox row the step consumes; none means another run took it
// and nothing is done), runs st and stores its effects; then it wakes the
// dispatcher.
func (m *Manager) inStep(ctx context.Context, pid, claim string, args []any, trig trigger, st step) error {
	ctx = context.WithoutCancel(ctx)
	tx, err := m.cfg.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin process step: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	ch, err := m.load(ctx, tx, []string{pid})
	if err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, claim, args...)
	if err != nil {
		return fmt.Errorf("claim process step: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil
	}
	if err := m.run(ch, pid, trig, st); err != nil {
		return err
	}
	if err := m.write(ctx, tx, ch); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit process step: %w", err)
	}
	m.nudge()
	return nil
}

// deadlineLoop fires due deadlines every PollInterval until ctx ends.
func (m *Manager) deadlineLoop(ctx context.Context) {
	if m.deadline == nil {
		return
	}
	tick := time.NewTicker(m.cfg.PollInterval)
	defer tick.Stop()
	for {
		if _, err := m.FireDue(ctx); err != nil && ctx.Err() == nil {
			m.cfg.Logger.Error("process deadlines", "process", m.name, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// FireDue fires the deadlines due by the clock (at most 100 at a time),
// each in its own transaction, and returns how many it fired. The
// deadline loop of the active instance calls it; tests call it to step.
func (m *Manager) FireDue(ctx context.Context) (int, error) {
	if m.deadline == nil {
		return 0, nil
	}
	now := m.cfg.Now()
	rows, err := m.cfg.Pool.Query(ctx, `SELECT process_id, kind, deadline_id, causation_id, correlation_id, tenant
		FROM process_deadlines WHERE name = $1 AND due_at <= $2 ORDER BY due_at LIMIT 100`, m.name, now)
	if err != nil {
		return 0, fmt.Errorf("read due deadlines: %w", err)
	}
	type due struct {
		pid, kind string
		id        uuid.UUID
		trig      trigger
	}
	var ds []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.pid, &d.kind, &d.id, &d.trig.causationID, &d.trig.correlationID, &d.trig.tenant); err != nil {
			return 0, fmt.Errorf("read due deadlines: %w", err)
		}
		d.trig.id = "deadline:" + d.id.String()
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read due deadlines: %w", err)
	}
	for i, d := range ds {
		// The row may have moved (set again) or gone (cleared) since it was
		// read: claim exactly the one read.
		err := m.inStep(ctx, d.pid, `DELETE FROM process_deadlines WHERE name = $1 AND process_id = $2 AND kind = $3 AND deadline_id = $4`,
			[]any{m.name, d.pid, d.kind, d.id}, d.trig, m.deadline(d.kind, now))
		if err != nil {
			return i, fmt.Errorf("fire deadline %s of process %s: %w", d.kind, d.pid, err)
		}
	}
	return len(ds), nil
}
