package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chronicle-es/chronicle/internal/account"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/jackc/pgx/v5"
)

// lagResult is item 3: commit-to-projected lag under an open-loop rate of
// credits.
type lagResult struct {
	TargetRate int
	// Achieved is the rate of credits completed in the measured window.
	Achieved float64
	// Dropped counts the ticks skipped because maxInFlight requests were
	// already waiting (the server could not keep up).
	Dropped int
	// Events is how many commit notifications (each announcing one or
	// more commits) were matched to a checkpoint; Unprojected how many
	// were not projected within the wait after the run.
	Events, Unprojected int
	P50, P99, Max       time.Duration
	// Mutations is the HTTP latency of the credits sent in the window.
	Mutations latencyStats
	// CPU is where the CPU went while the credits were sent.
	CPU cpuUse
}

// maxInFlight bounds the open-loop generator: ticks beyond it are dropped
// and counted rather than piling up goroutines.
const maxInFlight = 512

// notice is one notification with its arrival time.
type notice struct {
	at time.Time
	cp eventstore.Checkpoint // for a checkpoint notice; Position only for a commit
}

// lagListener records, on one connection, the store's commit notifications
// (payload: the append's last position) and the accounts projection's
// checkpoint notifications ("accounts:txid:position"), with arrival times.
type lagListener struct {
	conn        *pgx.Conn
	mu          sync.Mutex
	commits     []notice
	checkpoints []notice
	latest      atomic.Int64 // highest checkpoint position seen
}

func listenForLag(ctx context.Context, dbURL string) (*lagListener, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	for _, ch := range []string{eventstore.NotifyChannel, projection.CheckpointChannel} {
		if _, err := conn.Exec(ctx, "LISTEN "+ch); err != nil {
			conn.Close(ctx)
			return nil, fmt.Errorf("listen %s: %w", ch, err)
		}
	}
	return &lagListener{conn: conn}, nil
}

// run records notifications until ctx ends.
func (l *lagListener) run(ctx context.Context) error {
	for {
		n, err := l.conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		at := time.Now()
		switch n.Channel {
		case eventstore.NotifyChannel:
			pos, err := strconv.ParseInt(n.Payload, 10, 64)
			if err != nil {
				return fmt.Errorf("commit notice %q: %w", n.Payload, err)
			}
			l.mu.Lock()
			l.commits = append(l.commits, notice{at: at, cp: eventstore.Checkpoint{Position: pos}})
			l.mu.Unlock()
		case projection.CheckpointChannel:
			name, cp, err := parseCheckpoint(n.Payload)
			if err != nil {
				return err
			}
			if name != account.ProjectionName {
				continue
			}
			l.mu.Lock()
			l.checkpoints = append(l.checkpoints, notice{at: at, cp: cp})
			l.mu.Unlock()
			l.latest.Store(cp.Position)
		}
	}
}

// parseCheckpoint parses "name:transaction_id:position" (the name may
// contain ':').
func parseCheckpoint(payload string) (string, eventstore.Checkpoint, error) {
	var cp eventstore.Checkpoint
	rest, pos, ok1 := cutLast(payload)
	name, txid, ok2 := cutLast(rest)
	var err1, err2 error
	cp.Position, err1 = strconv.ParseInt(pos, 10, 64)
	cp.TransactionID, err2 = strconv.ParseUint(txid, 10, 64)
	if !ok1 || !ok2 || err1 != nil || err2 != nil {
		return "", cp, fmt.Errorf("malformed checkpoint notice %q", payload)
	}
	return name, cp, nil
}

func cutLast(s string) (before, after string, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// runLag sends credits to random accounts of ids at rate per second, open
// loop (each at its scheduled time, whatever the previous ones are doing),
// for w, and measures, for each commit in the measured part, the time from
// its commit notification to the first accounts checkpoint notification
// that covers it. Both notifications arrive on one connection, so the
// delivery delay on the way to the bench cancels out.
func runLag(ctx context.Context, srv *serverProcess, cl *client, ids []string, rate int, w window, h hooks) (lagResult, error) {
	res := lagResult{TargetRate: rate}
	l, err := listenForLag(ctx, srv.dbURL)
	if err != nil {
		return res, err
	}
	defer l.conn.Close(context.WithoutCancel(ctx))
	listenCtx, stopListening := context.WithCancel(ctx)
	listenErr := make(chan error, 1)
	go func() { listenErr <- l.run(listenCtx) }()
	stopped := false
	stop := func() error {
		if !stopped {
			stopped = true
			stopListening()
			return <-listenErr
		}
		return nil
	}
	defer stop()

	start := time.Now()
	from, to := start.Add(w.Warmup), start.Add(w.Warmup+w.Measure)
	interval := time.Second / time.Duration(rate)
	var (
		wg       sync.WaitGroup
		inFlight atomic.Int64
		mu       sync.Mutex
		samples  []time.Duration
		errs     int
		firstErr string
	)
	measuring := false
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * interval)
		if !at.Before(to) || ctx.Err() != nil {
			break
		}
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		if !measuring && !at.Before(from) {
			measuring = true
			h.callBegin()
		}
		if inFlight.Load() >= maxInFlight {
			if measuring {
				res.Dropped++
			}
			continue
		}
		inFlight.Add(1)
		wg.Go(func() {
			defer inFlight.Add(-1)
			t0 := time.Now()
			err := credit(ctx, cl, ids, false)
			t1 := time.Now()
			if t0.Before(from) {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if errs == 0 {
					firstErr = err.Error()
				}
				errs++
				return
			}
			samples = append(samples, t1.Sub(t0))
		})
	}
	wg.Wait()
	h.callEnd()
	res.Mutations = summarize(samples, errs, firstErr, w.Measure)

	// Let the projection catch up with the last commit, then stop listening.
	l.mu.Lock()
	var last int64
	if n := len(l.commits); n > 0 {
		last = l.commits[n-1].cp.Position
	}
	l.mu.Unlock()
	for deadline := time.Now().Add(10 * time.Second); l.latest.Load() < last && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if err := stop(); err != nil {
		return res, fmt.Errorf("listen: %w", err)
	}

	var commits []notice
	for _, c := range l.commits {
		if !c.at.Before(from) && !c.at.After(to) {
			commits = append(commits, c)
		}
	}
	if len(commits) == 0 {
		return res, errors.New("no commits in the measured window")
	}
	// The store's notifications are coalesced (at most one per
	// eventstore.MinNotifyInterval, announcing the highest position of the
	// appends that committed meanwhile): the rate is the credits completed.
	res.Achieved = float64(len(samples)) / w.Measure.Seconds()
	if err := fillTransactionIDs(ctx, srv.dbURL, commits); err != nil {
		return res, err
	}
	var lags []time.Duration
	for _, c := range commits {
		// Checkpoints only move forward, and arrive in commit order.
		i, _ := slices.BinarySearchFunc(l.checkpoints, c.cp, func(n notice, t eventstore.Checkpoint) int {
			return n.cp.Compare(t)
		})
		if i == len(l.checkpoints) {
			res.Unprojected++
			continue
		}
		lags = append(lags, l.checkpoints[i].at.Sub(c.at))
	}
	res.Events = len(lags)
	slices.Sort(lags)
	res.P50, res.P99, res.Max = sortedPercentile(lags, 0.50), sortedPercentile(lags, 0.99), sortedPercentile(lags, 1)
	return res, nil
}

// fillTransactionIDs completes each commit's checkpoint with its
// transaction id (the notification carries only the position), since
// projections advance in (transaction_id, position) order.
func fillTransactionIDs(ctx context.Context, dbURL string, commits []notice) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	positions := make([]int64, len(commits))
	for i, c := range commits {
		positions[i] = c.cp.Position
	}
	rows, err := conn.Query(ctx, `SELECT position, transaction_id::text FROM events WHERE position = ANY($1)`, positions)
	if err != nil {
		return err
	}
	txids := make(map[int64]uint64, len(commits))
	for rows.Next() {
		var (
			pos  int64
			txid string
		)
		if err := rows.Scan(&pos, &txid); err != nil {
			return err
		}
		if txids[pos], err = strconv.ParseUint(txid, 10, 64); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range commits {
		commits[i].cp.TransactionID = txids[commits[i].cp.Position]
	}
	return nil
}
