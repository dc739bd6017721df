package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// snapshotEvery is SNAPSHOT_EVERY on the snapshot item's server with
// snapshots (the default the server ships with).
const snapshotEvery = 100

// snapshotSide is the snapshot item on one server: creditAccount on fresh
// accounts, and on one account whose stream holds the item's events.
type snapshotSide struct {
	Fresh, Long latencyStats
}

// snapshotResult is the snapshot item (issue 12): a command on a stream of
// Events events with snapshots (SNAPSHOT_EVERY=Every) and without
// (SNAPSHOT_EVERY=0), each beside a command on a fresh stream of the same
// server, one client, in one run.
type snapshotResult struct {
	Events, Every int
	With          snapshotSide
	Without       snapshotSide
}

// runSnapshots measures the snapshot item: one server at a time (so that
// neither loads the other's cores), first with snapshots, then without.
func runSnapshots(ctx context.Context, p plan, bin serverBinary, work string, prof *profiler) (*snapshotResult, error) {
	res := &snapshotResult{Events: p.snapshotStream, Every: snapshotEvery}
	for _, side := range []struct {
		name  string
		every int
		out   *snapshotSide
	}{{"snapshots", snapshotEvery, &res.With}, {"nosnapshots", 0, &res.Without}} {
		logf("snapshots: creditAccount on a stream of %d events, SNAPSHOT_EVERY=%d, beside %d fresh accounts", p.snapshotStream, side.every, p.freshAccounts)
		// The state cache off on both: with it a command on the long
		// stream reads nothing after the first, and this item would
		// measure the cache twice (item 1's long stream measures it).
		srv, err := startServer(ctx, bin, work, "SNAPSHOT_EVERY="+strconv.Itoa(side.every), "AGGREGATE_CACHE_SIZE=0")
		if err != nil {
			return nil, err
		}
		err = measureSnapshotSide(ctx, p, srv, side.name, side.every > 0, prof, side.out)
		srv.stop()
		if err != nil {
			return nil, fmt.Errorf("snapshots (%s): %w", side.name, err)
		}
	}
	return res, nil
}

// measureSnapshotSide seeds srv's long stream (untimed), makes sure its
// snapshot is written when snapshots are on, and measures the fresh
// accounts, then the long stream.
func measureSnapshotSide(ctx context.Context, p plan, srv *serverProcess, name string, snapshots bool, prof *profiler, out *snapshotSide) error {
	cl := newClient(srv.baseURL)
	defer cl.close()
	longID, err := seedLongStream(ctx, srv, cl, p.snapshotStream)
	if err != nil {
		return err
	}
	if err := awaitProjected(ctx, srv, longID, p.snapshotStream); err != nil {
		return err
	}
	if snapshots {
		// The first command folds the whole stream and offers its
		// snapshot, written in the background; the measure starts once
		// it is there, as on a server that has been running.
		if err := credit(ctx, cl, []string{longID}, false); err != nil {
			return err
		}
		if err := awaitSnapshot(ctx, srv, longID); err != nil {
			return err
		}
	}
	fresh, err := openAccounts(ctx, srv, p.freshAccounts)
	if err != nil {
		return err
	}
	measure := func(scenario string, ids []string) (latencyStats, error) {
		h, cpu := scenarioHooks(ctx, scenario, srv, prof)
		st := closedLoop(ctx, 1, prof.window(scenario, p.shortPoint), h, func(ctx context.Context) error {
			return credit(ctx, cl, ids, true)
		})
		st.CPU = *cpu
		if err := prof.wait(logf); err != nil {
			return st, err
		}
		logf("  %-22s %8.1f/s  p50 %s  p99 %s  errors %d %s", scenario, st.PerSecond, ms(st.P50), ms(st.P99), st.Errors, st.FirstError)
		return st, ctx.Err()
	}
	if out.Fresh, err = measure(name+"-fresh-1", fresh); err != nil {
		return err
	}
	out.Long, err = measure(name+"-long-1", []string{longID})
	return err
}

// awaitProjected waits (at most 60 s) until the accounts projection of srv
// has caught up with the seeded stream of account id (version at least
// version), so that the commands measured do not wait for the seeding's
// projection.
func awaitProjected(ctx context.Context, srv *serverProcess, id string, version int) error {
	return poll(ctx, 60*time.Second, fmt.Sprintf("account %s projected at version %d", id, version), func() (bool, error) {
		var out struct {
			Account struct {
				Version int `json:"version"`
			} `json:"account"`
		}
		err := srv.graphql(ctx, `query($id: ID!) { account(id: $id) { version } }`, map[string]any{"id": id}, &out)
		return err == nil && out.Account.Version >= version, err
	})
}

// poll calls done every 50 ms until it reports true (nil), fails, ctx
// ends, or timeout passes (an error naming what).
func poll(ctx context.Context, timeout time.Duration, what string, done func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %s after %s", what, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// awaitSnapshot waits (at most 30 s) until srv has a snapshot of stream id.
func awaitSnapshot(ctx context.Context, srv *serverProcess, id string) error {
	conn, err := pgx.Connect(ctx, srv.dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return poll(ctx, 30*time.Second, "snapshot of "+id, func() (bool, error) {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM snapshots WHERE stream_id = $1`, id).Scan(&n); err != nil {
			return false, fmt.Errorf("look for the snapshot of %s: %w", id, err)
		}
		return n > 0, nil
	})
}
