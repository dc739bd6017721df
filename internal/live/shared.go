package live

import (
	"context"
	"time"
)

// flight is one read-model read that several subscribers wait for.
type flight struct {
	seq  uint64 // the Hub's ring count when the read started
	done chan struct{}
	val  any
	err  error
}

// flightTimeout bounds a shared read, which runs detached from the context
// of the subscriber that started it (others wait for it too).
const flightTimeout = 10 * time.Second

// Load returns load's result for key, sharing one call among the
// subscribers of one Hub that ask for the same key at the same time: when a
// thousand dashboards watch one account, a change costs one query, not a
// thousand.
//
// Sharing never returns stale data: sub joins a read in progress only if
// that read started after sub's latest ring, and so after the commit the
// ring announced. key must identify the read completely (for example the
// account id and the cursor after which it reads).
func Load[T any](ctx context.Context, sub *Subscription, key string, load func(context.Context) (T, error)) (T, error) {
	h := sub.hub
	notBefore := sub.rung.Load()

	h.flightsMu.Lock()
	f, ok := h.flights[key]
	if !ok || f.seq < notBefore {
		f = &flight{seq: h.seq.Load(), done: make(chan struct{})}
		h.flights[key] = f
		go func() {
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flightTimeout)
			defer cancel()
			f.val, f.err = load(fctx)
			h.flightsMu.Lock()
			if h.flights[key] == f {
				delete(h.flights, key)
			}
			h.flightsMu.Unlock()
			close(f.done)
		}()
	}
	h.flightsMu.Unlock()

	select {
	case <-f.done:
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
	if f.err != nil {
		var zero T
		return zero, f.err
	}
	return f.val.(T), nil
}
