package eventstore

import (
	"strconv"
	"time"
)

// MinNotifyInterval is the least time between two NotifyChannel
// notifications of one Store: the appends that commit meanwhile are
// announced together, by one notification carrying the highest last
// position among them.
const MinNotifyInterval = 2 * time.Millisecond

// announce has NotifyChannel announce an append that committed with last
// position last, from outside its transaction (pgnotify.Coalescer).
//
// Why not in the append's transaction, as before: PostgreSQL takes one
// cluster-wide lock (AccessExclusiveLock on the pg_database object) at the
// commit of every transaction that sent a NOTIFY and holds it through the
// commit's WAL flush, so notifying appends committed one at a time, with no
// group commit (measured: 86 % of backend samples waiting on Lock:object,
// appends stuck near 1,400/s at any concurrency).
//
// The price: a notification is sent after the commit, so a process that
// dies between the two loses it (and a failed send is dropped). Listeners
// must not depend on it alone: the projection engine's slow poll
// (projection.Config.PollInterval) picks up what a lost notification would
// have announced, and the engine of the appending process itself is woken
// in-process by the AppendObserver, before the notification is sent.
// Announced reports whether a NotifyChannel notification came from this
// store (pgconn.Notification.PID is the backend it was sent from): its
// appends woke this process's projections in-process already.
func (s *Store) Announced(pid uint32) bool { return s.notify.SentFrom(pid) }

func (s *Store) announce(last int64) {
	s.notify.Notify("", last, strconv.FormatInt(last, 10))
}
