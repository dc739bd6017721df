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
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/chronicle-es/chronicle/graph"
	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/database"
	"github.com/chronicle-es/chronicle/internal/datasubject"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/module"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/jackc/pgx/v5/pgxpool"
)

func main() {
	name := flag.String("projection", "", "projection to rebuild (one of: "+strings.Join(projectionNames(), ", ")+")")
	batch := flag.Int("batch", 0, "events per replay batch (0: the default, 10000)")
	lockTimeout := flag.Duration("lock-timeout", 0, "longest wait for the live tables' locks at the swap (0: the default, 2s)")
	flag.Parse()
	if err := run(*name, *batch, *lockTimeout); err != nil {
		fmt.Fprintln(os.Stderr, "rebuild:", err)
		os.Exit(1)
	}
}

// contexts returns the server's registry of bounded contexts (the same list
// the server runs), built on pool without an engine: only their projections
// are used.
func contexts(pool *pgxpool.Pool) (*module.Registry, error) {
	registry := module.NewRegistry(module.Deps{Pool: pool, Hub: live.NewHub()}, nil)
	_, err := graph.NewResolver(registry, nil)
	return registry, err
}

// projectionNames lists the projections that can be rebuilt.
func projectionNames() []string {
	registry, err := contexts(nil)
	if err != nil {
		return nil
	}
	var names []string
	for _, p := range registry.Projections() {
		names = append(names, p.Name())
	}
	return names
}

func run(name string, batch int, lockTimeout time.Duration) error {
	// The server's configuration (DATABASE_URL and the rest, from the
	// environment); a rebuild needs no token verification.
	cfg, err := config.Parse()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pool, err := database.Open(ctx, cfg.DatabaseURL, 4)
	if err != nil {
		return err
	}
	defer pool.Close()
	registry, err := contexts(pool)
	if err != nil {
		return err
	}
	p, ok := registry.Projection(name)
	if !ok {
		return fmt.Errorf("unknown projection %q (-projection: one of %s)", name, strings.Join(projectionNames(), ", "))
	}

	// Read models that show personal data open it with the server's
	// master key; without it every sealed value would read as erased.
	var opener projection.Opener
	if _, personal := p.(projection.PersonalReader); personal {
		if cfg.MasterKey == "" {
			return fmt.Errorf("projection %s shows personal data: set CHRONICLE_MASTER_KEY to the server's", name)
		}
		master, err := datasubject.ParseMasterKey(cfg.MasterKey)
		if err != nil {
			return fmt.Errorf("CHRONICLE_MASTER_KEY: %w", err)
		}
		opener = datasubject.NewKeys(master)
	}

	var last time.Time
	res, err := projection.Rebuild(ctx, pool, p, projection.RebuildOptions{
		Opener:      opener,
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
