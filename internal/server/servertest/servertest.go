// Package servertest starts whole Chronicle servers in tests: a fresh
// migrated database (pgtest), server.New and Serve on a 127.0.0.1:0
// listener, and a small GraphQL-over-HTTP client to talk to it.
//
//	srv := servertest.Start(t, nil)
//	resp := srv.Client().MustDo(t, `query($id: ID!) { account(id: $id) { id } }`, servertest.Vars{"id": id})
//
// The server is stopped when the test ends (Stop may be called earlier);
// Stop fails the test unless Serve returns nil. The server's log is kept in
// memory and printed only when the test failed.
//
// Subscriptions: DialWS opens a GraphQL-over-WebSocket connection (either
// subprotocol), Client.Stream a GraphQL-over-SSE stream.
//
// Authentication: Config sets an HS256 secret (TestSecret) and leaves
// development mode off. Client, DialWS and Stream send a token of
// DefaultIdentity (in the Authorization header; on a WebSocket, in
// connection_init); ClientAs gives a client of another identity,
// ClientWithToken one that sends a given token or none.
package servertest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/auth"
	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/chronicle-es/chronicle/internal/server"
)

// TestSecret is the HS256 secret of Config.
const TestSecret = "servertest-hs256-secret-of-32-bytes-or-more"

// TestMasterKey is the CHRONICLE_MASTER_KEY of Config's servers (32 bytes,
// base64): tests that open sealed values themselves use it too.
const TestMasterKey = "c2VydmVydGVzdC1tYXN0ZXIta2V5LTMyLWJ5dGVzISE="

// DefaultIdentity is the caller of Client, DialWS and Stream.
var DefaultIdentity = auth.Identity{Subject: "tester", Organization: "test-org"}

// TokenTTL is the lifetime of the tokens the clients send.
const TokenTTL = time.Hour

// Config returns config.Default() tuned for tests: short projection poll and
// lock retry intervals, a short shutdown timeout, development mode off,
// tokens verified with TestSecret and personal data sealed under
// TestMasterKey. DatabaseURL is left to the caller (or to
// Start).
func Config() config.Config {
	cfg := config.Default()
	cfg.ProjectionPollInterval = 50 * time.Millisecond
	cfg.ProjectionLockRetry = 50 * time.Millisecond
	cfg.ShutdownTimeout = 10 * time.Second
	cfg.LogLevel = "debug"
	cfg.Dev = false
	cfg.JWTHS256Secret = TestSecret
	cfg.MasterKey = TestMasterKey
	return cfg
}

// Server is a running Chronicle server.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234 (no trailing slash).
	URL string
	// DatabaseURL is the URL of the server's database.
	DatabaseURL string
	// Config is the configuration the server was started with.
	Config config.Config
	// Server is the server itself.
	Server *server.Server

	t       testing.TB
	cancel  context.CancelFunc
	done    chan error
	stopped sync.Once
	stopErr error
	log     *lockedBuffer
}

// Start creates a fresh database and starts a server on it. tune, when not
// nil, adjusts Config() before the start (DatabaseURL is already set to the
// new database when tune runs).
func Start(t testing.TB, tune func(*config.Config)) *Server {
	t.Helper()
	cfg := Config()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	if tune != nil {
		tune(&cfg)
	}
	return StartWith(t, cfg)
}

// StartWith starts a server with cfg as is (cfg.DatabaseURL must name a
// database, e.g. from pgtest.NewDatabase; several servers may share one).
func StartWith(t testing.TB, cfg config.Config) *Server {
	t.Helper()
	logBuf := &lockedBuffer{}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(logBuf, &slog.HandlerOptions{Level: level}))

	ctx, cancel := context.WithCancel(context.Background())
	newCtx, newCancel := context.WithTimeout(ctx, 30*time.Second)
	srv, err := server.New(newCtx, cfg, logger)
	newCancel()
	if err != nil {
		cancel()
		t.Fatalf("servertest: server.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		srv.Pool().Close()
		t.Fatalf("servertest: listen: %v", err)
	}
	s := &Server{
		URL:         "http://" + ln.Addr().String(),
		DatabaseURL: cfg.DatabaseURL,
		Config:      cfg,
		Server:      srv,
		t:           t,
		cancel:      cancel,
		done:        make(chan error, 1),
		log:         logBuf,
	}
	go func() { s.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("servertest: Serve returned %v, want nil", err)
		}
		if t.Failed() {
			t.Logf("servertest: log of the server at %s:\n%s", s.URL, s.log.String())
		}
	})
	return s
}

// Stop cancels the server's context and waits for Serve to return; it
// returns Serve's error (nil after a clean shutdown). Later calls return the
// same result.
func (s *Server) Stop() error {
	s.stopped.Do(func() {
		s.cancel()
		select {
		case s.stopErr = <-s.done:
		case <-time.After(s.Config.ShutdownTimeout + 30*time.Second):
			s.stopErr = fmt.Errorf("servertest: Serve did not return after the shutdown timeout")
		}
	})
	return s.stopErr
}

// Log returns what the server has logged so far.
func (s *Server) Log() string { return s.log.String() }

// Token returns a token for id valid for ttl, signed with the server's
// JWT_HS256_SECRET (with its issuer, audience and organization claim); it
// fails the test when the server has no secret.
func (s *Server) Token(id auth.Identity, ttl time.Duration) string {
	s.t.Helper()
	tok, err := auth.MintWith([]byte(s.Config.JWTHS256Secret), id, ttl, auth.MintOptions{
		Issuer: s.Config.JWTIssuer, Audience: s.Config.JWTAudience, OrganizationClaim: s.Config.JWTOrganizationClaim,
	})
	if err != nil {
		s.t.Fatalf("servertest: mint a token: %v", err)
	}
	return tok
}

// Client returns a GraphQL client for the server's /query endpoint, with its
// own http.Client, that acts as DefaultIdentity (it sends no token when the
// server has no JWT_HS256_SECRET).
func (s *Server) Client() *Client {
	if s.Config.JWTHS256Secret == "" {
		return s.ClientWithToken("")
	}
	return s.ClientWithToken(s.Token(DefaultIdentity, TokenTTL))
}

// ClientAs returns a client that acts as subject of organization.
func (s *Server) ClientAs(subject, organization string) *Client {
	return s.ClientWithToken(s.Token(auth.Identity{Subject: subject, Organization: organization}, TokenTTL))
}

// ClientWithToken returns a client that sends token as is (any string, for
// tests of bad tokens); "" gives an anonymous client, which sends none.
func (s *Server) ClientWithToken(token string) *Client {
	return &Client{
		Token: token,
		URL:   s.URL + "/query",
		HTTP: &http.Client{
			Timeout: 30 * time.Second,
			Transport: &http.Transport{
				MaxIdleConnsPerHost: 256,
				MaxIdleConns:        256,
				IdleConnTimeout:     30 * time.Second,
			},
		},
		Header: http.Header{},
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
