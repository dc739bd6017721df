// Package config reads the server's settings from the environment
// (caarlos0/env). Every setting has a default that works with `make run`.
package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Config is every setting of a Chronicle server.
type Config struct {
	// DatabaseURL is the PostgreSQL connection URL.
	DatabaseURL string `env:"DATABASE_URL" envDefault:"postgres://postgres:postgres@127.0.0.1:5432/chronicle?sslmode=disable"`
	// DatabaseMaxConns caps the pool; 0 keeps pgxpool's default
	// (max(4, number of CPUs)).
	DatabaseMaxConns int32 `env:"DATABASE_MAX_CONNS" envDefault:"0"`
	// RedisURL is the Redis that carries live updates (subscriptions)
	// between instances, e.g. redis://127.0.0.1:6379/0. Empty: updates stay
	// within this instance (fine for a single instance only).
	RedisURL string `env:"REDIS_URL"`
	// RedisChannel is the Redis pub/sub channel of the live updates; every
	// instance of one deployment must use the same. Empty means
	// "chronicle:<database name from DATABASE_URL>:updates".
	RedisChannel string `env:"REDIS_CHANNEL"`
	// Port is the HTTP port, on all interfaces.
	Port int `env:"PORT" envDefault:"8080"`
	// Dev turns on development conveniences: the X-Actor request header
	// is trusted as the caller's identity. Off unless set; on in `make run`.
	Dev bool `env:"CHRONICLE_DEV" envDefault:"false"`

	// ReadYourWritesTimeout bounds how long a mutation's payload waits for
	// the projection that serves it to pass the mutation's events.
	ReadYourWritesTimeout time.Duration `env:"READ_YOUR_WRITES_TIMEOUT" envDefault:"2s"`
	// ShutdownTimeout bounds a graceful shutdown: in-flight requests get
	// this long to finish.
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s"`

	// ProjectionBatchSize is the most events one projection transaction applies.
	ProjectionBatchSize int `env:"PROJECTION_BATCH_SIZE" envDefault:"500"`
	// ProjectionPollInterval is the slow poll behind LISTEN/NOTIFY.
	ProjectionPollInterval time.Duration `env:"PROJECTION_POLL_INTERVAL" envDefault:"1s"`
	// ProjectionLockRetry is how often a standby instance tries to take a
	// projection over.
	ProjectionLockRetry time.Duration `env:"PROJECTION_LOCK_RETRY" envDefault:"1s"`

	// Playground serves the GraphQL playground at /.
	Playground bool `env:"GRAPHQL_PLAYGROUND" envDefault:"true"`
	// Introspection allows __schema queries.
	Introspection bool `env:"GRAPHQL_INTROSPECTION" envDefault:"true"`
	// ComplexityLimit is the most weighted fields per operation.
	ComplexityLimit int `env:"GRAPHQL_COMPLEXITY_LIMIT" envDefault:"10000"`
	// DepthLimit is the deepest selection nesting per operation.
	DepthLimit int `env:"GRAPHQL_DEPTH_LIMIT" envDefault:"12"`
	// MaxRequestBytes caps a request body, in bytes.
	MaxRequestBytes int64 `env:"MAX_REQUEST_BYTES" envDefault:"1048576"`

	// AllowedOrigins are the browser origins, besides the server's own,
	// allowed to call /query: CORS for HTTP requests and the Origin check of
	// WebSocket upgrades. Comma-separated "scheme://host[:port]" entries,
	// with path.Match wildcards in the host (e.g.
	// "http://localhost:5173,https://*.example.com"). Empty: same-origin
	// WebSockets only, and no CORS headers.
	AllowedOrigins []string `env:"ALLOWED_ORIGINS" envSeparator:","`
	// WSKeepAlive is how often idle subscription streams get a keepalive
	// (graphql-transport-ws ping, graphql-ws "ka", SSE comment); a
	// graphql-transport-ws client that does not answer a ping within two
	// intervals is disconnected.
	WSKeepAlive time.Duration `env:"WS_KEEPALIVE" envDefault:"10s"`
	// StreamWriteTimeout bounds each write to a subscription stream
	// (WebSocket or SSE): a client that takes longer to take a message (it
	// stopped reading and its socket buffers are full) is disconnected.
	StreamWriteTimeout time.Duration `env:"STREAM_WRITE_TIMEOUT" envDefault:"10s"`

	// LogLevel is debug, info, warn or error.
	LogLevel string `env:"LOG_LEVEL" envDefault:"info"`
}

// FromEnv reads the Config from the process environment.
func FromEnv() (Config, error) {
	cfg, err := env.ParseAs[Config]()
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	cfg.AllowedOrigins = cleanList(cfg.AllowedOrigins)
	return cfg, cfg.Validate()
}

// Default returns the defaults, as FromEnv would with an empty environment.
func Default() Config {
	cfg, err := env.ParseAsWithOptions[Config](env.Options{Environment: map[string]string{}})
	if err != nil {
		panic(err) // the defaults are constants; a failure is a programming error
	}
	return cfg
}

// Validate checks ranges that the types alone do not.
func (c Config) Validate() error {
	switch {
	case c.Port < 0 || c.Port > 65535:
		return fmt.Errorf("config: PORT %d out of range", c.Port)
	case c.ReadYourWritesTimeout < 0:
		return fmt.Errorf("config: READ_YOUR_WRITES_TIMEOUT must not be negative")
	case c.MaxRequestBytes <= 0:
		return fmt.Errorf("config: MAX_REQUEST_BYTES must be positive")
	case c.WSKeepAlive <= 0:
		return fmt.Errorf("config: WS_KEEPALIVE must be positive")
	case c.StreamWriteTimeout <= 0:
		return fmt.Errorf("config: STREAM_WRITE_TIMEOUT must be positive")
	}
	for _, o := range c.AllowedOrigins {
		if err := validOrigin(o); err != nil {
			return fmt.Errorf("config: ALLOWED_ORIGINS: %w", err)
		}
	}
	return nil
}

// validOrigin accepts "scheme://host[:port]" with at most one "*" wildcard
// (which CORS and the WebSocket origin check read alike), but not a host
// that is only "*": with credentials allowed, that would let every web page
// act as its visitor.
func validOrigin(o string) error {
	scheme, host, ok := strings.Cut(o, "://")
	switch {
	case !ok || scheme == "" || host == "" || strings.ContainsAny(host, "/?#[]\\ "):
		return fmt.Errorf("%q is not scheme://host[:port]", o)
	case strings.Count(o, "*") > 1:
		return fmt.Errorf("%q: only one * wildcard is supported", o)
	case host == "*":
		return fmt.Errorf("%q allows every origin; list the origins", o)
	}
	return nil
}

// cleanList trims the entries of a comma-separated list and drops the
// empty ones.
func cleanList(list []string) []string {
	var out []string
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
