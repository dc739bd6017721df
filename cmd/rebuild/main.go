// Command rebuild rebuilds a projection's read model from the whole event
// log, while servers keep serving: it replays the log from position zero
// into scratch tables, then swaps them in atomically with their checkpoint
// (projection.Rebuild). The live runner, in whichever server runs it,
// continues from the rebuilt checkpoint, and every server's subscribers
// read again.
//
//	DATABASE_URL=postgres://... go run ./cmd/rebuild -projection accounts
//
// It prints its progress every second and, at the end, the events replayed
// and the events per second. A second rebuild of the same projection while
// one runs is refused; an interrupted one leaves the live read model as it
// was (run it again).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/chronicle-es/chronicle/internal/account"
	"github.com/chronicle-es/chronicle/internal/database"
	"github.com/chronicle-es/chronicle/internal/payment"
	"github.com/chronicle-es/chronicle/internal/projection"
)

// defaultDatabaseURL matches internal/config's default.
const defaultDatabaseURL = "postgres://postgres:postgres@127.0.0.1:5432/chronicle?sslmode=disable"

func main() {
	name := flag.String("projection", "", "projection to rebuild (one of: "+strings.Join(slices.Sorted(maps.Keys(projections())), ", ")+")")
	batch := flag.Int("batch", 0, "events per replay batch (0: the default, 10000)")
	lockTimeout := flag.Duration("lock-timeout", 0, "longest wait for the live tables' locks at the swap (0: the default, 2s)")
	flag.Parse()
	if err := run(*name, *batch, *lockTimeout); err != nil {
		fmt.Fprintln(os.Stderr, "rebuild:", err)
		os.Exit(1)
	}
}

// projections are the projections this command can rebuild, by name.
func projections() map[string]projection.Projection {
	return map[string]projection.Projection{
		account.ProjectionName: account.Projection{},
		payment.ProjectionName: payment.Projection{},
	}
}

func run(name string, batch int, lockTimeout time.Duration) error {
	p, ok := projections()[name]
	if !ok {
		return fmt.Errorf("unknown projection %q (-projection)", name)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		url = defaultDatabaseURL
	}
	pool, err := database.Open(ctx, url, 4)
	if err != nil {
		return err
	}
	defer pool.Close()

	var last time.Time
	res, err := projection.Rebuild(ctx, pool, p, projection.RebuildOptions{
		BatchSize:   batch,
		LockTimeout: lockTimeout,
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Progress: func(pr projection.RebuildProgress) {
			if pr.Phase == projection.PhaseReplay || pr.Phase == projection.PhaseCatchUp {
				if time.Since(last) < time.Second {
					return
				}
			}
			last = time.Now()
			rate := 0.0
			if s := pr.Elapsed.Seconds(); s > 0 {
				rate = float64(pr.Events) / s
			}
			fmt.Printf("%6.1fs  %-8s  %10d events  %8.0f events/s\n", pr.Elapsed.Seconds(), pr.Phase, pr.Events, rate)
		},
	})
	if errors.Is(err, projection.ErrRebuildInProgress) {
		return fmt.Errorf("%w (wait for it to finish)", err)
	}
	if err != nil {
		return err
	}
	fmt.Printf("rebuilt %s: %d events in %.2f s (%.0f events/s; replay %.2f s, indexes %.2f s, swap %.2f s), checkpoint %d/%d\n",
		name, res.Events, res.Duration.Seconds(), float64(res.Events)/res.Duration.Seconds(),
		res.Replay.Seconds(), res.Index.Seconds(), res.Swap.Seconds(), res.Checkpoint.TransactionID, res.Checkpoint.Position)
	return nil
}
