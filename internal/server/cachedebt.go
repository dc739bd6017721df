package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/chronicle-es/chronicle/internal/readcache"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// cacheDebtChannel is the PostgreSQL NOTIFY channel on which an instance
// that lost a read-cache invalidation (it could not reach Redis) tells the
// others to distrust their caches (see package readcache). NOTIFY is scoped
// to the database, so one deployment's instances share it.
const cacheDebtChannel = "chronicle_cache_debt"

// cacheDebtNotifyTimeout bounds the NOTIFY of a lost invalidation.
const cacheDebtNotifyTimeout = time.Second

// notifyCacheDebt returns the readcache.WithOnLost hook: a NOTIFY on pool,
// bounded by cacheDebtNotifyTimeout even if the caller's context has ended
// (the write it follows has committed). A failure is logged: the other
// instances then rely on this one's epoch bump once it reaches Redis.
func notifyCacheDebt(pool *pgxpool.Pool, logger *slog.Logger) func(context.Context) {
	return func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cacheDebtNotifyTimeout)
		defer cancel()
		if _, err := pool.Exec(ctx, `SELECT pg_notify($1, '')`, cacheDebtChannel); err != nil {
			logger.WarnContext(ctx, "read cache: telling the other instances of a lost invalidation failed", "err", err)
		}
	}
}

// listenCacheDebt makes cache distrust itself whenever an instance reports
// a lost invalidation, and whenever its listening connection is (re)made,
// since notifications sent meanwhile are lost. It holds one connection of
// its own (not from pool), reconnecting with backoff from 100 ms to 5 s,
// until ctx ends.
func listenCacheDebt(ctx context.Context, pool *pgxpool.Pool, cache *readcache.Cache, logger *slog.Logger) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := listenCacheDebtOnce(ctx, pool, cache, func() { backoff = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		logger.Warn("read cache: lost-invalidation listener failed", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func listenCacheDebtOnce(ctx context.Context, pool *pgxpool.Pool, cache *readcache.Cache, connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+cacheDebtChannel); err != nil {
		return err
	}
	connected()
	cache.Distrust()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		cache.Distrust()
	}
}
