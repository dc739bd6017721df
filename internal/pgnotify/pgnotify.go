// Package pgnotify sends PostgreSQL notifications outside the transactions
// whose commits they announce, coalesced.
//
// Why: PostgreSQL takes one cluster-wide lock (AccessExclusiveLock on the
// pg_database object, shown as wait event Lock:object) at the commit of
// every transaction that sent a NOTIFY, and holds it through the commit's
// WAL flush: notifying writers commit one at a time, with no group commit.
// A Coalescer lets the writers commit without NOTIFY and announces them
// afterwards from a transaction of its own, which writes no WAL, at most one
// at a time and at most one per interval.
//
// The price: a notification sent after the commit is lost when the process
// dies in between, and one whose send fails is dropped. Listeners must not
// depend on notifications alone (the projection engine polls).
package pgnotify

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// sendTimeout bounds one notification's round trip.
const sendTimeout = 5 * time.Second

// Coalescer sends NOTIFY on one channel. Notify never blocks: it records
// the payload, and a goroutine started on demand (and ending when idle)
// sends it. Of the payloads recorded while a send is in progress or the
// interval since the last one has not passed, only the one with the
// highest sequence number is sent.
//
// Payloads never go backwards: a Notify whose seq is below one recorded
// earlier (its caller was descheduled between its commit and the call)
// still causes a send, since a listener may need waking for it, but the
// send carries the highest payload recorded so far. The zero value is not
// usable; use New.
type Coalescer struct {
	pool     *pgxpool.Pool
	channel  string
	interval time.Duration

	mu      sync.Mutex
	pending bool
	// seq and payload are the highest recorded, kept across sends;
	// recorded says whether any was.
	recorded bool
	seq      int64
	payload  string
	sending  bool
}

// New returns a Coalescer that notifies channel on pool, at most once per
// interval.
func New(pool *pgxpool.Pool, channel string, interval time.Duration) *Coalescer {
	return &Coalescer{pool: pool, channel: channel, interval: interval}
}

// Notify records payload, to be sent unless a payload with a higher seq is
// recorded before the next send; a seq below the highest recorded causes a
// send of that highest payload instead.
func (c *Coalescer) Notify(seq int64, payload string) {
	c.mu.Lock()
	c.pending = true
	if !c.recorded || seq >= c.seq {
		c.recorded, c.seq, c.payload = true, seq, payload
	}
	start := !c.sending
	c.sending = true
	c.mu.Unlock()
	if start {
		go c.send()
	}
}

// send sends the pending payload, then the next one no sooner than an
// interval after the last send began, and returns once a whole interval
// passed with nothing recorded.
func (c *Coalescer) send() {
	for {
		c.mu.Lock()
		if !c.pending {
			c.sending = false
			c.mu.Unlock()
			return
		}
		payload := c.payload
		c.pending = false
		c.mu.Unlock()
		began := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
		// An error (pool closed, database away) drops this notification:
		// listeners poll (see the package comment).
		_, _ = c.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, c.channel, payload)
		cancel()
		time.Sleep(c.interval - time.Since(began))
	}
}
