package gqlws

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// execution runs one operation for its subscribers: one (an operation of
// its own) or every subscriber of a sharing key. Each result is encoded
// once and queued to every subscriber's connection.
type execution struct {
	t    *Transport
	exec graphql.GraphExecutor
	rc   *graphql.OperationContext
	// key is the sharing key ("" for an operation of its own). A shared
	// execution coalesces: a subscriber whose connection has not written
	// the previous result yet gets only the newest, and one that joins
	// late gets the last result at once. One of its own is ordered: it
	// waits, one result ahead at most, for its connection to take each.
	key    string
	ctx    context.Context
	cancel context.CancelFunc

	mu   sync.Mutex
	subs map[*operation]struct{}
	// last is the last result's payload (shared executions).
	last []byte
	// done is set once the execution has ended or has no subscriber left.
	done bool
}

func newExecution(ctx context.Context, t *Transport, exec graphql.GraphExecutor, rc *graphql.OperationContext, key string) *execution {
	ctx, cancel := context.WithCancel(graphql.WithOperationContext(ctx, rc))
	return &execution{t: t, exec: exec, rc: rc, key: key, ctx: ctx, cancel: cancel, subs: map[*operation]struct{}{}}
}

// start runs the execution in a goroutine of its own.
func (e *execution) start() { go e.run() }

// run dispatches the operation and hands each result to the subscribers,
// until the results end (then each gets a complete), the last subscriber
// leaves, or the operation panics (each gets an error).
func (e *execution) run() {
	defer e.cancel()
	defer func() {
		if r := recover(); r != nil {
			err := e.rc.Recover(e.ctx, r)
			var gqlErr *gqlerror.Error
			if !errors.As(err, &gqlErr) {
				gqlErr = &gqlerror.Error{Message: "internal system error"}
			}
			e.end(gqlerror.List{gqlErr}, true)
		}
	}()
	responses, ctx := e.exec.DispatchOperation(e.ctx, e.rc)
	for {
		resp := responses(ctx)
		if resp == nil {
			break
		}
		payload, err := json.Marshal(resp)
		if err != nil {
			panic(err)
		}
		if !e.deliver(payload) {
			break
		}
	}
	if e.ctx.Err() != nil {
		// Its subscribers have left, or their connection is closing (at
		// shutdown, say): a complete now would tell a client that the
		// stream has ended, and it would not subscribe again.
		e.end(nil, false)
		return
	}
	e.end(nil, true)
}

// deliver queues one result to every subscriber; false when none is left.
func (e *execution) deliver(payload []byte) bool {
	e.mu.Lock()
	if e.key != "" {
		defer e.mu.Unlock()
		e.last = payload
		for op := range e.subs {
			op.conn.next(op, payload)
		}
		return len(e.subs) > 0
	}
	var op *operation
	for o := range e.subs {
		op = o // the only one
	}
	e.mu.Unlock()
	if op == nil {
		return false
	}
	op.conn.next(op, payload)
	select {
	case <-op.sent:
		return true
	case <-e.ctx.Done():
		return false
	}
}

// end ends the execution: each subscriber still there gets a complete, or
// errs when there are (when tell is set; else nothing).
func (e *execution) end(errs gqlerror.List, tell bool) {
	e.mu.Lock()
	subs := e.subs
	e.subs = nil
	e.done = true
	e.mu.Unlock()
	e.t.shared.remove(e)
	for op := range subs {
		switch {
		case !tell:
			op.conn.forget(op)
		case errs != nil:
			op.conn.fail(op, errs)
		default:
			op.conn.finish(op)
		}
	}
}

// leave removes op; the last subscriber to leave ends the execution.
func (e *execution) leave(op *operation) {
	e.mu.Lock()
	delete(e.subs, op)
	last := len(e.subs) == 0 && !e.done
	if last {
		e.done = true
	}
	e.mu.Unlock()
	if last {
		e.cancel()
		e.t.shared.remove(e)
	}
}

// join adds op to the shared execution of key, started by create when there
// is none (or the one there is ending).
func (r *registry) join(key string, op *operation, create func() *execution) {
	for {
		r.mu.Lock()
		e, ok := r.m[key]
		if !ok {
			e = create()
			r.m[key] = e
		}
		r.mu.Unlock()
		e.mu.Lock()
		if e.done {
			e.mu.Unlock()
			r.remove(e)
			continue
		}
		e.subs[op] = struct{}{}
		if e.last != nil {
			op.conn.next(op, e.last)
		}
		e.mu.Unlock()
		if !ok {
			e.start()
		}
		if !op.conn.attach(op, e) {
			e.leave(op)
		}
		return
	}
}

// remove forgets e if it is the shared execution of its key.
func (r *registry) remove(e *execution) {
	if e.key == "" {
		return
	}
	r.mu.Lock()
	if r.m[e.key] == e {
		delete(r.m, e.key)
	}
	r.mu.Unlock()
}
