package gqlws_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/chronicle-es/chronicle/internal/gqlws"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// fakeExec is a gqlgen executor without a schema, for the protocol tests.
// The root field of an operation says what it does:
//
//	query { hello }             one result {"hello":"world"}
//	subscription { ticks }      a result for each value published to the source
//	subscription { org }        the same, each value prefixed with the caller's org
//	subscription { finite }     results "1" and "2", then the end
//	subscription { boom }       a panic
//	subscription { invalid }    refused with a validation error (a protocol error for gqlgen)
//	subscription { deep }       refused with an error of the user's kind (as a depth limit)
//
// A document that does not parse is refused with a parse error.
type fakeExec struct {
	src *source
	// dispatched counts the executions started.
	dispatched atomic.Int64
}

// orgKey is the context key of the caller's organization (set by init).
type orgKey struct{}

func (f *fakeExec) CreateOperationContext(ctx context.Context, params *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	doc, err := parser.ParseQuery(&ast.Source{Input: params.Query})
	if err != nil {
		e := gqlerror.Errorf("parse: %v", err)
		e.Extensions = map[string]any{"code": "GRAPHQL_PARSE_FAILED"}
		return &graphql.OperationContext{}, gqlerror.List{e}
	}
	op := doc.Operations.ForName(params.OperationName)
	if op == nil {
		return &graphql.OperationContext{}, gqlerror.List{gqlerror.Errorf("no operation")}
	}
	rc := &graphql.OperationContext{RawQuery: params.Query, Variables: params.Variables, OperationName: params.OperationName,
		Doc: doc, Operation: op, RecoverFunc: graphql.DefaultRecover}
	switch root(rc) {
	case "invalid":
		e := gqlerror.Errorf("Cannot query field \"invalid\"")
		e.Extensions = map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}
		return rc, gqlerror.List{e}
	case "deep":
		e := gqlerror.Errorf("too deep")
		e.Extensions = map[string]any{"code": "DEPTH_LIMIT_EXCEEDED"}
		return rc, gqlerror.List{e}
	}
	return rc, nil
}

func root(rc *graphql.OperationContext) string {
	if len(rc.Operation.SelectionSet) == 0 {
		return ""
	}
	f, _ := rc.Operation.SelectionSet[0].(*ast.Field)
	if f == nil {
		return ""
	}
	return f.Name
}

func (f *fakeExec) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	f.dispatched.Add(1)
	data := func(field, v string) *graphql.Response {
		b, _ := json.Marshal(map[string]string{field: v})
		return &graphql.Response{Data: b}
	}
	switch name := root(rc); name {
	case "hello":
		return graphql.OneShot(data("hello", "world")), ctx
	case "finite":
		n := 0
		return func(context.Context) *graphql.Response {
			n++
			if n > 2 {
				return nil
			}
			return data("finite", fmt.Sprint(n))
		}, ctx
	case "boom":
		return func(context.Context) *graphql.Response { panic("boom") }, ctx
	case "ticks", "org":
		ch, stop := f.src.subscribe()
		context.AfterFunc(ctx, stop) // as a resolver's goroutine ends with its context
		prefix := ""
		if name == "org" {
			prefix, _ = ctx.Value(orgKey{}).(string)
			prefix += ":"
		}
		return func(ctx context.Context) *graphql.Response {
			select {
			case v := <-ch:
				return data(name, prefix+v)
			case <-ctx.Done():
				return nil
			}
		}, ctx
	}
	return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{gqlerror.Errorf("unknown field")}}), ctx
}

func (f *fakeExec) DispatchError(_ context.Context, list gqlerror.List) *graphql.Response {
	return &graphql.Response{Errors: list}
}

// source is what ticks and org subscriptions follow: each execution gets
// every value published after it subscribed.
type source struct {
	mu   sync.Mutex
	subs map[chan string]struct{}
}

func newSource() *source { return &source{subs: map[chan string]struct{}{}} }

func (s *source) subscribe() (<-chan string, func()) {
	ch := make(chan string, 1024)
	s.mu.Lock()
	s.subs[ch] = struct{}{}
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		delete(s.subs, ch)
		s.mu.Unlock()
	}
}

func (s *source) publish(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.subs {
		ch <- v
	}
}

// listeners returns how many executions follow the source.
func (s *source) listeners() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// refusal is an InitRefusal with its own close code.
type refusal struct{}

func (refusal) Error() string            { return "refused" }
func (refusal) CloseCode() (int, string) { return 4499, "refused by the test" }

// testServer serves a Transport over a fakeExec. cfg's Init, when nil,
// accepts a payload {"org": "..."} (the org goes into the context; "bad"
// is refused with 4403, "custom" with the refusal's code) and cuts the
// context of a payload {"expire": true} after 200 ms.
type testServer struct {
	*httptest.Server
	exec   *fakeExec
	src    *source
	limits *gqlws.Limits
	// shutdown ends every request's context, as the server's shutdown does.
	shutdown context.CancelFunc
}

func shareTicks(ctx context.Context, rc *graphql.OperationContext) (string, bool) {
	if rc.Operation.Operation != ast.Subscription || (root(rc) != "ticks" && root(rc) != "org") {
		return "", false
	}
	org, _ := ctx.Value(orgKey{}).(string)
	vars, _ := json.Marshal(rc.Variables)
	return org + "\x00" + rc.RawQuery + "\x00" + string(vars), true
}

func startServer(t *testing.T, cfg gqlws.Config) *testServer {
	t.Helper()
	src := newSource()
	exec := &fakeExec{src: src}
	if cfg.Init == nil {
		cfg.Init = func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			switch org := p.GetString("org"); org {
			case "bad":
				return ctx, nil, errors.New("UNAUTHENTICATED: bad token")
			case "custom":
				return ctx, nil, refusal{}
			default:
				ctx = context.WithValue(ctx, orgKey{}, org)
			}
			if p["expire"] == true {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeoutCause(ctx, 200*time.Millisecond, errors.New("token expired"))
				context.AfterFunc(ctx, cancel)
			}
			return ctx, &transport.InitPayload{"hello": "client"}, nil
		}
	}
	tr := gqlws.New(cfg)
	base, shutdown := context.WithCancel(context.Background())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !tr.Supports(r) {
			http.Error(w, "not graphql-transport-ws", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stop := context.AfterFunc(base, cancel)
		defer stop()
		tr.Do(w, r.WithContext(ctx), exec)
	}))
	t.Cleanup(func() {
		shutdown()
		srv.Close()
	})
	return &testServer{Server: srv, exec: exec, src: src, limits: cfg.Limits, shutdown: shutdown}
}

// client is a test's graphql-transport-ws connection. It does not answer
// pings by itself.
type client struct {
	t    *testing.T
	conn *websocket.Conn
}

type message struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func (s *testServer) dial(t *testing.T, protocols ...string) *client {
	t.Helper()
	if protocols == nil {
		protocols = []string{gqlws.Protocol}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http"), &websocket.DialOptions{Subprotocols: protocols})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	return &client{t: t, conn: conn}
}

// init dials and acknowledges a connection of org.
func (s *testServer) init(t *testing.T, org string) *client {
	t.Helper()
	c := s.dial(t)
	c.send(message{Type: "connection_init", Payload: json.RawMessage(fmt.Sprintf(`{"org":%q}`, org))})
	if m := c.next(); m.Type != "connection_ack" || string(m.Payload) != `{"hello":"client"}` {
		t.Fatalf("after connection_init: %+v, want connection_ack with the Init's payload", m)
	}
	return c
}

func (c *client) sendRaw(b string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(b)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) send(m message) {
	c.t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(string(b))
}

func (c *client) subscribe(id, query string) {
	c.t.Helper()
	b, _ := json.Marshal(map[string]any{"query": query})
	c.send(message{Type: "subscribe", ID: id, Payload: b})
}

// read returns the next message, or the error the connection ended with
// (a read that times out closes the connection).
func (c *client) read(d time.Duration) (message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, b, err := c.conn.Read(ctx)
	if err != nil {
		return message{}, err
	}
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		return message{}, fmt.Errorf("undecodable %q: %w", b, err)
	}
	return m, nil
}

// next returns the next message, within 5 s.
func (c *client) next() message {
	c.t.Helper()
	m, err := c.read(5 * time.Second)
	if err != nil {
		c.t.Fatalf("waiting for a message: %v", err)
	}
	return m
}

// sync returns once the server has handled every message sent before: it
// pings and waits for the pong.
func (c *client) sync() {
	c.t.Helper()
	c.send(message{Type: "ping", Payload: json.RawMessage(`"sync"`)})
	for {
		if m := c.next(); m.Type == "pong" && string(m.Payload) == `"sync"` {
			return
		}
	}
}

// quiet fails if anything but a pong arrives within d (a read with a
// deadline would close the connection: coder/websocket closes it when a
// read's context ends).
func (c *client) quiet(d time.Duration) {
	c.t.Helper()
	time.Sleep(d)
	c.send(message{Type: "ping", Payload: json.RawMessage(`"quiet"`)})
	for {
		m := c.next()
		if m.Type == "pong" && string(m.Payload) == `"quiet"` {
			return
		}
		c.t.Fatalf("unexpected %s %s %s", m.ID, m.Type, m.Payload)
	}
}

// closed waits for the server's close frame and returns it; a result or a
// complete before it fails the test.
func (c *client) closed() websocket.CloseError {
	c.t.Helper()
	for {
		m, err := c.read(5 * time.Second)
		if err == nil {
			if m.Type == "next" || m.Type == "complete" {
				c.t.Errorf("before the close: %s %s %s", m.ID, m.Type, m.Payload)
			}
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("connection ended with %v, want a close frame", err)
		}
		return ce
	}
}

// data returns the value of field in a next message of id.
func (c *client) data(id, field string) string {
	c.t.Helper()
	m := c.next()
	if m.Type != "next" || m.ID != id {
		c.t.Fatalf("got %s %s %s, want next for %s", m.Type, m.ID, m.Payload, id)
	}
	var resp struct {
		Data map[string]string `json:"data"`
	}
	if err := json.Unmarshal(m.Payload, &resp); err != nil {
		c.t.Fatal(err)
	}
	return resp.Data[field]
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5 s: %s", what)
		}
	}
}
