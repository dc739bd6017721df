package gqlws

import "sync/atomic"

// Defaults of NewLimits.
const (
	DefaultMaxPerConnection = 100
	DefaultMaxSubscriptions = 10000
)

// Limits counts the subscriptions open on one instance, over every
// transport that shares it (this one, gqlgen's legacy WebSocket, SSE), and
// holds the per-connection cap. It is safe for concurrent use.
type Limits struct {
	perConn, max int
	open         atomic.Int64
}

// NewLimits returns Limits of at most perConn subscriptions per connection
// and max per instance (0 or less: the defaults).
func NewLimits(perConn, max int) *Limits {
	if perConn <= 0 {
		perConn = DefaultMaxPerConnection
	}
	if max <= 0 {
		max = DefaultMaxSubscriptions
	}
	return &Limits{perConn: perConn, max: max}
}

// PerConnection returns the cap of one connection.
func (l *Limits) PerConnection() int { return l.perConn }

// Max returns the cap of the instance.
func (l *Limits) Max() int { return l.max }

// Open returns how many subscriptions are counted now.
func (l *Limits) Open() int { return int(l.open.Load()) }

// Acquire takes one of the instance's subscriptions; false when none is
// left.
func (l *Limits) Acquire() bool {
	if l.open.Add(1) > int64(l.max) {
		l.open.Add(-1)
		return false
	}
	return true
}

// Release gives n subscriptions back.
func (l *Limits) Release(n int) { l.open.Add(-int64(n)) }
