// Package database opens the PostgreSQL pool and applies the embedded
// migrations (pressly/goose).
package database

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/chronicle-es/chronicle/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Open connects a pool to url (a libpq URL or DSN) and pings it. Every
// connection of the pool encodes and scans uuid.UUID natively (RegisterUUID).
// maxConns <= 0 keeps pgxpool's default (max(4, GOMAXPROCS)).
func Open(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		RegisterUUID(conn.TypeMap())
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}
	return pool, nil
}

// Migrate applies every pending migration. Concurrent callers (several
// instances starting at once) are serialised by a PostgreSQL session lock.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := ApplyMigrations(ctx, pool)
	return err
}

// Migrations says what ApplyMigrations did.
type Migrations struct {
	// Version is the schema's version after the migrations (the number of
	// the last one applied, now or before).
	Version int64
	// Applied lists the versions applied by this call (none when the
	// schema was up to date).
	Applied []int64
}

// ApplyMigrations applies every pending migration, as Migrate does, and
// says which it applied and the version the schema is at.
func ApplyMigrations(ctx context.Context, pool *pgxpool.Pool) (Migrations, error) {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return Migrations{}, fmt.Errorf("migration lock: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithSessionLocker(locker))
	if err != nil {
		return Migrations{}, fmt.Errorf("load migrations: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return Migrations{}, fmt.Errorf("apply migrations: %w", err)
	}
	var out Migrations
	for _, r := range results {
		out.Applied = append(out.Applied, r.Source.Version)
	}
	if out.Version, err = provider.GetDBVersion(ctx); err != nil {
		return out, fmt.Errorf("read the schema version: %w", err)
	}
	return out, nil
}

// OpenRetrying opens a pool as Open does, retrying with exponential
// backoff (100 ms doubling to 2 s) while PostgreSQL cannot be reached, for
// at most timeout (0: one attempt), so that the server and its database
// may start in any order. Each failed attempt is logged; the last error
// names DATABASE_URL (its host, port and database, not its password).
// A malformed URL is not retried.
func OpenRetrying(ctx context.Context, url string, maxConns int32, timeout time.Duration, logger *slog.Logger) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	deadline := time.Now().Add(timeout)
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		pool, err := Open(ctx, url, maxConns)
		if err == nil {
			return pool, nil
		}
		wait := min(backoff, time.Until(deadline))
		if wait <= 0 || ctx.Err() != nil {
			return nil, fmt.Errorf("connect to PostgreSQL at DATABASE_URL (%s) after %d attempts in %s: %w", where, attempt, timeout, err)
		}
		logger.WarnContext(ctx, "PostgreSQL not reachable yet; retrying", "database", where, "attempt", attempt, "retry_in", wait,
			"gives_up_in", time.Until(deadline).Round(time.Millisecond), "err", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to PostgreSQL at DATABASE_URL (%s): %w", where, ctx.Err())
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}
