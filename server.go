// Command chronicle serves the Chronicle GraphQL API: it reads its config
// from the environment (see internal/config), wires the server and serves
// until SIGINT or SIGTERM, then shuts down gracefully.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/logging"
	"github.com/chronicle-es/chronicle/internal/server"
	"github.com/redis/go-redis/v9"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "chronicle:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("LOG_LEVEL: %w", err)
	}
	logger := logging.New(os.Stderr, level)
	// The libraries' loggers, through the same JSON handler: the standard
	// library's log package (gqlgen's WebSocket transport writes to it) and
	// go-redis. Both are global, so set here only. net/http's goes through
	// http.Server.ErrorLog (see server.Serve).
	slog.SetDefault(logger)
	redis.SetLogger(logging.Redis(logger))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	srv, err := server.New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", cfg.Port))
	if err != nil {
		return err
	}
	logger.Info("chronicle ready", "playground", fmt.Sprintf("http://localhost:%d/", cfg.Port), "dev", cfg.Dev)
	return srv.Serve(ctx, ln)
}
