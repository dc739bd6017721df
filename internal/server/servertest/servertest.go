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
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/chronicle-es/chronicle/internal/server"
)

// Config returns config.Default() tuned for tests: short projection poll and
// lock retry intervals and a short shutdown timeout. DatabaseURL is left to
// the caller (or to Start).
func Config() config.Config {
	cfg := config.Default()
	cfg.ProjectionPollInterval = 50 * time.Millisecond
	cfg.ProjectionLockRetry = 50 * time.Millisecond
	cfg.ShutdownTimeout = 10 * time.Second
	cfg.LogLevel = "debug"
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

// Client returns a GraphQL client for the server's /query endpoint, with its
// own http.Client.
func (s *Server) Client() *Client {
	return &Client{
		URL: s.URL + "/query",
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

// Vars are a GraphQL request's variables.
type Vars = map[string]any

// Client posts GraphQL requests as JSON, as a browser client would.
type Client struct {
	// URL is the GraphQL endpoint.
	URL string
	// HTTP sends the requests.
	HTTP *http.Client
	// Header is added to every request (e.g. X-Correlation-ID).
	Header http.Header
}

// Request is one GraphQL request.
type Request struct {
	Query         string `json:"query"`
	Variables     Vars   `json:"variables,omitempty"`
	OperationName string `json:"operationName,omitempty"`
	// Header is added to this request only.
	Header http.Header `json:"-"`
}

// Error is one GraphQL error of a response.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code returns extensions.code, or "" when there is none.
func (e Error) Code() string {
	c, _ := e.Extensions["code"].(string)
	return c
}

// Response is a decoded GraphQL response with its HTTP status and headers.
type Response struct {
	Status int
	Header http.Header
	// Data is the raw "data" member (null or absent: empty or "null").
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
	// Body is the raw response body.
	Body []byte `json:"-"`
}

// Codes returns the extensions.code of every error, in order.
func (r *Response) Codes() []string {
	out := make([]string, len(r.Errors))
	for i, e := range r.Errors {
		out[i] = e.Code()
	}
	return out
}

// Decode unmarshals Data into v.
func (r *Response) Decode(v any) error {
	if len(r.Data) == 0 {
		return fmt.Errorf("response has no data: %s", r.Body)
	}
	return json.Unmarshal(r.Data, v)
}

// Do sends req and decodes the answer. It fails only on transport errors and
// bodies that are not a JSON object; GraphQL errors are in Response.Errors.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return c.Post(ctx, "application/json", body, req.Header)
}

// Post sends body to the endpoint as is and decodes the answer as a GraphQL
// response.
func (c *Client) Post(ctx context.Context, contentType string, body []byte, header http.Header) (*Response, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", contentType)
	hr.Header.Set("Accept", "application/json")
	for k, vs := range c.Header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	for k, vs := range header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	httpResp, err := c.HTTP.Do(hr)
	if err != nil {
		return nil, err
	}
	defer httpResp.Body.Close()
	raw, err := io.ReadAll(httpResp.Body)
	if err != nil {
		return nil, fmt.Errorf("read response (status %d): %w", httpResp.StatusCode, err)
	}
	resp := &Response{Status: httpResp.StatusCode, Header: httpResp.Header, Body: raw}
	if err := json.Unmarshal(raw, resp); err != nil {
		return resp, fmt.Errorf("status %d, body is not a GraphQL response: %w: %q", httpResp.StatusCode, err, truncate(raw))
	}
	return resp, nil
}

// MustDo sends query with vars and fails the test on a transport error or
// an undecodable body. GraphQL errors are left to the caller.
func (c *Client) MustDo(t testing.TB, query string, vars Vars) *Response {
	t.Helper()
	resp, err := c.Do(context.Background(), Request{Query: query, Variables: vars})
	if err != nil {
		t.Fatalf("graphql: %v", err)
	}
	if resp.Status >= 500 {
		t.Fatalf("graphql: HTTP %d: %s", resp.Status, truncate(resp.Body))
	}
	return resp
}

// MustSucceed sends query with vars, fails the test unless the answer is
// HTTP 200 without errors, and decodes its data into out (when not nil).
func (c *Client) MustSucceed(t testing.TB, query string, vars Vars, out any) *Response {
	t.Helper()
	resp := c.MustDo(t, query, vars)
	if resp.Status != http.StatusOK || len(resp.Errors) > 0 {
		t.Fatalf("graphql: HTTP %d, errors %+v\nquery: %s\nvariables: %v", resp.Status, resp.Errors, oneLine(query), vars)
	}
	if out != nil {
		if err := resp.Decode(out); err != nil {
			t.Fatalf("graphql: decode data: %v", err)
		}
	}
	return resp
}

// MustFail sends query with vars and fails the test unless the answer is
// HTTP 200 with exactly one error whose extensions.code is code. It returns
// that error.
func (c *Client) MustFail(t testing.TB, code, query string, vars Vars) Error {
	t.Helper()
	resp := c.MustDo(t, query, vars)
	if resp.Status != http.StatusOK {
		t.Fatalf("graphql: HTTP %d, want 200 (errors %+v)", resp.Status, resp.Errors)
	}
	if len(resp.Errors) != 1 || resp.Errors[0].Code() != code {
		t.Fatalf("graphql: errors %+v, want one with code %s\nvariables: %v", resp.Errors, code, vars)
	}
	return resp.Errors[0]
}

func truncate(b []byte) string {
	const n = 500
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

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
