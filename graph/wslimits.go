package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/gqlws"
)

// codeTooManySubscriptions is the code of a subscription refused past the
// caps (gqlws.Limits), in graphql-ws's error message and SSE's 429 body
// (graphql-transport-ws closes the connection with 4429).
const codeTooManySubscriptions = apperr.Code("TOO_MANY_SUBSCRIPTIONS")

// refuseSSE answers an SSE request beyond the instance's cap: 429, with a
// GraphQL error body and a code.
func refuseSSE(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(http.StatusTooManyRequests)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message":    "too many subscriptions open on this server; retry later",
		"extensions": map[string]any{"code": string(codeTooManySubscriptions)},
	}}})
}

// wsGuard checks the client frames of one legacy graphql-ws connection
// for what gqlgen lets through: a duplicate subscription id (whose first
// subscription could then never be stopped) and the subscription caps, both
// refused with an error message for the start; and it tracks which
// subscription ids are open (from the client's start to the server's
// complete or error).
type wsGuard struct {
	limits *gqlws.Limits

	mu  sync.Mutex
	ids map[string]struct{}
}

// errGuardClosed is what NextReader returns after the guard closed the
// connection: gqlgen then ends it quietly.
var errGuardClosed = transport.ErrWebsocketClosed

// inbound checks a client frame. It returns whether to drop it (refused
// with an error message instead), or an error once the connection failed.
func (g *wsGuard) inbound(c *goingAwayConn, data []byte) (drop bool, err error) {
	var m struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if json.Unmarshal(data, &m) != nil || m.Type != "start" {
		return false, nil // gqlgen answers it
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, dup := g.ids[m.ID]; dup {
		return true, g.refuse(c, m.ID, apperr.BadUserInput, "Subscriber for "+m.ID+" already exists")
	}
	if len(g.ids) >= g.limits.PerConnection() || !g.limits.Acquire() {
		msg := fmt.Sprintf("Too many subscriptions (at most %d per connection, %d per server)", g.limits.PerConnection(), g.limits.Max())
		return true, g.refuse(c, m.ID, codeTooManySubscriptions, msg)
	}
	g.ids[m.ID] = struct{}{}
	return false, nil
}

// outbound releases the subscription a server complete or error ends.
func (g *wsGuard) outbound(data []byte) {
	var m struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if json.Unmarshal(data, &m) != nil || (m.Type != "complete" && m.Type != "error") {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.ids[m.ID]; ok {
		delete(g.ids, m.ID)
		g.limits.Release(1)
	}
}

// releaseAll gives back every subscription still counted (the connection
// ended).
func (g *wsGuard) releaseAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.limits.Release(len(g.ids))
	clear(g.ids)
}

// refuse answers a refused graphql-ws start with an error message for its
// id (the legacy protocol has no close codes for it).
func (g *wsGuard) refuse(c *goingAwayConn, id string, code apperr.Code, msg string) error {
	return c.WebsocketConn.WriteJSON(map[string]any{"type": "error", "id": id, "payload": map[string]any{
		"message": msg, "extensions": map[string]any{"code": string(code)},
	}})
}

// guardedRead reads the next frame that passes the guard.
func (c *goingAwayConn) guardedRead() (int, io.Reader, error) {
	for {
		t, r, err := c.WebsocketConn.NextReader()
		c.initialised.Store(true)
		if err != nil || c.guard == nil {
			return t, r, err
		}
		data, err := io.ReadAll(r)
		if err != nil {
			return t, nil, err
		}
		drop, err := c.guard.inbound(c, data)
		if err != nil {
			return t, nil, err
		}
		if !drop {
			return t, bytes.NewReader(data), nil
		}
	}
}

// WriteJSON writes v, telling the guard which subscription it ends.
func (c *goingAwayConn) WriteJSON(v any) error {
	if c.guard == nil {
		return c.WebsocketConn.WriteJSON(v)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.guard.outbound(data)
	return c.WebsocketConn.WriteJSON(json.RawMessage(data))
}
