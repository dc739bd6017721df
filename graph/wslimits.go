package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/chronicle-es/chronicle/internal/apperr"
)

// Close codes of graphql-transport-ws (github.com/enisdenjo/graphql-ws,
// PROTOCOL.md) that gqlgen's transport does not send itself: it closes
// with 1002 for each of these cases, accepts a duplicate subscription id
// (whose first subscription can then never be stopped) and has no limits.
const (
	closeBadMessage          = 4400 // "Invalid message received": not JSON, no type, unknown type, no id
	closeUnauthorized        = 4401 // "Unauthorized": subscribe before connection_init
	closeTooMany             = 4429 // a second connection_init; also our subscription caps
	closeDuplicateID         = 4409 // "Subscriber for <id> already exists"
	codeTooManySubscriptions = apperr.Code("TOO_MANY_SUBSCRIPTIONS")
	transportWSProtocol      = "graphql-transport-ws"
	defaultMaxPerConn        = 100
	defaultMaxSubscripts     = 10000
)

// subscriptionLimits counts the subscriptions open on this instance, over
// every WebSocket and SSE stream.
type subscriptionLimits struct {
	perConn, max int
	open         atomic.Int64
}

func newSubscriptionLimits(perConn, max int) *subscriptionLimits {
	if perConn <= 0 {
		perConn = defaultMaxPerConn
	}
	if max <= 0 {
		max = defaultMaxSubscripts
	}
	return &subscriptionLimits{perConn: perConn, max: max}
}

// acquire takes one of the instance's subscriptions; false when none is
// left.
func (l *subscriptionLimits) acquire() bool {
	if l.open.Add(1) > int64(l.max) {
		l.open.Add(-1)
		return false
	}
	return true
}

func (l *subscriptionLimits) release(n int) { l.open.Add(-int64(n)) }

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

// wsGuard checks one WebSocket's frames in both directions: it enforces
// the protocol's rules gqlgen lets through (see the close codes above) and
// the subscription caps, and tracks which subscription ids are open (from
// the client's subscribe to the server's complete or error).
type wsGuard struct {
	limits *subscriptionLimits
	legacy bool // graphql-ws rather than graphql-transport-ws

	mu     sync.Mutex
	inited bool
	ids    map[string]struct{}
}

// errGuardClosed is what NextReader returns after the guard closed the
// connection: gqlgen then ends it quietly.
var errGuardClosed = transport.ErrWebsocketClosed

// inbound checks a client frame. It returns whether to drop it (legacy
// protocol: refused with an error message instead), or an error once it
// has closed the connection.
func (g *wsGuard) inbound(c *goingAwayConn, data []byte) (drop bool, err error) {
	var m struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if json.Unmarshal(data, &m) != nil || m.Type == "" {
		if g.legacy {
			return false, nil // gqlgen answers it
		}
		return false, g.close(c, closeBadMessage, "Invalid message received")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch m.Type {
	case "connection_init":
		if g.inited && !g.legacy {
			return false, g.close(c, closeTooMany, "Too many initialisation requests")
		}
		g.inited = true
	case "subscribe", "start":
		if (m.Type == "start") != g.legacy {
			break // the other protocol's type: gqlgen refuses it
		}
		switch {
		case !g.inited && !g.legacy:
			return false, g.close(c, closeUnauthorized, "Unauthorized")
		case m.ID == "" && !g.legacy:
			return false, g.close(c, closeBadMessage, "Invalid message received")
		}
		if _, dup := g.ids[m.ID]; dup {
			if g.legacy {
				return true, g.refuseLegacy(c, m.ID, apperr.BadUserInput, "Subscriber for "+m.ID+" already exists")
			}
			return false, g.close(c, closeDuplicateID, "Subscriber for "+m.ID+" already exists")
		}
		if len(g.ids) >= g.limits.perConn || !g.limits.acquire() {
			msg := fmt.Sprintf("Too many subscriptions (at most %d per connection, %d per server)", g.limits.perConn, g.limits.max)
			if g.legacy {
				return true, g.refuseLegacy(c, m.ID, codeTooManySubscriptions, msg)
			}
			return false, g.close(c, closeTooMany, msg)
		}
		g.ids[m.ID] = struct{}{}
	}
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
		g.limits.release(1)
	}
}

// releaseAll gives back every subscription still counted (the connection
// ended).
func (g *wsGuard) releaseAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.limits.release(len(g.ids))
	clear(g.ids)
}

// close closes the connection with code and reason (at most 123 bytes).
func (g *wsGuard) close(c *goingAwayConn, code int, reason string) error {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	_ = c.WebsocketConn.WriteClose(code, reason)
	return errGuardClosed
}

// refuseLegacy answers a refused graphql-ws start with an error message for
// its id (the legacy protocol has no close codes for it).
func (g *wsGuard) refuseLegacy(c *goingAwayConn, id string, code apperr.Code, msg string) error {
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
