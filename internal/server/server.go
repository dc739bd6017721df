// Package server assembles a Chronicle server from its parts: database and
// migrations, event store, projection engine, application services and the
// HTTP/GraphQL handler. server.go (package main) only reads the config and
// calls Serve; tests start whole servers the same way.
package server

import (
	"context"
	"errors"
	"fmt"
	"github.com/chronicle-es/chronicle/internal/datasubject"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/chronicle-es/chronicle/graph"
	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/database"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/gqlws"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/metrics"
	"github.com/chronicle-es/chronicle/internal/module"
	"github.com/chronicle-es/chronicle/internal/playground"
	"github.com/chronicle-es/chronicle/internal/process"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/chronicle-es/chronicle/internal/readcache"
	"github.com/chronicle-es/chronicle/internal/webapp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// projectionPoolSize bounds the projection engine's own pool: each runner
// uses one connection at a time (its lock and the listener have dedicated
// connections outside the pool).
const projectionPoolSize = 4

// snapshotQueue bounds the snapshots waiting to be written; more offers are
// dropped (a later command offers again).
const snapshotQueue = 1024

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
	cache    *readcache.Cache // nil without Redis
	resolver *graph.Resolver
	// snapshots writes aggregate snapshots in the background.
	snapshots    *aggregate.Snapshotter
	longRequests *longRequests
	handler      http.Handler
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
	pool, err := database.OpenRetrying(ctx, cfg.DatabaseURL, cfg.DatabaseMaxConns, cfg.DatabaseConnectTimeout, logger)
	if err != nil {
		return nil, err
	}
	migrated, err := database.ApplyMigrations(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	logger.InfoContext(ctx, "database migrations applied", "schema_version", migrated.Version, "applied_now", migrated.Applied)
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
	var (
		broker live.Broker = live.NewMemoryBroker()
		cache  *readcache.Cache
	)
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
		// Every Redis call is bounded by REDIS_TIMEOUT (context deadlines
		// honoured on the socket), and every new connection tells the cache
		// which Redis process it reached (see package readcache).
		// (The closure reads cache, set below before anything connects.)
		readcache.ClientOptions(opts, cfg.RedisTimeout)
		opts.OnConnect = func(ctx context.Context, cn *redis.Conn) error { return cache.OnConnect(ctx, cn) }
		redisClient = redis.NewClient(opts)
		broker = live.NewRedisBroker(redisClient, channel, logger).WithPublishTimeout(cfg.RedisTimeout)
	}
	// The read cache (with Redis only) is invalidated before an update is
	// published, so subscribers rung by it never read an older entry.
	if redisClient != nil {
		cache = readcache.New(redisClient, "chronicle:"+pool.Config().ConnConfig.Database+":cache:", cfg.CacheTTL, meter, logger,
			readcache.WithTimeout(cfg.RedisTimeout), readcache.WithBreaker(cfg.RedisBreakerFailures, cfg.RedisBreakerCooldown),
			readcache.WithOnLost(notifyCacheDebt(pool, logger)))
		broker = readcache.NewInvalidatingBroker(cache, broker, logger)
	}
	fanout := live.NewFanout(broker, logger)
	fanout.Hub.SetRetry(live.Retry{For: cfg.SubscriptionRetryFor})

	// Personal data is sealed on append and opened by the read models
	// (package datasubject).
	keys, err := dataSubjectKeys(cfg, logger)
	if err != nil {
		closeAll()
		return nil, err
	}
	// The store is built after the engine (its observer wakes the
	// engine); the engine's listener, started by Run, asks it which store
	// notifications are this process's own.
	var store *eventstore.Store
	engine, err := projection.NewEngine(projectionPool, projection.Config{
		Opener:            keys,
		Own:               func(pid uint32) bool { return store.Announced(pid) },
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
	// Appends wake this process's projections in-process, right after
	// their commit; other processes hear of them by the store's coalesced
	// NOTIFY, sent on the projections' pool, where no requests queue
	// (docs/architecture.md, "Wake-up").
	store = eventstore.New(pool, eventstore.WithNotifyPool(projectionPool), eventstore.WithSealer(keys), eventstore.WithAppendGroups(cfg.AppendGroups),
		eventstore.WithAppendObserver(func(streamType string, events int) {
			meter.EventsAppended(streamType, events)
			engine.WakeFor(streamType)
		}))
	// Snapshots are taken in the background, never in a command's latency.
	snapshots := aggregate.NewSnapshotter(store, cfg.SnapshotEvery, snapshotQueue, logger)
	// The bounded contexts register their projections with the engine as
	// the resolver builds them (graph.NewResolver holds the one list).
	registry := module.NewRegistry(module.Deps{
		Pool:    pool,
		Store:   store,
		Keys:    keys,
		Streams: datasubject.OpeningReader{Store: store, Keys: keys, Querier: pool},
		Commands: command.Deps{
			Store: store,
			// A command's read-your-writes wait ends at its request's
			// deadline (commands run detached from it, so that an append
			// always ends in its payload).
			Waiter:    deadlineWaiter{engine},
			Views:     engine,
			Wait:      cfg.ReadYourWritesTimeout,
			Pipeline:  command.NewPipeline(meter.CommandDecorator(), command.Logging(logger)),
			Logger:    logger,
			Snapshots: snapshots,
			// Safe on any number of instances: a cached state is checked
			// by the append's expected version (aggregate.CacheStates).
			StateCache: cfg.AggregateCacheSize,
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
	edgeMeter := newEdgeMetrics(meter.Registry())
	extensions := []graphql.HandlerExtension{meter.CommandExtension(), graph.DetachCommands{}, operationNamer{}}
	if cfg.MaxConcurrentCommands > 0 {
		extensions = append(extensions, newCommandSlots(cfg.MaxConcurrentCommands, edgeMeter))
	}
	subscriptions := gqlws.NewLimits(cfg.MaxSubscriptionsPerConnection, cfg.MaxSubscriptions)
	gql := graph.NewHandler(resolver, graph.Limits{
		Complexity:    cfg.ComplexityLimit,
		Depth:         cfg.DepthLimit,
		Introspection: cfg.Introspection,
		Document: graph.DocumentLimits{
			Tokens:      cfg.GraphQLMaxTokens,
			Fragments:   cfg.GraphQLMaxFragments,
			Selections:  cfg.GraphQLMaxSelections,
			Comparisons: cfg.GraphQLMaxComparisons,
		},
	}, graph.Transports{
		KeepAlive:      cfg.WSKeepAlive,
		OriginPatterns: cfg.Origins(),
		Init:           websocketInit(authn),

		// Counted by client subscription over every transport: with shared
		// executions the hub's subscriptions are fewer than the clients'.
		Limits: subscriptions,
	}, logger, extensions...)

	s := &Server{
		cfg: cfg, logger: logger, pool: pool, projectionPool: projectionPool, engine: engine,
		fanout: fanout, redis: redisClient, cache: cache, resolver: resolver, snapshots: snapshots, longRequests: newLongRequests(cfg.SubscriptionWriteTimeout),
	}
	mux := http.NewServeMux()
	mux.Handle("/query", withOriginLog(logger, cfg.Origins(), withCORS(cfg.Origins(), withRequestLog(logger, s.longRequests.middleware(
		s.edge(cfg, redisClient, edgeMeter, logger, authn, gql))))))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("GET /app/", webapp.Handler("/app/"))
	if cfg.Dev && cfg.JWTHS256Secret != "" {
		mux.Handle("/dev/token", withCORS(cfg.Origins(), devTokenHandler(cfg, logger)))
	}
	if cfg.MetricsEnabled {
		// Unauthenticated, like /healthz: not to be exposed publicly.
		meter.WatchSubscriptions(subscriptions.Open)
		meter.WatchDatabase(pool, metricsQueryTimeout, logger)
		meter.WatchProjections(instanceName(cfg), engine.Active)
		if redisClient != nil {
			meter.WatchRedis(func() bool { return s.redisUp(context.Background()) == nil })
		}
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

// edge wraps the GraphQL handler in the protections of the edge, in this
// order: the bound on concurrent requests (cheapest first: an overloaded
// server refuses before verifying a token), the request's time bound, the
// caller's authentication (before any body is read), the organization's
// rate limit, and the body's size limit.
func (s *Server) edge(cfg config.Config, redisClient *redis.Client, m *edgeMetrics, logger *slog.Logger, authn *authenticator, gql http.Handler) http.Handler {
	h := withRequestLimits(cfg.MaxRequestBytes, m, withValidUTF8(gql))
	if cfg.RateLimit > 0 && redisClient != nil {
		prefix := "chronicle:" + s.pool.Config().ConnConfig.Database + ":rate:"
		h = newRateLimiter(redisClient, prefix, cfg.RateLimit, cfg.RateLimitBurst, cfg.RateLimitPeriod,
			cfg.RateLimitRedisTimeout, m, logger).middleware(h)
	}
	h = withCaller(authn, h)
	h = withTimeout(cfg.RequestTimeout, h)
	return newAdmission(cfg.MaxConcurrentRequests, cfg.MaxConcurrentLongRequests, m).middleware(h)
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
	wg.Go(func() { _ = s.snapshots.Run(projCtx) }) // returns projCtx's error
	if s.cache != nil {
		wg.Go(func() { _ = s.cache.Run(projCtx) })
		wg.Go(func() { listenCacheDebt(projCtx, s.pool, s.cache, s.logger) })
	}

	httpSrv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		// ReadTimeout bounds reading a request, its body included: a
		// client that sends it slowly is cut. Streams are not cut by it:
		// a WebSocket's hijacked connection and an SSE stream's background
		// read both clear the deadline.
		ReadTimeout: s.cfg.HTTPReadTimeout,
		IdleTimeout: s.cfg.HTTPIdleTimeout,
		ErrorLog:    slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	httpSrv.RegisterOnShutdown(s.longRequests.shutdown)
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
	// Shutdown has run s.longRequests.shutdown (in a goroutine of its own); once
	// more in case it did not get to. WebSocket connections are hijacked:
	// Shutdown waited for none of them.
	s.longRequests.shutdown()
	if waitErr := s.longRequests.wait(shutdownCtx); err == nil {
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

// readyTimeout bounds /readyz's database ping.
const readyTimeout = 2 * time.Second

// ready answers /readyz: ready means "can serve". 503 "database
// unavailable" when PostgreSQL does not answer; 200 "degraded: redis
// unavailable" when only Redis does not (reads and writes go on from
// PostgreSQL, without the cache, and live updates stay within each
// instance until it is back; chronicle_redis_up says so too); else 200
// "ready".
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.pool.Ping(ctx); err != nil {
		s.logger.WarnContext(ctx, "readyz: database unavailable", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unavailable\n"))
		return
	}
	if err := s.redisUp(ctx); err != nil {
		s.logger.WarnContext(ctx, "readyz: degraded, redis unavailable", "err", err)
		_, _ = w.Write([]byte("degraded: redis unavailable\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// redisUp pings Redis, bounded by REDIS_TIMEOUT; nil without Redis.
func (s *Server) redisUp(ctx context.Context) error {
	if s.redis == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RedisTimeout)
	defer cancel()
	if err := s.redis.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}

// instanceName is INSTANCE_NAME, or "<hostname>-<pid>".
func instanceName(cfg config.Config) string {
	if cfg.InstanceName != "" {
		return cfg.InstanceName
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "chronicle"
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}

// dataSubjectKeys returns the data subject keys wrapped by
// CHRONICLE_MASTER_KEY; in development mode without one, by a key generated
// now, with a warning (config.Validate refuses that outside development).
func dataSubjectKeys(cfg config.Config, logger *slog.Logger) (*datasubject.Keys, error) {
	if cfg.MasterKey == "" {
		master, _, err := datasubject.GenerateMasterKey()
		if err != nil {
			return nil, err
		}
		logger.Warn("CHRONICLE_MASTER_KEY is not set: personal data is sealed with a key generated for this run, " +
			"and reads as erased after a restart (development mode only; `make run` keeps one in .chronicle/dev-master-key)")
		return datasubject.NewKeys(master), nil
	}
	master, err := datasubject.ParseMasterKey(cfg.MasterKey)
	if err != nil {
		return nil, fmt.Errorf("CHRONICLE_MASTER_KEY: %w", err)
	}
	return datasubject.NewKeys(master), nil
}
