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
	"github.com/chronicle-es/chronicle/internal/account"
	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/database"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/playground"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/jackc/pgx/v5/pgxpool"
)

// projectionPoolSize bounds the projection engine's own pool: each runner
// uses one connection at a time (its lock and the listener have dedicated
// connections outside the pool).
const projectionPoolSize = 4

// Server is one Chronicle instance.
type Server struct {
	cfg    config.Config
	logger *slog.Logger
	pool   *pgxpool.Pool
	// projectionPool serves the projection engine only.
	projectionPool *pgxpool.Pool
	engine         *projection.Engine
	handler        http.Handler
}

// New connects to the database, applies the migrations and builds the
// server. It starts nothing: Serve does.
func New(ctx context.Context, cfg config.Config, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
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
	store := eventstore.New(pool)
	engine, err := projection.NewEngine(projectionPool, projection.Config{
		BatchSize:         cfg.ProjectionBatchSize,
		PollInterval:      cfg.ProjectionPollInterval,
		LockRetryInterval: cfg.ProjectionLockRetry,
		Logger:            logger,
	}, account.Projection{})
	if err != nil {
		pool.Close()
		projectionPool.Close()
		return nil, err
	}
	accountReads := account.NewReadModel(pool)
	gql := graph.NewHandler(&graph.Resolver{
		Accounts:     account.NewService(store, accountReads, engine, cfg.ReadYourWritesTimeout),
		AccountReads: accountReads,
		Events:       store,
	}, graph.Limits{
		Complexity:    cfg.ComplexityLimit,
		Depth:         cfg.DepthLimit,
		Introspection: cfg.Introspection,
	}, logger)

	s := &Server{cfg: cfg, logger: logger, pool: pool, projectionPool: projectionPool, engine: engine}
	mux := http.NewServeMux()
	mux.Handle("/query", withRequestLimits(cfg.MaxRequestBytes, withCaller(cfg.Dev, gql)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", s.ready)
	if cfg.Playground {
		mux.Handle("GET /{$}", playground.Handler("Chronicle", "/query", "/playground/"))
		mux.Handle("GET /playground/", playground.Assets("/playground/"))
	}
	s.handler = mux
	return s, nil
}

// Handler returns the HTTP handler (for tests that serve it themselves).
func (s *Server) Handler() http.Handler { return s.handler }

// Pool returns the server's database pool.
func (s *Server) Pool() *pgxpool.Pool { return s.pool }

// Serve runs the projections and serves HTTP on ln until ctx is cancelled,
// then shuts down gracefully: it stops accepting connections, lets in-flight
// requests (and so in-flight commands) finish within ShutdownTimeout, stops
// the projection runners after their current batch, and closes the pool.
// It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	projCtx, stopProjections := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.engine.Run(projCtx); err != nil && !errors.Is(err, context.Canceled) {
			s.logger.Error("projection engine stopped", "err", err)
		}
	})

	httpSrv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	s.logger.Info("serving", "addr", ln.Addr().String())

	var err error
	select {
	case err = <-serveErr:
	case <-ctx.Done():
		s.logger.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		err = httpSrv.Shutdown(shutdownCtx)
		cancel()
		<-serveErr
	}
	stopProjections()
	wg.Wait()
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

// ready answers /readyz: 200 when the database answers, else 503.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}
