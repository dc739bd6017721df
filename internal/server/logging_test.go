package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/auth"
	"github.com/chronicle-es/chronicle/internal/logging"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/chronicle-es/chronicle/internal/server"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// jsonLines decodes every line of log, failing the test on one that is not
// a JSON object.
func jsonLines(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("a log line that is not JSON: %q", line)
			continue
		}
		out = append(out, m)
	}
	return out
}

// With the server's logger every line is JSON, durations are readable, the
// start says the schema's version, and at debug level each request has a
// line with its operation, status, duration and correlation id.
func TestLogsAreJSONLines(t *testing.T) {
	t.Parallel()
	cfg := servertest.Config()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	var log syncBuffer
	logger := logging.New(&log, slog.LevelDebug)
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()

	req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/query",
		strings.NewReader(`{"query":"query Ping { __typename }","operationName":"Ping"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Correlation-ID", "corr-"+randomSuffix())
	// Without a token: refused (401), logged all the same.
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	token, err := auth.MintWith([]byte(cfg.JWTHS256Secret), servertest.DefaultIdentity, time.Hour, auth.MintOptions{
		OrganizationClaim: cfg.JWTOrganizationClaim})
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest(http.MethodPost, req.URL.String(), strings.NewReader(`{"query":"query Ping { __typename }","operationName":"Ping"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Correlation-ID", "corr-ping")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	var migrated, requested, refused bool
	for _, line := range jsonLines(t, log.String()) {
		switch line["msg"] {
		case "database migrations applied":
			v, _ := line["schema_version"].(float64)
			migrated = v > 0
		case "request":
			d, _ := line["duration"].(string)
			if _, err := time.ParseDuration(d); err != nil {
				t.Errorf("request duration %v is not a readable duration", line["duration"])
			}
			switch line["status"] {
			case float64(http.StatusOK):
				requested = line["operation"] == "Ping" && line["correlation_id"] == "corr-ping" && line["method"] == "POST"
			case float64(http.StatusUnauthorized):
				refused = true
			}
		}
	}
	if !migrated || !requested || !refused {
		t.Errorf("migrations line %v, request line %v, refused request line %v; log:\n%s", migrated, requested, refused, log.String())
	}
}

// Start-up waits for PostgreSQL (DATABASE_CONNECT_TIMEOUT), so that the
// server and the database may start in any order; when PostgreSQL stays
// away the error names DATABASE_URL. Before, the first failed ping ended
// the start.
func TestStartWaitsForTheDatabase(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	upstream := u.Host
	// A free port, with nothing listening on it yet.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	u.Host = addr

	cfg := servertest.Config()
	cfg.DatabaseURL = u.String()
	cfg.DatabaseConnectTimeout = 300 * time.Millisecond
	_, err = server.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Fatalf("start without PostgreSQL: %v, want an error that names DATABASE_URL", err)
	}

	cfg.DatabaseConnectTimeout = time.Minute
	var log syncBuffer
	started := make(chan error, 1)
	go func() {
		srv, err := server.New(context.Background(), cfg, logging.New(&log, slog.LevelInfo))
		if err == nil {
			srv.Pool().Close()
		}
		started <- err
	}()
	// Once the server has said it retries, PostgreSQL "starts".
	for !strings.Contains(log.String(), "retrying") {
		select {
		case err := <-started:
			t.Fatalf("server.New returned before PostgreSQL was reachable: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	newBlackholeAt(t, addr, upstream)
	if err := <-started; err != nil {
		t.Fatalf("server.New once PostgreSQL is reachable: %v", err)
	}
}
