package eventstore

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// MinNotifyInterval is the least time between two NotifyChannel
// notifications of one Store: the appends that commit meanwhile are
// announced together, by one notification carrying the highest last
// position among them.
const MinNotifyInterval = 2 * time.Millisecond

// notifyTimeout bounds one notification's round trip.
const notifyTimeout = 5 * time.Second

// notifier announces committed appends on NotifyChannel from outside their
// transactions.
//
// Why not in the append's transaction, as before: PostgreSQL takes one
// cluster-wide lock (AccessExclusiveLock on the pg_database object) at the
// commit of every transaction that sent a NOTIFY and holds it through the
// commit's WAL flush, so notifying appends committed one at a time, with no
// group commit (measured: 86 % of backend samples waiting on Lock:object,
// appends stuck near 1,400/s at any concurrency). Now the appends commit
// without it; one goroutine at a time sends the notification in a
// transaction of its own, so at most one transaction of this Store waits
// for that lock, and its commit writes no WAL.
//
// The price: a notification is sent after the commit, so a process that
// dies between the two loses it (and a failed send is dropped). Listeners
// must not depend on it alone: the projection engine's slow poll
// (projection.Config.PollInterval) picks up what a lost notification would
// have announced, and the engine of the appending process itself is woken
// in-process by the AppendObserver, before the notification is sent.
type notifier struct {
	pool *pgxpool.Pool

	mu      sync.Mutex
	pending int64 // highest committed last position not yet sent; 0: none
	sending bool  // a sender goroutine is running
}

// committed records an append that committed with last position last and
// starts a sender unless one is running. It does not block.
func (n *notifier) committed(last int64) {
	n.mu.Lock()
	n.pending = max(n.pending, last)
	start := !n.sending
	n.sending = true
	n.mu.Unlock()
	if start {
		go n.send()
	}
}

// send notifies the pending position, then again at most every
// MinNotifyInterval while appends keep committing, and returns once a
// whole interval passed with none.
func (n *notifier) send() {
	for {
		n.mu.Lock()
		last := n.pending
		n.pending = 0
		if last == 0 {
			n.sending = false
			n.mu.Unlock()
			return
		}
		n.mu.Unlock()
		began := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
		// An error (pool closed, database away) drops this notification:
		// the listeners' poll covers it, see notifier.
		_, _ = n.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, NotifyChannel, strconv.FormatInt(last, 10))
		cancel()
		time.Sleep(MinNotifyInterval - time.Since(began))
	}
}
