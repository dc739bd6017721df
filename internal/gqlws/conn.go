package gqlws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// maxQueued bounds the messages other than results (acks, pongs,
// completes, errors) waiting for one connection: a client that keeps
// sending pings without reading the pongs is dropped past it.
const maxQueued = 1024

// MaxCloseReason is the longest close reason in bytes (RFC 6455: 125 bytes
// of payload, 2 of them the code).
const MaxCloseReason = 123

// conn is one graphql-transport-ws connection. Its reader is the goroutine
// of serve; everything else happens under mu, on timers, in the writer
// goroutine while there is something to write, and in the executions.
type conn struct {
	t      *Transport
	ws     *websocket.Conn
	reqCtx context.Context // the upgrade request's: ends at shutdown
	exec   graphql.GraphExecutor

	mu sync.Mutex
	// initStarted is set by the first connection_init, acked once Init
	// accepted it; closed once the connection is being closed, handshake
	// once its close handshake has begun.
	initStarted, acked, closed, handshake bool
	// ctx is the operations' context (Init's), cancelled by cancel when the
	// connection ends.
	ctx    context.Context
	cancel context.CancelFunc
	ops    map[string]*operation
	// queue holds what waits to be written, in order; writing is set while
	// the writer goroutine runs.
	queue   []queued
	writing bool
	// pingSent is when the oldest ping not answered yet was sent (zero
	// when none is outstanding).
	pingSent  time.Time
	initTimer *time.Timer
	pingTimer *time.Timer
	stopWatch func() bool
}

// queued is one message waiting to be written: a result of op (its
// payload is op.pending, so a newer result replaces it), or a whole
// message.
type queued struct {
	op  *operation
	msg []byte
}

// operation is one subscribe of a connection, from the client's subscribe
// to its complete, the server's complete or error, or the connection's end.
type operation struct {
	id   string
	conn *conn
	// idJSON is the id as a JSON string; prefix is the start of each of
	// its result messages, up to the payload.
	idJSON, prefix []byte
	// Under conn.mu: pending is the result waiting to be written; queued
	// is set while it is in the queue.
	pending []byte
	queued  bool
	// sent receives after each result is taken by the writer (made for
	// ordered operations, which wait for it).
	sent chan struct{}
	// exec is the execution the operation receives from (under conn.mu;
	// nil until it has joined one).
	exec *execution
}

func newConn(t *Transport, ws *websocket.Conn, r *http.Request, exec graphql.GraphExecutor) *conn {
	// The request's headers are not kept (for params.Headers): an idle
	// connection would hold them, and no extension here reads them.
	return &conn{t: t, ws: ws, reqCtx: r.Context(), exec: exec, ops: map[string]*operation{}}
}

// serve reads the connection until it ends, then ends its operations.
func (c *conn) serve() {
	c.mu.Lock()
	c.initTimer = time.AfterFunc(c.t.cfg.InitTimeout, func() {
		c.mu.Lock()
		late := !c.initStarted
		c.mu.Unlock()
		if late {
			c.closeWith(CloseInitTimeout, "Connection initialisation timeout")
		}
	})
	c.stopWatch = context.AfterFunc(c.reqCtx, func() { c.closeWith(int(websocket.StatusGoingAway), "server shutting down") })
	c.mu.Unlock()
	defer c.teardown()
	for {
		typ, data, err := c.ws.Read(context.Background())
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			c.closeWith(CloseBadMessage, "Invalid message received")
			return
		}
		if !c.handle(data) {
			return
		}
	}
}

// clientMessage is a message from the client.
type clientMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Payload json.RawMessage `json:"payload"`
}

// handle acts on one client message; false when it closed the connection.
func (c *conn) handle(data []byte) bool {
	var m clientMessage
	if json.Unmarshal(data, &m) != nil || m.Type == "" {
		return c.closeWith(CloseBadMessage, "Invalid message received")
	}
	switch m.Type {
	case "connection_init":
		return c.init(m.Payload)
	case "ping":
		msg := []byte(`{"type":"pong"}`)
		if len(m.Payload) > 0 && string(m.Payload) != "null" {
			msg = fmt.Appendf(nil, `{"type":"pong","payload":%s}`, m.Payload)
		}
		return c.send(msg)
	case "pong":
		c.mu.Lock()
		c.pingSent = time.Time{}
		c.mu.Unlock()
		return true
	case "subscribe":
		return c.subscribe(m)
	case "complete":
		c.complete(m.ID)
		return true
	default:
		return c.closeWith(CloseBadMessage, "Invalid message received")
	}
}

// init runs Config.Init on connection_init's payload and acknowledges the
// connection, or closes it.
func (c *conn) init(raw json.RawMessage) bool {
	c.mu.Lock()
	again := c.initStarted
	c.initStarted = true
	c.initTimer.Stop()
	c.mu.Unlock()
	if again {
		return c.closeWith(CloseTooMany, "Too many initialisation requests")
	}
	var payload transport.InitPayload
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &payload); err != nil {
			return c.closeWith(CloseBadMessage, "Invalid message received")
		}
	}
	ctx := c.reqCtx
	var ack *transport.InitPayload
	if c.t.cfg.Init != nil {
		var err error
		if ctx, ack, err = c.t.cfg.Init(c.reqCtx, payload); err != nil {
			code, reason := CloseForbidden, err.Error()
			var refusal InitRefusal
			if errors.As(err, &refusal) {
				code, reason = refusal.CloseCode()
			}
			return c.closeWith(code, reason)
		}
	}
	msg := []byte(`{"type":"connection_ack"}`)
	if ack != nil {
		b, err := json.Marshal(ack)
		if err != nil {
			return c.closeWith(int(websocket.StatusInternalError), "connection_ack payload")
		}
		msg = fmt.Appendf(nil, `{"type":"connection_ack","payload":%s}`, b)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.ctx, c.cancel = context.WithCancel(ctx)
	c.acked = true
	// The operations' context ends: at shutdown (the request's context, of
	// which it is derived: the watch of that one is no longer needed) or
	// when Init's ends (the token expired).
	c.stopWatch()
	c.stopWatch = context.AfterFunc(c.ctx, c.contextEnded)
	if ka := c.t.cfg.KeepAlive; ka > 0 {
		c.pingTimer = time.AfterFunc(ka, c.ping)
	}
	c.mu.Unlock()
	return c.send(msg)
}

// contextEnded closes the connection once its operations' context ends:
// 1001 when the server shuts down, else 1000 with the cause as the reason.
func (c *conn) contextEnded() {
	if c.reqCtx.Err() != nil {
		c.closeWith(int(websocket.StatusGoingAway), "server shutting down")
		return
	}
	reason := ""
	if cause := context.Cause(c.ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		reason = cause.Error()
	}
	c.closeWith(int(websocket.StatusNormalClosure), reason)
}

// ping sends a ping each KeepAlive, and drops a connection whose oldest
// unanswered ping is two intervals old.
func (c *conn) ping() {
	ka := c.t.cfg.KeepAlive
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if !c.pingSent.IsZero() {
		late := time.Since(c.pingSent) >= 2*ka-ka/10
		if !late {
			c.pingTimer.Reset(ka)
		}
		c.mu.Unlock()
		if late {
			c.drop()
		}
		return
	}
	c.pingSent = time.Now()
	c.pingTimer.Reset(ka)
	c.mu.Unlock()
	c.send([]byte(`{"type":"ping"}`))
}

// subscribe starts an operation.
func (c *conn) subscribe(m clientMessage) bool {
	c.mu.Lock()
	acked, dup := c.acked, c.ops[m.ID] != nil
	c.mu.Unlock()
	switch {
	case !acked:
		return c.closeWith(CloseUnauthorized, "Unauthorized")
	case m.ID == "":
		return c.closeWith(CloseBadMessage, "Invalid message received")
	case dup:
		return c.closeWith(CloseDuplicateID, "Subscriber for "+m.ID+" already exists")
	}
	var params graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(m.Payload))
	dec.UseNumber() // as gqlgen's transports: an Int variable is a json.Number, not a float64
	if len(m.Payload) == 0 || dec.Decode(&params) != nil {
		return c.closeWith(CloseBadMessage, "Invalid message received")
	}
	idJSON, _ := json.Marshal(m.ID)
	op := &operation{id: m.ID, conn: c, idJSON: idJSON,
		prefix: fmt.Appendf(nil, `{"id":%s,"type":"next","payload":`, idJSON)}
	if l := c.t.cfg.Limits; l != nil {
		c.mu.Lock()
		full := len(c.ops) >= l.PerConnection()
		c.mu.Unlock()
		if full || !l.Acquire() {
			return c.closeWith(CloseTooMany, fmt.Sprintf("Too many subscriptions (at most %d per connection, %d per server)", l.PerConnection(), l.Max()))
		}
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.release(1)
		return false
	}
	c.ops[m.ID] = op
	ctx := c.ctx
	c.mu.Unlock()
	// Parsing and validation run deep: on a goroutine of their own, so
	// that the reader's stack stays small for as long as the connection is
	// idle.
	go c.start(ctx, op, &params)
	return true
}

// start prepares op's operation (parsing, validation, the extensions'
// checks), then joins it to the shared execution of its key or runs it on
// its own.
func (c *conn) start(ctx context.Context, op *operation, params *graphql.RawParams) {
	start := graphql.Now()
	ctx = graphql.StartOperationTrace(ctx)
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	rc, err := c.exec.CreateOperationContext(ctx, params)
	if err != nil {
		c.refuse(ctx, op, rc, err)
		return
	}
	if share := c.t.cfg.Share; share != nil {
		if key, ok := share(ctx, rc); ok {
			// The execution outlives its first subscriber: it keeps the
			// caller's values, not its cancellation.
			c.t.shared.join(key, op, func() *execution {
				return newExecution(context.WithoutCancel(ctx), c.t, c.exec, rc, key)
			})
			return
		}
	}
	e := newExecution(ctx, c.t, c.exec, rc, "")
	op.sent = make(chan struct{}, 1)
	e.subs[op] = struct{}{}
	if !c.attach(op, e) {
		e.cancel()
		return
	}
	e.run()
}

// attach makes e op's execution, unless op has ended meanwhile (the client
// completed it, the connection closed): then false, and op must leave e.
func (c *conn) attach(op *operation, e *execution) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ops[op.id] != op {
		return false
	}
	op.exec = e
	return true
}

// refuse answers an operation that cannot start, as gqlgen's transport
// does: protocol errors (a document that does not parse, say) with an
// error message, which ends the operation; other errors (validation) with a
// result carrying them, then complete.
func (c *conn) refuse(ctx context.Context, op *operation, rc *graphql.OperationContext, err gqlerror.List) {
	resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, rc), err)
	if errcode.GetErrorKind(err) == errcode.KindProtocol {
		c.fail(op, resp.Errors)
		return
	}
	payload, mErr := json.Marshal(&graphql.Response{Errors: err})
	if mErr != nil {
		c.fail(op, resp.Errors)
		return
	}
	c.next(op, payload)
	c.finish(op)
}

// complete ends operation id at the client's request: nothing more is sent
// for it (not even a complete).
func (c *conn) complete(id string) {
	c.mu.Lock()
	op := c.ops[id]
	var e *execution
	if op != nil {
		delete(c.ops, id)
		e = op.exec
	}
	c.mu.Unlock()
	if op != nil {
		c.release(1)
	}
	if e != nil {
		e.leave(op)
	}
}

// forget ends op without a word to the client.
func (c *conn) forget(op *operation) {
	c.mu.Lock()
	mine := c.ops[op.id] == op
	if mine {
		delete(c.ops, op.id)
	}
	c.mu.Unlock()
	if mine {
		c.release(1)
	}
}

// next queues a result of op; a result of op still waiting replaces it.
func (c *conn) next(op *operation, payload []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.ops[op.id] != op {
		return
	}
	op.pending = payload
	if !op.queued {
		op.queued = true
		c.queue = append(c.queue, queued{op: op})
		c.kick()
	}
}

// finish ends op from the server's side with a complete.
func (c *conn) finish(op *operation) {
	c.end(op, fmt.Appendf(nil, `{"id":%s,"type":"complete"}`, op.idJSON))
}

// fail ends op from the server's side with an error message.
func (c *conn) fail(op *operation, errs gqlerror.List) {
	b, err := json.Marshal(errs)
	if err != nil {
		b = []byte(`[{"message":"internal system error"}]`)
	}
	c.end(op, fmt.Appendf(nil, `{"id":%s,"type":"error","payload":%s}`, op.idJSON, b))
}

// end queues msg, the last message of op, unless the client completed op
// first.
func (c *conn) end(op *operation, msg []byte) {
	c.mu.Lock()
	if c.closed || c.ops[op.id] != op {
		c.mu.Unlock()
		return
	}
	delete(c.ops, op.id)
	c.queue = append(c.queue, queued{msg: msg})
	c.kick()
	c.mu.Unlock()
	c.release(1)
}

// send queues a whole message; false when the connection is closed or too
// far behind (then it is dropped).
func (c *conn) send(msg []byte) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	if len(c.queue) >= maxQueued {
		c.mu.Unlock()
		c.drop()
		return false
	}
	c.queue = append(c.queue, queued{msg: msg})
	c.kick()
	c.mu.Unlock()
	return true
}

// kick starts the writer unless it runs. c.mu is held.
func (c *conn) kick() {
	if !c.writing {
		c.writing = true
		go c.write()
	}
}

// write writes the queue out, and returns once it is empty.
func (c *conn) write() {
	var buf []byte
	for {
		c.mu.Lock()
		if c.closed || len(c.queue) == 0 {
			c.writing = false
			c.queue = nil
			c.mu.Unlock()
			return
		}
		q := c.queue[0]
		c.queue[0] = queued{}
		c.queue = c.queue[1:]
		msg := q.msg
		if op := q.op; op != nil {
			buf = append(append(append(buf[:0], op.prefix...), op.pending...), '}')
			msg = buf
			op.pending, op.queued = nil, false
			select {
			case op.sent <- struct{}{}:
			default:
			}
		}
		c.mu.Unlock()
		// No deadline here: the server's connection sets one on each write
		// (SUBSCRIPTION_WRITE_TIMEOUT) and closes it when a write fails.
		if err := c.ws.Write(context.Background(), websocket.MessageText, msg); err != nil {
			c.drop()
			c.mu.Lock()
			c.writing = false
			c.queue = nil
			c.mu.Unlock()
			return
		}
	}
}

// closeWith closes the connection with code and reason (cut by
// CloseReason), once; it returns false, for handle.
func (c *conn) closeWith(code int, reason string) bool {
	if !c.markClosed() {
		return false
	}
	c.mu.Lock()
	c.handshake = true
	c.mu.Unlock()
	reason = CloseReason(reason)
	// The close handshake waits for the client's close (5 s at most); the
	// reader sees the connection end meanwhile.
	go func() { _ = c.ws.Close(websocket.StatusCode(code), reason) }()
	return false
}

// drop closes the connection without a close handshake.
func (c *conn) drop() {
	c.markClosed()
	_ = c.ws.CloseNow()
}

// markClosed marks the connection closed and drops what waits to be
// written; false when it was already.
func (c *conn) markClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.closed = true
	c.queue = nil
	return true
}

// teardown ends every operation of the connection once it has closed.
func (c *conn) teardown() {
	c.markClosed()
	c.mu.Lock()
	ops := c.ops
	c.ops = nil
	c.initTimer.Stop()
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	c.stopWatch()
	cancel, handshake := c.cancel, c.handshake
	execs := make(map[*operation]*execution, len(ops))
	for _, op := range ops {
		execs[op] = op.exec
	}
	c.mu.Unlock()
	c.release(len(ops))
	for op, e := range execs {
		if e != nil {
			e.leave(op)
		}
	}
	if cancel != nil {
		cancel()
	}
	if !handshake {
		_ = c.ws.CloseNow()
	}
}

// release gives n subscriptions back to the limits.
func (c *conn) release(n int) {
	if l := c.t.cfg.Limits; l != nil && n > 0 {
		l.Release(n)
	}
}

// CloseReason cuts s to MaxCloseReason bytes at most, on a rune boundary.
func CloseReason(s string) string {
	n := MaxCloseReason
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n]
}
