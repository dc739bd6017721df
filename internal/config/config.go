// Package config reads the server's settings from the environment
// (caarlos0/env). Every setting has a default that works with `make run`.
package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/chronicle-es/chronicle/internal/auth"
)

// Config is every setting of a Chronicle server.
type Config struct {
	// DatabaseURL is the PostgreSQL connection URL [DefaultDatabaseURL].
	DatabaseURL string `env:"DATABASE_URL"`
	// DatabaseMaxConns caps the pool; 0 keeps pgxpool's default
	// (max(4, number of CPUs)). Requests use it; projections have a pool of
	// their own. Measured on 2 cores (cmd/bench/limits.md), 8 or 16 did not
	// raise credits/s or account(id)/s, raised the projection lag p99 (more
	// appends open at once hold the horizon and take the CPU), and use up
	// PostgreSQL's max_connections sooner: raise it with the cores.
	DatabaseMaxConns int32 `env:"DATABASE_MAX_CONNS" envDefault:"0"`
	// RedisURL is the Redis that carries live updates (subscriptions)
	// between instances, e.g. redis://127.0.0.1:6379/0. Empty: updates stay
	// within this instance (fine for a single instance only).
	RedisURL string `env:"REDIS_URL"`
	// RedisChannel is the Redis pub/sub channel of the live updates; every
	// instance of one deployment must use the same. Empty means
	// "chronicle:<database name from DATABASE_URL>:updates".
	RedisChannel string `env:"REDIS_CHANNEL"`
	// CacheTTL is how long a read-cache entry (payment(id), payment
	// analytics; Redis only) lives after its last write. Entries are
	// invalidated exactly on change; the TTL only bounds memory.
	CacheTTL time.Duration `env:"CACHE_TTL" envDefault:"10m"`
	// Port is the HTTP port, on all interfaces.
	Port int `env:"PORT" envDefault:"8080"`
	// Dev turns on development conveniences: a request without a token
	// acts as DevActor of DevOrganization (the X-Actor and X-Organization
	// headers, or "actor" and "organization" in a WebSocket's
	// connection_init, may name others), and no token verification needs to
	// be configured. Tokens sent are still verified. Off unless set; on in
	// `make run`.
	Dev bool `env:"CHRONICLE_DEV" envDefault:"false"`
	// DevActor is the actor of token-less requests in development mode.
	DevActor string `env:"DEV_ACTOR" envDefault:"developer"`
	// DevOrganization is the organization of token-less requests in
	// development mode.
	DevOrganization string `env:"DEV_ORGANIZATION" envDefault:"dev"`

	// JWTHS256Secret verifies HS256 bearer tokens (at least 32 bytes outside
	// development mode). At most one of JWTHS256Secret, JWTJWKSFile and
	// JWTJWKSURL may be set; outside development mode exactly one must be.
	JWTHS256Secret string `env:"JWT_HS256_SECRET"`
	// JWTJWKSFile is a JSON Web Key Set file whose RSA keys verify RS256
	// bearer tokens.
	JWTJWKSFile string `env:"JWT_JWKS_FILE"`
	// JWTJWKSURL is the URL of such a key set (e.g. an identity provider's
	// /.well-known/jwks.json); it is cached, and fetched again when a token
	// names an unknown key (at most every 30 s) or the keys are 10 minutes
	// old.
	JWTJWKSURL string `env:"JWT_JWKS_URL"`
	// JWTIssuer, when set, must equal the tokens' "iss".
	JWTIssuer string `env:"JWT_ISSUER"`
	// JWTAudience, when set, must be among the tokens' "aud".
	JWTAudience string `env:"JWT_AUDIENCE"`
	// JWTOrganizationClaim names the claim that holds the caller's
	// organization.
	JWTOrganizationClaim string `env:"JWT_ORGANIZATION_CLAIM" envDefault:"org"`
	// JWTLeeway is the clock skew allowed on the tokens' exp, nbf and iat
	// (at most 5m).
	JWTLeeway time.Duration `env:"JWT_LEEWAY" envDefault:"30s"`

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
	// OrderPaymentTimeout is how long an order may await its payment
	// before the fulfilment process cancels it (PAYMENT_TIMEOUT) and
	// releases its stock.
	OrderPaymentTimeout time.Duration `env:"ORDER_PAYMENT_TIMEOUT" envDefault:"15m"`

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

	// MetricsEnabled serves Prometheus metrics at GET /metrics, on the same
	// port as the API and without authentication: keep the path off the
	// public internet (expose it only to the scraper, e.g. block it at the
	// load balancer or ingress).
	MetricsEnabled bool `env:"METRICS_ENABLED" envDefault:"true"`

	// LogLevel is debug, info, warn or error.
	LogLevel string `env:"LOG_LEVEL" envDefault:"info"`
}

// DefaultDatabaseURL is the DATABASE_URL of a local development server:
// the one place it is written in Go (scripts/ensure-services.sh, which
// cannot import it, has a copy that TestDefaultDatabaseURLInScripts keeps
// equal).
const DefaultDatabaseURL = "postgres://postgres:postgres@127.0.0.1:5432/chronicle?sslmode=disable"

// FromEnv reads the Config from the process environment and validates it
// for a server (Validate).
func FromEnv() (Config, error) {
	cfg, err := Parse()
	if err != nil {
		return Config{}, err
	}
	return cfg, cfg.Validate()
}

// Parse reads the Config from the process environment without the server's
// validation, for tools that use only part of it (cmd/rebuild needs the
// database, not token verification). Errors: a malformed value.
func Parse() (Config, error) {
	cfg, err := env.ParseAs[Config]()
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = DefaultDatabaseURL
	}
	cfg.AllowedOrigins = cleanList(cfg.AllowedOrigins)
	return cfg, nil
}

// Default returns the defaults, as FromEnv would with an empty environment.
func Default() Config {
	cfg, err := env.ParseAsWithOptions[Config](env.Options{Environment: map[string]string{}})
	if err != nil {
		panic(err) // the defaults are constants; a failure is a programming error
	}
	cfg.DatabaseURL = DefaultDatabaseURL
	return cfg
}

// Validate checks ranges that the types alone do not.
func (c Config) Validate() error {
	switch {
	case c.Port < 0 || c.Port > 65535:
		return fmt.Errorf("config: PORT %d out of range", c.Port)
	case c.ReadYourWritesTimeout < 0:
		return fmt.Errorf("config: READ_YOUR_WRITES_TIMEOUT must not be negative")
	case c.OrderPaymentTimeout <= 0:
		return fmt.Errorf("config: ORDER_PAYMENT_TIMEOUT must be positive")
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
	return c.validateAuth()
}

// minHS256SecretBytes is the shortest JWT_HS256_SECRET accepted outside
// development mode (RFC 7518 asks for a key as long as the hash).
const minHS256SecretBytes = 32

// maxJWTLeeway bounds JWT_LEEWAY.
const maxJWTLeeway = 5 * time.Minute

// validateAuth checks the token verification settings: at most one method,
// exactly one outside development mode, a long enough secret.
func (c Config) validateAuth() error {
	var methods []string
	if c.JWTHS256Secret != "" {
		methods = append(methods, "JWT_HS256_SECRET")
	}
	if c.JWTJWKSFile != "" {
		methods = append(methods, "JWT_JWKS_FILE")
	}
	if c.JWTJWKSURL != "" {
		methods = append(methods, "JWT_JWKS_URL")
	}
	switch {
	case len(methods) > 1:
		return fmt.Errorf("config: set only one of %s", strings.Join(methods, ", "))
	case len(methods) == 0 && !c.Dev:
		return fmt.Errorf("config: no token verification configured: set JWT_HS256_SECRET, JWT_JWKS_FILE or JWT_JWKS_URL " +
			"(or CHRONICLE_DEV=true for development without tokens)")
	case c.JWTHS256Secret != "" && !c.Dev && len(c.JWTHS256Secret) < minHS256SecretBytes:
		return fmt.Errorf("config: JWT_HS256_SECRET must be at least %d bytes outside development mode", minHS256SecretBytes)
	case c.JWTLeeway < 0 || c.JWTLeeway > maxJWTLeeway:
		return fmt.Errorf("config: JWT_LEEWAY must be between 0 and %s", maxJWTLeeway)
	case strings.TrimSpace(c.JWTOrganizationClaim) == "":
		return fmt.Errorf("config: JWT_ORGANIZATION_CLAIM must not be empty")
	case c.Dev && !auth.ValidIdentity(auth.Identity{Subject: c.DevActor, Organization: c.DevOrganization}):
		return fmt.Errorf("config: DEV_ACTOR and DEV_ORGANIZATION must be 1..%d printable characters", auth.MaxIdentityBytes)
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
