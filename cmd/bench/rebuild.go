package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/chronicle-es/chronicle/internal/account"
	"github.com/chronicle-es/chronicle/internal/database"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// RebuildResult is what measureRebuild measured: Events stored events
// replayed into fresh read-model tables and swapped in, in Seconds of wall
// time, so EventsPerSecond = Events / Seconds.
type RebuildResult struct {
	Events          int
	Seconds         float64
	EventsPerSecond float64
}

// Shape of the seeded history: one account per eventsPerAccount events, so
// 1,000,000 events are 10,000 accounts, each opened, then credited and
// debited in turn with the other accounts' operations in between, as a
// running system would have stored them.
const (
	eventsPerAccount = 100
	// seedChunk events are COPYed per transaction: the store's events then
	// span several transaction ids, as appended ones do.
	seedChunk = 100_000
)

// measureRebuild creates a database of its own from adminDatabaseURL (any
// database on the server; only the server and credentials are used),
// migrates it, stores `events` account events, and times the rebuild of the
// accounts projection over them (projection.Rebuild: replay from zero into
// scratch tables, indexes, catch-up, swap). The database is dropped
// afterwards, also on error. Seeding is not timed. logf receives progress.
func measureRebuild(ctx context.Context, adminDatabaseURL string, events int, logf func(format string, args ...any)) (RebuildResult, error) {
	if events <= 0 {
		return RebuildResult{}, fmt.Errorf("rebuild benchmark: events = %d, want > 0", events)
	}
	dbName := fmt.Sprintf("chronicle_bench_rebuild_%d", time.Now().UnixNano())
	if err := adminExec(ctx, adminDatabaseURL, "CREATE DATABASE "+dbName); err != nil {
		return RebuildResult{}, err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := adminExec(dctx, adminDatabaseURL, "DROP DATABASE IF EXISTS "+dbName+" WITH (FORCE)"); err != nil {
			logf("rebuild: drop %s: %v", dbName, err)
		}
	}()
	dbURL, err := withDatabase(adminDatabaseURL, dbName)
	if err != nil {
		return RebuildResult{}, err
	}
	pool, err := database.Open(ctx, dbURL, 4)
	if err != nil {
		return RebuildResult{}, err
	}
	defer pool.Close()
	if err := database.Migrate(ctx, pool); err != nil {
		return RebuildResult{}, err
	}

	seedStart := time.Now()
	if err := seedAccountEvents(ctx, pool, events); err != nil {
		return RebuildResult{}, fmt.Errorf("seed %d events: %w", events, err)
	}
	logf("rebuild: stored %d account events in %.1f s", events, time.Since(seedStart).Seconds())

	lastLog := time.Now()
	res, err := projection.Rebuild(ctx, pool, account.Projection{}, projection.RebuildOptions{
		Progress: func(p projection.RebuildProgress) {
			if p.Phase != projection.PhaseReplay || time.Since(lastLog) >= 2*time.Second {
				lastLog = time.Now()
				logf("rebuild: %s, %d events, %.1f s", p.Phase, p.Events, p.Elapsed.Seconds())
			}
		},
	})
	if err != nil {
		return RebuildResult{}, err
	}
	if res.Events != int64(events) {
		return RebuildResult{}, fmt.Errorf("rebuild replayed %d events, %d stored", res.Events, events)
	}
	secs := res.Duration.Seconds()
	return RebuildResult{Events: events, Seconds: secs, EventsPerSecond: float64(events) / secs}, nil
}

// seedAccountEvents stores n account events with COPY, shaped exactly as the
// account package encodes them (its event types marshalled to JSON), plus
// the streams rows that appends would have left.
func seedAccountEvents(ctx context.Context, pool *pgxpool.Pool, n int) error {
	gen := newAccountHistory(max(1, n/eventsPerAccount), n)
	cols := []string{"event_id", "stream_id", "stream_type", "version", "type", "schema_version", "data", "metadata", "recorded_at"}
	for done := 0; done < n; {
		chunk := min(seedChunk, n-done)
		src := &historySource{gen: gen, left: chunk}
		if _, err := pool.CopyFrom(ctx, pgx.Identifier{"events"}, cols, src); err != nil {
			return fmt.Errorf("copy events: %w", err)
		}
		done += chunk
	}
	_, err := pool.Exec(ctx, `INSERT INTO streams (stream_id, stream_type, version)
		SELECT stream_id, min(stream_type), max(version) FROM events GROUP BY stream_id`)
	if err != nil {
		return fmt.Errorf("insert streams: %w", err)
	}
	return nil
}

// accountHistory generates a plausible history: accounts opened evenly
// through it, and operations on random open accounts in between, debits
// only when the balance covers them.
type accountHistory struct {
	rng      *rand.Rand
	accounts []historyAccount
	toOpen   int // accounts still to open
	left     int // events still to generate
	at       time.Time
	actor    string
}

type historyAccount struct {
	id      uuid.UUID
	version int64
	balance int64
}

func newAccountHistory(accounts, events int) *accountHistory {
	return &accountHistory{
		rng:      rand.New(rand.NewPCG(1, 2)),
		accounts: make([]historyAccount, 0, accounts),
		toOpen:   accounts,
		left:     events,
		at:       time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		actor:    "user:bench",
	}
}

var descriptions = []string{"salary", "groceries", "rent", "transfer from savings", "card payment", "refund", ""}

// next returns the next event of the history and its account's row.
func (h *accountHistory) next() (*historyAccount, historyEvent, error) {
	h.at = h.at.Add(37 * time.Millisecond)
	open := h.toOpen > 0 && (len(h.accounts) == 0 || h.toOpen >= h.left || h.rng.IntN(eventsPerAccount) == 0)
	h.left--
	if open {
		h.toOpen--
		id, err := uuid.NewV7()
		if err != nil {
			return nil, historyEvent{}, err
		}
		h.accounts = append(h.accounts, historyAccount{id: id, balance: int64(h.rng.IntN(10_000))})
		a := &h.accounts[len(h.accounts)-1]
		return a, historyEvent{typ: account.EventAccountOpened, event: account.AccountOpened{
			AccountID:      id.String(),
			Organization:   fmt.Sprintf("org-%d", len(h.accounts)%50),
			Owner:          fmt.Sprintf("Owner %d", len(h.accounts)),
			Currency:       "EUR",
			InitialBalance: a.balance,
		}}, nil
	}
	a := &h.accounts[h.rng.IntN(len(h.accounts))]
	amount := int64(1 + h.rng.IntN(50_000))
	desc := descriptions[h.rng.IntN(len(descriptions))]
	if amount <= a.balance && h.rng.IntN(5) < 2 {
		a.balance -= amount
		return a, historyEvent{typ: account.EventAccountDebited, event: account.AccountDebited{AccountID: a.id.String(), Amount: amount, Description: desc}}, nil
	}
	a.balance += amount
	return a, historyEvent{typ: account.EventAccountCredited, event: account.AccountCredited{AccountID: a.id.String(), Amount: amount, Description: desc}}, nil
}

// historyEvent is one generated event: its stored type name and its value.
type historyEvent struct {
	typ   string
	event any
}

// historySource feeds `left` events of gen to CopyFrom.
type historySource struct {
	gen  *accountHistory
	left int
	row  []any
	err  error
}

func (s *historySource) Next() bool {
	if s.left == 0 || s.err != nil {
		return false
	}
	s.left--
	a, e, err := s.gen.next()
	if err != nil {
		s.err = err
		return false
	}
	a.version++
	data, err := json.Marshal(e.event)
	if err != nil {
		s.err = err
		return false
	}
	eventID, err := uuid.NewV7()
	if err != nil {
		s.err = err
		return false
	}
	meta, err := json.Marshal(eventstore.Metadata{Actor: s.gen.actor, CorrelationID: uuid.NewString(), CommandID: uuid.NewString()})
	if err != nil {
		s.err = err
		return false
	}
	version, _ := account.Type.Events.Version(e.typ)
	s.row = []any{eventID, a.id, account.Type.StreamType, a.version, e.typ, version, data, meta, s.gen.at}
	return true
}

func (s *historySource) Values() ([]any, error) { return s.row, nil }
func (s *historySource) Err() error             { return s.err }
