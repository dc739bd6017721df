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
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// sendTimeout bounds one notification's round trip.
const sendTimeout = 5 * time.Second

// Coalescer sends NOTIFY on one channel, for one or more keys (a
// projection engine announces every projection's checkpoint on one
// Coalescer, each under its name). Notify never blocks: it records the
// payload of its key, and a goroutine started on demand (and ending when
// idle) sends the latest payload of every key recorded since the last
// send, all in one statement. Of the payloads of a key recorded while a
// send is in progress or the interval since the last one has not passed,
// only the one with the highest sequence number is sent.
//
// Payloads never go backwards: a Notify whose seq is below one recorded
// earlier for its key (its caller was descheduled between its commit and
// the call) still causes a send, since a listener may need waking for it,
// but the send carries the highest payload recorded so far. The zero value
// is not usable; use New.
type Coalescer struct {
	pool     *pgxpool.Pool
	channel  string
	interval time.Duration

	mu sync.Mutex
	// latest is the highest payload recorded per key, kept across sends;
	// pending the keys recorded since the last send.
	latest  map[string]recorded
	pending map[string]bool
	sending bool
	// senders are the backend pids it has sent from (pool connections,
	// so a handful), with when it last did: see SentFrom.
	senders sync.Map // uint32 -> time.Time
}

// recorded is a key's highest payload so far.
type recorded struct {
	seq     int64
	payload string
}

// New returns a Coalescer that notifies channel on pool, at most once per
// interval.
func New(pool *pgxpool.Pool, channel string, interval time.Duration) *Coalescer {
	return &Coalescer{pool: pool, channel: channel, interval: interval, latest: map[string]recorded{}, pending: map[string]bool{}}
}

// Notify records payload under key, to be sent unless a payload of key
// with a higher seq is recorded before the next send; a seq below the
// highest recorded for key causes a send of that highest payload instead.
func (c *Coalescer) Notify(key string, seq int64, payload string) {
	c.mu.Lock()
	c.pending[key] = true
	if r, ok := c.latest[key]; !ok || seq >= r.seq {
		c.latest[key] = recorded{seq: seq, payload: payload}
	}
	start := !c.sending
	c.sending = true
	c.mu.Unlock()
	if start {
		go c.send()
	}
}

// senderMemory is how long SentFrom remembers a backend after its last
// send: the operating system may give a pid that a closed connection had to
// another process's backend, whose notifications must not pass as ours
// for long (mistaking one costs a listener a wake-up, not an event).
const senderMemory = time.Minute

// SentFrom reports whether this Coalescer has sent a notification from the
// backend with process id pid (pgconn.Notification.PID) within the last
// senderMemory: a listener of the same process can tell its own
// notifications from other processes'.
func (c *Coalescer) SentFrom(pid uint32) bool {
	at, ok := c.senders.Load(pid)
	return ok && time.Since(at.(time.Time)) < senderMemory
}

// sendOnce sends payloads in one statement, noting the backend it used.
// An error (pool closed, database away) drops them: listeners poll (see
// the package comment).
func (c *Coalescer) sendOnce(ctx context.Context, payloads []string) {
	conn, err := c.pool.Acquire(ctx)
	if err != nil {
		return
	}
	defer conn.Release()
	c.senders.Store(conn.Conn().PgConn().PID(), time.Now())
	_, _ = conn.Exec(ctx, `SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`, c.channel, payloads)
}

// send sends the pending payloads, then the next ones no sooner than an
// interval after the last send began, and returns once a whole interval
// passed with nothing recorded.
func (c *Coalescer) send() {
	for {
		c.mu.Lock()
		if len(c.pending) == 0 {
			c.sending = false
			c.mu.Unlock()
			return
		}
		payloads := make([]string, 0, len(c.pending))
		for _, key := range slices.Sorted(maps.Keys(c.pending)) {
			payloads = append(payloads, c.latest[key].payload)
		}
		clear(c.pending)
		c.mu.Unlock()
		began := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
		c.sendOnce(ctx, payloads)
		cancel()
		time.Sleep(c.interval - time.Since(began))
	}
}
