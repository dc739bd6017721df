// Package server assembles a Chronicle server from its parts: database and
// migrations, event store, projection engine, application services and the
// HTTP/GraphQL handler. server.go (package main) only reads the config and
// calls Serve; tests start whole servers the same way.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/chronicle-es/chronicle/graph"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/database"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/metrics"
	"github.com/chronicle-es/chronicle/internal/module"
	"github.com/chronicle-es/chronicle/internal/playground"
	"github.com/chronicle-es/chronicle/internal/process"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/chronicle-es/chronicle/internal/readcache"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// projectionPoolSize bounds the projection engine's own pool: each runner
// uses one connection at a time (its lock and the listener have dedicated
// connections outside the pool).
const projectionPoolSize = 4

// metricsQueryTimeout bounds the PostgreSQL queries of one /metrics scrape.
const metricsQueryTimeout = 2 * time.Second

// Server is one Chronicle instance.
type Server struct {
	cfg    config.Config
	logger *slog.Logger
	pool   *pgxpool.Pool
	// projectionPool serves the projection engine only.
	projectionPool *pgxpool.Pool
	engine         *projection.Engine
	// fanout carries the projections' updates to the subscriptions, through
	// Redis when redis is set (then it is closed at the end of Serve).
	fanout   *live.Fanout
	redis    *redis.Client
	resolver *graph.Resolver
	streams  *streams
	handler  http.Handler
}

// New connects to the database, applies the migrations and builds the
// server. It starts nothing: Serve does.
func New(ctx context.Context, cfg config.Config, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	authn, err := newAuthenticator(ctx, cfg)
	if err != nil {
		return nil, err
	}
	pool, err := database.Open(ctx, cfg.DatabaseURL, cfg.DatabaseMaxConns)
	if err != nil {
		return nil, err
	}
	if err := database.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	// Projections get a pool of their own, so that a burst of requests
	// queueing for connections cannot starve the runners that the same
	// requests are waiting on (read-your-writes).
	projectionPool, err := database.Open(ctx, cfg.DatabaseURL, projectionPoolSize)
	if err != nil {
		pool.Close()
		return nil, err
	}
	// Metrics are counted whether or not /metrics is served (a counter
	// costs nanoseconds): the parts that register with them need not care.
	meter := metrics.New()
	store := eventstore.New(pool, eventstore.WithAppendObserver(meter.EventsAppended))
	var redisClient *redis.Client
	closeAll := func() {
		pool.Close()
		projectionPool.Close()
		if redisClient != nil {
			_ = redisClient.Close()
		}
	}

	// Live updates: the projections offer each committed batch to the
	// fanout, which rings the subscriptions of every instance.
	var broker live.Broker = live.NewMemoryBroker()
	if cfg.RedisURL != "" {
		opts, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		channel := cfg.RedisChannel
		if channel == "" {
			channel = "chronicle:" + pool.Config().ConnConfig.Database + ":updates"
		}
		redisClient = redis.NewClient(opts)
		broker = live.NewRedisBroker(redisClient, channel, logger)
	}
	// The read cache (with Redis only) is invalidated before an update is
	// published, so subscribers rung by it never read an older entry.
	var cache *readcache.Cache
	if redisClient != nil {
		cache = readcache.New(redisClient, "chronicle:"+pool.Config().ConnConfig.Database+":cache:", cfg.CacheTTL, meter, logger)
		broker = readcache.NewInvalidatingBroker(cache, broker, logger)
	}
	fanout := live.NewFanout(broker, logger)

	engine, err := projection.NewEngine(projectionPool, projection.Config{
		BatchSize:         cfg.ProjectionBatchSize,
		PollInterval:      cfg.ProjectionPollInterval,
		LockRetryInterval: cfg.ProjectionLockRetry,
		OnUpdate:          fanout.Offer,
		// After a rebuild any row may have changed: cached entries of the
		// projection go, and every subscriber re-reads.
		OnRebuild: func(u projection.Update) {
			purgeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := cache.Purge(purgeCtx, u.Projection); err != nil {
				logger.Error("read cache purge after a rebuild failed", "projection", u.Projection, "err", err)
			}
			fanout.Hub.RingAll()
		},
		Logger: logger,
	})
	if err != nil {
		closeAll()
		return nil, err
	}
	// The bounded contexts register their projections with the engine as
	// the resolver builds them (graph.NewResolver holds the one list).
	registry := module.NewRegistry(module.Deps{
		Pool:  pool,
		Store: store,
		Commands: command.Deps{
			Store:    store,
			Waiter:   engine,
			Wait:     cfg.ReadYourWritesTimeout,
			Pipeline: command.NewPipeline(meter.CommandDecorator(), command.Logging(logger)),
			Logger:   logger,
		},
		Cache:  cache,
		Hub:    fanout.Hub,
		Logger: logger,
		// Process managers send their outbox and fire deadlines on the
		// main pool, like the mutations whose commands they send.
		Process:  process.Config{Pool: pool, PollInterval: cfg.ProjectionPollInterval, Logger: logger},
		Settings: cfg,
	}, engine)
	resolver, err := graph.NewResolver(registry, logger)
	if err != nil {
		closeAll()
		return nil, err
	}
	gql := graph.NewHandler(resolver, graph.Limits{
		Complexity:    cfg.ComplexityLimit,
		Depth:         cfg.DepthLimit,
		Introspection: cfg.Introspection,
	}, graph.Streaming{
		KeepAlive:      cfg.WSKeepAlive,
		OriginPatterns: cfg.AllowedOrigins,
		Init:           websocketInit(authn),
	}, logger, meter.CommandExtension())

	s := &Server{
		cfg: cfg, logger: logger, pool: pool, projectionPool: projectionPool, engine: engine,
		fanout: fanout, redis: redisClient, resolver: resolver, streams: newStreams(cfg.StreamWriteTimeout),
	}
	mux := http.NewServeMux()
	mux.Handle("/query", withCORS(cfg.AllowedOrigins, s.streams.middleware(
		withRequestLimits(cfg.MaxRequestBytes, withCaller(authn, withValidUTF8(gql))))))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", s.ready)
	if cfg.MetricsEnabled {
		// Unauthenticated, like /healthz: not to be exposed publicly.
		meter.WatchSubscriptions(fanout.Hub.Len)
		meter.WatchDatabase(pool, metricsQueryTimeout, logger)
		meter.Registry().MustRegister(process.NewCollector(pool, metricsQueryTimeout, logger))
		mux.Handle("GET /metrics", meter.Handler(logger))
	}
	if cfg.Playground {
		mux.Handle("GET /{$}", playground.Handler("Chronicle", "/query", "/playground/"))
		mux.Handle("GET /playground/", playground.Assets("/playground/"))
		// Browsers ask for it on every page load; there is none.
		mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	}
	s.handler = mux
	return s, nil
}

// Handler returns the HTTP handler (for tests that serve it themselves).
func (s *Server) Handler() http.Handler { return s.handler }

// Pool returns the server's database pool.
func (s *Server) Pool() *pgxpool.Pool { return s.pool }

// Serve runs the projections and the live-update fanout and serves HTTP on
// ln until ctx is cancelled, then shuts down gracefully: it stops accepting
// connections, ends the subscription streams (WebSocket and SSE) at once,
// lets in-flight requests (and so in-flight commands) finish, waits for the
// streams and their subscriptions to end (all within ShutdownTimeout), stops
// the projection runners after their current batch and the fanout, and
// closes Redis and the pools. It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	projCtx, stopProjections := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.engine.Run(projCtx); err != nil && !errors.Is(err, context.Canceled) {
			s.logger.Error("projection engine stopped", "err", err)
		}
	})
	wg.Go(func() {
		if err := s.fanout.Run(projCtx); err != nil && !errors.Is(err, context.Canceled) {
			s.logger.Error("live-update fanout stopped", "err", err)
		}
	})

	httpSrv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	httpSrv.RegisterOnShutdown(s.streams.shutdown)
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	s.logger.Info("serving", "addr", ln.Addr().String())

	var err error
	served := false
	select {
	case err = <-serveErr:
		served = true
	case <-ctx.Done():
	}
	s.logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if shutdownErr := httpSrv.Shutdown(shutdownCtx); err == nil {
		err = shutdownErr
	}
	if !served {
		// After Shutdown, Serve returns http.ErrServerClosed: not an error,
		// and it must not hide those of the waits below.
		if e := <-serveErr; err == nil && !errors.Is(e, http.ErrServerClosed) {
			err = e
		}
	}
	// Shutdown has run s.streams.shutdown (in a goroutine of its own); once
	// more in case it did not get to. WebSocket connections are hijacked:
	// Shutdown waited for none of them.
	s.streams.shutdown()
	if waitErr := s.streams.wait(shutdownCtx); err == nil {
		err = waitErr
	}
	if waitErr := s.resolver.WaitSubscriptions(shutdownCtx); err == nil {
		err = waitErr
	}
	stopProjections()
	wg.Wait()
	if s.redis != nil {
		if closeErr := s.redis.Close(); closeErr != nil {
			s.logger.Warn("close redis", "err", closeErr)
		}
	}
	s.projectionPool.Close()
	s.pool.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// ready answers /readyz: 200 when the database (and Redis, when
// configured) answers, else 503.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	if s.redis != nil {
		if err := s.redis.Ping(ctx).Err(); err != nil {
			http.Error(w, "redis unavailable", http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = w.Write([]byte("ready\n"))
}
