// Package config reads the server's settings from the environment
// (caarlos0/env). Every setting has a default that works with `make run`.
package config

import (
	"fmt"
	"github.com/chronicle-es/chronicle/internal/datasubject"
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

	// MasterKey is CHRONICLE_MASTER_KEY: 32 bytes, base64 or hex, that wrap
	// every data subject's key (package datasubject). Required outside
	// development mode; in development mode a missing one is generated at
	// start, with a warning (what it sealed does not open after a
	// restart; `make run` keeps one in .chronicle/dev-master-key). Back it
	// up: without it no sealed personal data can be read again.
	MasterKey string `env:"CHRONICLE_MASTER_KEY"`

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
	// SnapshotEvery is how many events a stream grows past its last
	// snapshot before the next is taken, for each aggregate type that keeps
	// snapshots (accounts, payments); 0 turns snapshots off.
	SnapshotEvery int64 `env:"SNAPSHOT_EVERY" envDefault:"100"`
	// AggregateCacheSize is how many aggregate states (streams) each
	// aggregate type keeps in memory for the next command on the same
	// stream, least recently used first out; 0 turns the cache off. A
	// state is a few hundred bytes (a stock's grows with its reservations).
	AggregateCacheSize int `env:"AGGREGATE_CACHE_SIZE" envDefault:"10000"`
	// AppendGroups is how many append statements the event store sends at
	// once; appends that arrive meanwhile go out together in the next one
	// (group commit, eventstore.WithAppendGroups); 0 sends every append by
	// itself.
	AppendGroups int `env:"APPEND_GROUPS" envDefault:"2"`
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
	// WebSockets only, and no CORS headers; in development mode, empty
	// means DevOrigins (see Origins).
	AllowedOrigins []string `env:"ALLOWED_ORIGINS" envSeparator:","`
	// WSKeepAlive is how often idle subscription streams get a keepalive
	// (graphql-transport-ws ping, graphql-ws "ka", SSE comment); a
	// graphql-transport-ws client that does not answer a ping within two
	// intervals is disconnected.
	WSKeepAlive time.Duration `env:"WS_KEEPALIVE" envDefault:"10s"`
	// SubscriptionWriteTimeout bounds each write to a subscription stream
	// (WebSocket or SSE): a client that takes longer to take a message (it
	// stopped reading and its socket buffers are full) is disconnected.
	SubscriptionWriteTimeout time.Duration `env:"SUBSCRIPTION_WRITE_TIMEOUT" envDefault:"10s"`

	// Limits and timeouts at the edge (README "Limits and timeouts").

	// GraphQLMaxTokens is the most lexical tokens of one GraphQL document.
	GraphQLMaxTokens int `env:"GRAPHQL_MAX_TOKENS" envDefault:"10000"`
	// GraphQLMaxFragments is the most fragment definitions of one document.
	GraphQLMaxFragments int `env:"GRAPHQL_MAX_FRAGMENTS" envDefault:"200"`
	// GraphQLMaxSelections is the most field selections of one document
	// with its fragments expanded (operations and fragment definitions).
	GraphQLMaxSelections int `env:"GRAPHQL_MAX_SELECTIONS" envDefault:"10000"`
	// GraphQLMaxComparisons is the most pairs of fields on one response
	// path that validation would compare.
	GraphQLMaxComparisons int `env:"GRAPHQL_MAX_COMPARISONS" envDefault:"5000"`
	// RequestTimeout bounds one request at /query (not a subscription
	// stream). A command whose append has begun finishes it, and its
	// payload then has upToDate false if the read-your-writes wait was cut.
	// 0 disables it.
	RequestTimeout time.Duration `env:"REQUEST_TIMEOUT" envDefault:"10s"`
	// MaxConcurrentRequests is the most requests at /query served at once
	// (subscription streams are counted apart, see MaxConcurrentLongRequests);
	// more are answered at once with HTTP 503, Retry-After and the code
	// OVERLOADED. 0 disables the bound.
	MaxConcurrentRequests int `env:"MAX_CONCURRENT_REQUESTS" envDefault:"512"`
	// MaxConcurrentCommands is the most mutations executing at once, within
	// MaxConcurrentRequests: a command holds its slot through its
	// read-your-writes wait, and a flood of them must leave room for the
	// queries. A mutation beyond it is refused the same way (nothing is
	// written). 0 disables the bound.
	MaxConcurrentCommands int `env:"MAX_CONCURRENT_COMMANDS" envDefault:"64"`
	// MaxConcurrentLongRequests is the most WebSocket and SSE streams open at
	// once on this instance; 0 disables the bound.
	MaxConcurrentLongRequests int `env:"MAX_CONCURRENT_LONG_REQUESTS" envDefault:"20000"`
	// RateLimit is how many requests per RateLimitPeriod one organization
	// may make, across all instances (through Redis; REDIS_URL must be
	// set); more are answered with HTTP 429, Retry-After and the code
	// RATE_LIMITED. 0 disables rate limiting.
	RateLimit int `env:"RATE_LIMIT" envDefault:"0"`
	// RateLimitBurst is how many requests above the rate an organization
	// may make at once; 0 means RateLimit.
	RateLimitBurst int `env:"RATE_LIMIT_BURST" envDefault:"0"`
	// RateLimitPeriod is the period of RateLimit.
	RateLimitPeriod time.Duration `env:"RATE_LIMIT_PERIOD" envDefault:"1s"`
	// RateLimitRedisTimeout bounds the rate limiter's call to Redis; a
	// request whose call does not answer in time is let through (and
	// counted, and logged).
	RateLimitRedisTimeout time.Duration `env:"RATE_LIMIT_REDIS_TIMEOUT" envDefault:"100ms"`
	// HTTPReadTimeout bounds reading one request, headers and body, from
	// its connection (WebSocket and SSE streams are exempt once upgraded or
	// started).
	HTTPReadTimeout time.Duration `env:"HTTP_READ_TIMEOUT" envDefault:"30s"`
	// HTTPIdleTimeout is how long an idle keep-alive connection stays open.
	HTTPIdleTimeout time.Duration `env:"HTTP_IDLE_TIMEOUT" envDefault:"120s"`
	// DatabaseConnectTimeout is how long start-up keeps retrying (with
	// backoff) to reach PostgreSQL, so that services may start in any order.
	DatabaseConnectTimeout time.Duration `env:"DATABASE_CONNECT_TIMEOUT" envDefault:"30s"`

	// MetricsEnabled serves Prometheus metrics at GET /metrics, on the same
	// port as the API and without authentication: keep the path off the
	// public internet (expose it only to the scraper, e.g. block it at the
	// load balancer or ingress).
	MetricsEnabled bool `env:"METRICS_ENABLED" envDefault:"true"`

	// Resilience under faults (Redis bounds, subscription retries and
	// limits, instance identity).

	// RedisTimeout bounds the time any request waits on Redis: one read
	// cache look-up (with its fill) or invalidation, a publish, a /readyz
	// ping. Past it the request is answered from PostgreSQL.
	RedisTimeout time.Duration `env:"REDIS_TIMEOUT" envDefault:"100ms"`
	// RedisBreakerFailures consecutive Redis failures open the read cache's
	// circuit breaker: Redis is not asked at all for RedisBreakerCooldown,
	// then one call probes it.
	RedisBreakerFailures int `env:"REDIS_BREAKER_FAILURES" envDefault:"3"`
	// RedisBreakerCooldown is how long an open breaker skips Redis.
	RedisBreakerCooldown time.Duration `env:"REDIS_BREAKER_COOLDOWN" envDefault:"1s"`
	// SubscriptionRetryFor is how long a subscription retries a failing
	// read (with backoff from 100 ms to 5 s, resuming where it was) before
	// it ends with an UNAVAILABLE error, telling the client to resubscribe
	// (0: the default).
	SubscriptionRetryFor time.Duration `env:"SUBSCRIPTION_RETRY_FOR" envDefault:"30s"`
	// MaxSubscriptionsPerConnection caps the subscriptions open at once on
	// one WebSocket; one more closes it with 4429 (graphql-transport-ws)
	// or gets an error message (graphql-ws).
	MaxSubscriptionsPerConnection int `env:"MAX_SUBSCRIPTIONS_PER_CONNECTION" envDefault:"100"`
	// MaxSubscriptions caps the subscriptions open at once on this instance,
	// over WebSocket and SSE; past it a new one is refused (4429 on
	// graphql-transport-ws, HTTP 429 on SSE).
	MaxSubscriptions int `env:"MAX_SUBSCRIPTIONS" envDefault:"10000"`
	// InstanceName labels this instance in metrics
	// (chronicle_projection_active); empty means "<hostname>-<pid>".
	InstanceName string `env:"INSTANCE_NAME"`

	// LogLevel is debug, info, warn or error.
	LogLevel string `env:"LOG_LEVEL" envDefault:"info"`
}

// DevOrigins are the origins a development-mode server allows when
// ALLOWED_ORIGINS is empty: any port on localhost and 127.0.0.1, so that
// Vite's dev server (or any local page) can call `make run`'s API.
var DevOrigins = []string{"http://localhost:*", "http://127.0.0.1:*"}

// Origins returns the browser origins allowed besides the server's own:
// AllowedOrigins, or DevOrigins in development mode when that is empty.
func (c Config) Origins() []string {
	if len(c.AllowedOrigins) == 0 && c.Dev {
		return append([]string(nil), DevOrigins...)
	}
	return c.AllowedOrigins
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
	case c.SnapshotEvery < 0:
		return fmt.Errorf("config: SNAPSHOT_EVERY must not be negative, got %d", c.SnapshotEvery)
	case c.AggregateCacheSize < 0:
		return fmt.Errorf("config: AGGREGATE_CACHE_SIZE must not be negative, got %d", c.AggregateCacheSize)
	case c.AppendGroups < 0:
		return fmt.Errorf("config: APPEND_GROUPS must not be negative, got %d", c.AppendGroups)
	case c.ReadYourWritesTimeout < 0:
		return fmt.Errorf("config: READ_YOUR_WRITES_TIMEOUT must not be negative")
	case c.OrderPaymentTimeout <= 0:
		return fmt.Errorf("config: ORDER_PAYMENT_TIMEOUT must be positive")
	case c.MaxRequestBytes <= 0:
		return fmt.Errorf("config: MAX_REQUEST_BYTES must be positive")
	case c.WSKeepAlive <= 0:
		return fmt.Errorf("config: WS_KEEPALIVE must be positive")
	case c.SubscriptionWriteTimeout <= 0:
		return fmt.Errorf("config: SUBSCRIPTION_WRITE_TIMEOUT must be positive")
	case c.RedisTimeout <= 0 || c.RedisBreakerFailures <= 0 || c.RedisBreakerCooldown <= 0:
		return fmt.Errorf("config: REDIS_TIMEOUT, REDIS_BREAKER_FAILURES and REDIS_BREAKER_COOLDOWN must be positive")
	case c.SubscriptionRetryFor < 0:
		return fmt.Errorf("config: SUBSCRIPTION_RETRY_FOR must not be negative")
	case c.MaxSubscriptionsPerConnection <= 0 || c.MaxSubscriptions <= 0:
		return fmt.Errorf("config: MAX_SUBSCRIPTIONS_PER_CONNECTION and MAX_SUBSCRIPTIONS must be positive")
	}
	if err := c.validateEdge(); err != nil {
		return err
	}
	if c.MasterKey == "" && !c.Dev {
		return fmt.Errorf("config: CHRONICLE_MASTER_KEY is required outside development mode (32 bytes, base64 or hex; e.g. head -c 32 /dev/urandom | base64)")
	}
	if c.MasterKey != "" {
		if _, err := datasubject.ParseMasterKey(c.MasterKey); err != nil {
			return fmt.Errorf("config: CHRONICLE_MASTER_KEY: %w", err)
		}
	}
	for _, o := range c.AllowedOrigins {
		if err := validOrigin(o); err != nil {
			return fmt.Errorf("config: ALLOWED_ORIGINS: %w", err)
		}
	}
	return c.validateAuth()
}

// validateEdge checks the limits and timeouts at the edge.
func (c Config) validateEdge() error {
	switch {
	case c.GraphQLMaxTokens < 0 || c.GraphQLMaxFragments < 0 || c.GraphQLMaxSelections < 0 || c.GraphQLMaxComparisons < 0:
		return fmt.Errorf("config: GRAPHQL_MAX_* must not be negative")
	case c.RequestTimeout < 0:
		return fmt.Errorf("config: REQUEST_TIMEOUT must not be negative")
	case c.MaxConcurrentRequests < 0 || c.MaxConcurrentLongRequests < 0 || c.MaxConcurrentCommands < 0:
		return fmt.Errorf("config: MAX_CONCURRENT_REQUESTS, MAX_CONCURRENT_COMMANDS and MAX_CONCURRENT_LONG_REQUESTS must not be negative")
	case c.RateLimit < 0 || c.RateLimitBurst < 0:
		return fmt.Errorf("config: RATE_LIMIT and RATE_LIMIT_BURST must not be negative")
	case c.RateLimit > 0 && c.RedisURL == "":
		return fmt.Errorf("config: RATE_LIMIT needs REDIS_URL (the limits are shared through Redis)")
	case c.RateLimit > 0 && (c.RateLimitPeriod <= 0 || c.RateLimitRedisTimeout <= 0):
		return fmt.Errorf("config: RATE_LIMIT_PERIOD and RATE_LIMIT_REDIS_TIMEOUT must be positive")
	case c.HTTPReadTimeout < 0 || c.HTTPIdleTimeout < 0:
		return fmt.Errorf("config: HTTP_READ_TIMEOUT and HTTP_IDLE_TIMEOUT must not be negative")
	case c.DatabaseConnectTimeout < 0:
		return fmt.Errorf("config: DATABASE_CONNECT_TIMEOUT must not be negative")
	}
	return nil
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
