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
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/auth"
	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/chronicle-es/chronicle/internal/server"
	"github.com/coder/websocket"
)

// TestSecret is the HS256 secret of Config.
const TestSecret = "servertest-hs256-secret-of-32-bytes-or-more"

// DefaultIdentity is the caller of Client, DialWS and Stream.
var DefaultIdentity = auth.Identity{Subject: "tester", Organization: "test-org"}

// TokenTTL is the lifetime of the tokens the clients send.
const TokenTTL = time.Hour

// Config returns config.Default() tuned for tests: short projection poll and
// lock retry intervals, a short shutdown timeout, development mode off and
// tokens verified with TestSecret. DatabaseURL is left to the caller (or to
// Start).
func Config() config.Config {
	cfg := config.Default()
	cfg.ProjectionPollInterval = 50 * time.Millisecond
	cfg.ProjectionLockRetry = 50 * time.Millisecond
	cfg.ShutdownTimeout = 10 * time.Second
	cfg.LogLevel = "debug"
	cfg.Dev = false
	cfg.JWTHS256Secret = TestSecret
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
	// Token, when not empty, is sent as "Authorization: Bearer <Token>"
	// (unless a request sets Authorization itself) and in the
	// connection_init of the WebSockets the client dials.
	Token string
}

// setHeaders adds the client's headers, the request's, and the token.
func (c *Client) setHeaders(hr *http.Request, header http.Header) {
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
	if c.Token != "" && hr.Header.Get("Authorization") == "" {
		hr.Header.Set("Authorization", "Bearer "+c.Token)
	}
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
	c.setHeaders(hr, header)
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

// The GraphQL-over-WebSocket subprotocols.
const (
	// GraphQLTransportWS is the current protocol (graphql-ws library 5+).
	GraphQLTransportWS = "graphql-transport-ws"
	// GraphQLWS is the legacy protocol of subscriptions-transport-ws.
	GraphQLWS = "graphql-ws"
)

// WSMessage is one message of either subprotocol.
type WSMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// IsNext reports a result of an operation ("next", legacy "data").
func (m WSMessage) IsNext() bool { return m.Type == "next" || m.Type == "data" }

// Response decodes the payload of a result message.
func (m WSMessage) Response() (*Response, error) {
	var r Response
	if err := json.Unmarshal(m.Payload, &r); err != nil {
		return nil, fmt.Errorf("%s message: %w: %s", m.Type, err, m.Payload)
	}
	r.Body = m.Payload
	return &r, nil
}

// Errors decodes the payload of an "error" message (a list of errors).
func (m WSMessage) Errors() ([]Error, error) {
	var errs []Error
	if err := json.Unmarshal(m.Payload, &errs); err != nil {
		return nil, fmt.Errorf("%s message: %w: %s", m.Type, err, m.Payload)
	}
	return errs, nil
}

// WSConn is a GraphQL-over-WebSocket client connection. A goroutine reads
// every message; it answers graphql-transport-ws pings with pongs, and
// counts them and graphql-ws keepalives ("ka") instead of handing them on.
type WSConn struct {
	// Conn is the WebSocket.
	Conn *websocket.Conn
	// Subprotocol is the negotiated subprotocol.
	Subprotocol string

	// Token, when not empty, is sent in connection_init (see Init).
	Token string

	messages   chan WSMessage
	done       chan struct{}
	err        error // why the reader stopped; set before done is closed
	keepAlives atomic.Int64
	writeMu    sync.Mutex
}

// DialWS opens a WebSocket to the server's /query with subprotocol
// (GraphQLTransportWS or GraphQLWS) as Client does: its Init sends a token
// of DefaultIdentity. header (e.g. Origin) is added to the upgrade request.
// On a refused upgrade the HTTP response is returned with the error.
func (s *Server) DialWS(ctx context.Context, subprotocol string, header http.Header) (*WSConn, *http.Response, error) {
	return s.Client().DialWS(ctx, subprotocol, header)
}

// DialWS opens a WebSocket to the client's endpoint with subprotocol; Init
// sends the client's token in connection_init (the upgrade request carries
// only header).
func (c *Client) DialWS(ctx context.Context, subprotocol string, header http.Header) (*WSConn, *http.Response, error) {
	u := "ws" + strings.TrimPrefix(c.URL, "http")
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: []string{subprotocol}, HTTPHeader: header})
	if err != nil {
		return nil, resp, err
	}
	if conn.Subprotocol() != subprotocol {
		_ = conn.CloseNow()
		return nil, resp, fmt.Errorf("negotiated subprotocol %q, want %q", conn.Subprotocol(), subprotocol)
	}
	ws := &WSConn{Conn: conn, Subprotocol: subprotocol, Token: c.Token, messages: make(chan WSMessage, 1024), done: make(chan struct{})}
	go ws.read()
	return ws, resp, nil
}

// MustDialWS is DialWS that fails the test on an error, and closes the
// connection when the test ends.
func (s *Server) MustDialWS(t testing.TB, subprotocol string, header http.Header) *WSConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := s.DialWS(ctx, subprotocol, header)
	if err != nil {
		t.Fatalf("servertest: dial websocket: %v", err)
	}
	t.Cleanup(c.Abort)
	return c
}

func (c *WSConn) read() {
	defer close(c.done)
	defer close(c.messages)
	for {
		_, b, err := c.Conn.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		var m WSMessage
		if err := json.Unmarshal(b, &m); err != nil {
			c.err = fmt.Errorf("undecodable message %q: %w", b, err)
			_ = c.Conn.CloseNow()
			return
		}
		switch {
		case m.Type == "ka":
			c.keepAlives.Add(1)
			continue
		case m.Type == "ping" && c.Subprotocol == GraphQLTransportWS:
			c.keepAlives.Add(1)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = c.Send(ctx, WSMessage{Type: "pong"})
			cancel()
			continue
		}
		select {
		case c.messages <- m:
		default:
			c.err = errors.New("servertest: more than 1024 unread websocket messages")
			_ = c.Conn.CloseNow()
			return
		}
	}
}

// Send writes one message.
func (c *WSConn) Send(ctx context.Context, m WSMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.Conn.Write(ctx, websocket.MessageText, b)
}

// Next returns the next message other than a keepalive. After the last one
// it returns the error the connection ended with (see websocket.CloseStatus).
func (c *WSConn) Next(ctx context.Context) (WSMessage, error) {
	select {
	case m, ok := <-c.messages:
		if !ok {
			return WSMessage{}, c.err
		}
		return m, nil
	case <-ctx.Done():
		return WSMessage{}, fmt.Errorf("no websocket message: %w", ctx.Err())
	}
}

// Init sends connection_init with payload (nil for none) and waits for
// connection_ack. When c.Token is set and payload (a JSON object) carries
// no token of its own ("Authorization", "authorization", "token",
// "authToken"), "Authorization": "Bearer <Token>" is added to it.
func (c *WSConn) Init(ctx context.Context, payload any) error {
	m := WSMessage{Type: "connection_init"}
	fields := map[string]any{}
	if payload != nil {
		b, err := json.Marshal(payload)
		if err != nil {
			return err
		}
		m.Payload = b
		if err := json.Unmarshal(b, &fields); err != nil {
			fields = nil // not an object: sent as is
		}
	}
	if c.Token != "" && fields != nil {
		has := false
		for _, k := range []string{"Authorization", "authorization", "token", "authToken"} {
			_, found := fields[k]
			has = has || found
		}
		if !has {
			fields["Authorization"] = "Bearer " + c.Token
			b, err := json.Marshal(fields)
			if err != nil {
				return err
			}
			m.Payload = b
		}
	}
	if err := c.Send(ctx, m); err != nil {
		return err
	}
	ack, err := c.Next(ctx)
	if err != nil {
		return err
	}
	if ack.Type != "connection_ack" {
		return fmt.Errorf("got %s %s, want connection_ack", ack.Type, ack.Payload)
	}
	return nil
}

// Subscribe starts operation id ("subscribe", legacy "start").
func (c *WSConn) Subscribe(ctx context.Context, id string, req Request) error {
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	typ := "subscribe"
	if c.Subprotocol == GraphQLWS {
		typ = "start"
	}
	return c.Send(ctx, WSMessage{Type: typ, ID: id, Payload: b})
}

// Stop ends operation id ("complete", legacy "stop").
func (c *WSConn) Stop(ctx context.Context, id string) error {
	typ := "complete"
	if c.Subprotocol == GraphQLWS {
		typ = "stop"
	}
	return c.Send(ctx, WSMessage{Type: typ, ID: id})
}

// KeepAlives returns how many keepalives (graphql-transport-ws pings,
// graphql-ws "ka") have arrived.
func (c *WSConn) KeepAlives() int { return int(c.keepAlives.Load()) }

// Done is closed when the connection has ended; Err then says how.
func (c *WSConn) Done() <-chan struct{} { return c.done }

// Err returns the error the connection ended with, once Done is closed.
func (c *WSConn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Close closes the connection normally (close handshake).
func (c *WSConn) Close() error { return c.Conn.Close(websocket.StatusNormalClosure, "") }

// Abort drops the connection without a close handshake.
func (c *WSConn) Abort() { _ = c.Conn.CloseNow() }

// SSEEvent is one event of a text/event-stream.
type SSEEvent struct {
	// Event is the event type ("next", "complete").
	Event string
	// Data is the event's data (lines joined with "\n").
	Data string
}

// Response decodes the data of a "next" event.
func (e SSEEvent) Response() (*Response, error) {
	var r Response
	if err := json.Unmarshal([]byte(e.Data), &r); err != nil {
		return nil, fmt.Errorf("%s event: %w: %q", e.Event, err, e.Data)
	}
	r.Body = []byte(e.Data)
	return &r, nil
}

// SSEStream is a GraphQL-over-SSE response being read.
type SSEStream struct {
	// Response is the HTTP response; its body is the stream.
	Response *http.Response

	events   chan SSEEvent
	done     chan struct{}
	err      error
	comments atomic.Int64
}

// Stream posts req with Accept: text/event-stream (GraphQL over SSE) and
// returns the stream of its events. Close it when done.
func (c *Client) Stream(ctx context.Context, req Request) (*SSEStream, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "text/event-stream")
	c.setHeaders(hr, req.Header)
	hc := *c.HTTP
	hc.Timeout = 0 // a stream lasts
	resp, err := hc.Do(hr)
	if err != nil {
		return nil, err
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, fmt.Errorf("HTTP %d, Content-Type %q, not an event stream: %s", resp.StatusCode, ct, raw)
	}
	s := &SSEStream{Response: resp, events: make(chan SSEEvent, 1024), done: make(chan struct{})}
	go s.read()
	return s, nil
}

func (s *SSEStream) read() {
	defer close(s.done)
	defer close(s.events)
	sc := bufio.NewScanner(s.Response.Body)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	var (
		ev   SSEEvent
		data []string
	)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.Event == "" && data == nil {
				continue
			}
			ev.Data = strings.Join(data, "\n")
			select {
			case s.events <- ev:
			default:
				s.err = errors.New("servertest: more than 1024 unread SSE events")
				s.Response.Body.Close()
				return
			}
			ev, data = SSEEvent{}, nil
		case strings.HasPrefix(line, ":"):
			s.comments.Add(1)
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				ev.Event = value
			case "data":
				data = append(data, value)
			}
		}
	}
	s.err = sc.Err()
	if s.err == nil {
		s.err = io.EOF
	}
}

// Next returns the next event; io.EOF after the stream has ended.
func (s *SSEStream) Next(ctx context.Context) (SSEEvent, error) {
	select {
	case ev, ok := <-s.events:
		if !ok {
			return SSEEvent{}, s.err
		}
		return ev, nil
	case <-ctx.Done():
		return SSEEvent{}, fmt.Errorf("no SSE event: %w", ctx.Err())
	}
}

// Comments returns how many comment lines (keepalives) have arrived.
func (s *SSEStream) Comments() int { return int(s.comments.Load()) }

// Done is closed when the stream has ended.
func (s *SSEStream) Done() <-chan struct{} { return s.done }

// Close ends the stream from the client's side.
func (s *SSEStream) Close() { _ = s.Response.Body.Close() }
