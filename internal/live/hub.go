// Package live pushes read-model changes to subscribers, on every server
// instance, after the projection that serves them has committed.
//
// The flow: a projection runner commits a batch and offers its
// projection.Update (which keys changed, up to which checkpoint) to the
// Publisher, which hands it to a Broker (Redis pub/sub across instances, or
// in-process for one instance). Every instance's Broker delivers updates to
// its Hub, which rings the doorbell of each local Subscription watching one
// of the changed keys. A subscriber then reads the fresh rows from the read
// model itself.
//
// Updates are doorbells, not data: a lost or coalesced ring costs nothing
// but a later read, and whenever updates may have been lost (the broker
// reconnected) the Hub rings every doorbell so that subscribers catch up from
// PostgreSQL. Nothing on this path blocks on a subscriber: a doorbell holds at
// most one pending ring, so a slow or dead client is coalesced, never waited
// for.
package live

import (
	"sync"
	"sync/atomic"

	"github.com/chronicle-es/chronicle/internal/projection"
)

// Hub fans updates out to this instance's subscriptions.
type Hub struct {
	mu sync.Mutex
	// byTopic holds the subscriptions to one key of one projection;
	// byProjection those to every change of a projection.
	byTopic      map[topic]map[*Subscription]struct{}
	byProjection map[string]map[*Subscription]struct{}
	count        int

	// seq numbers the rings (Deliver and RingAll calls): a read that
	// started after ring n saw every change that ring n announced.
	seq atomic.Uint64
	// flights are the read-model reads in progress that subscribers share
	// (see Load).
	flightsMu sync.Mutex
	flights   map[string]*flight
	// retry is how Follow retries failing reads (SetRetry).
	retry Retry
}

// SetRetry sets how the subscribers' Follow loops retry failing reads
// (zero fields: DefaultRetry's). Call it before the first Subscribe.
func (h *Hub) SetRetry(r Retry) { h.retry = r }

type topic struct{ projection, key string }

// NewHub returns an empty Hub.
func NewHub() *Hub {
	return &Hub{
		byTopic:      make(map[topic]map[*Subscription]struct{}),
		byProjection: make(map[string]map[*Subscription]struct{}),
		flights:      make(map[string]*flight),
	}
}

// Subscription is one subscriber's doorbell. C receives a value after every
// update that may concern it; rings that arrive while one is pending are
// merged into it.
type Subscription struct {
	// C is the doorbell. It is never closed: select on it together with
	// the subscriber's context.
	C <-chan struct{}

	bell       chan struct{}
	rung       atomic.Uint64 // seq of the latest ring
	hub        *Hub
	projection string
	keys       []string
	closeOnce  sync.Once
}

// Subscribe returns a Subscription to changes of the given keys of
// projection; with no keys, to every change of projection. Close it when done.
func (h *Hub) Subscribe(projection string, keys ...string) *Subscription {
	bell := make(chan struct{}, 1)
	s := &Subscription{C: bell, bell: bell, hub: h, projection: projection, keys: keys}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(keys) == 0 {
		addTo(h.byProjection, projection, s)
	}
	for _, k := range keys {
		addTo(h.byTopic, topic{projection, k}, s)
	}
	h.count++
	return s
}

func addTo[K comparable](m map[K]map[*Subscription]struct{}, k K, s *Subscription) {
	set, ok := m[k]
	if !ok {
		set = make(map[*Subscription]struct{})
		m[k] = set
	}
	set[s] = struct{}{}
}

func removeFrom[K comparable](m map[K]map[*Subscription]struct{}, k K, s *Subscription) {
	if set, ok := m[k]; ok {
		delete(set, s)
		if len(set) == 0 {
			delete(m, k)
		}
	}
}

// Close removes the subscription from its Hub. It is safe to call twice.
func (s *Subscription) Close() {
	s.closeOnce.Do(func() {
		h := s.hub
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(s.keys) == 0 {
			removeFrom(h.byProjection, s.projection, s)
		}
		for _, k := range s.keys {
			removeFrom(h.byTopic, topic{s.projection, k}, s)
		}
		h.count--
	})
}

// ring records ring n and leaves a pending ring unless one is already
// there; it never blocks.
func (s *Subscription) ring(n uint64) {
	s.rung.Store(n)
	select {
	case s.bell <- struct{}{}:
	default:
	}
}

// Deliver rings the subscriptions that u concerns. It never blocks on a
// subscriber.
func (h *Hub) Deliver(u projection.Update) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.seq.Add(1)
	for s := range h.byProjection[u.Projection] {
		s.ring(n)
	}
	for _, k := range u.Keys {
		for s := range h.byTopic[topic{u.Projection, k}] {
			s.ring(n)
		}
	}
}

// RingAll rings every subscription: updates may have been lost, and every
// subscriber must look at the read model again.
func (h *Hub) RingAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.seq.Add(1)
	for _, set := range h.byProjection {
		for s := range set {
			s.ring(n)
		}
	}
	for _, set := range h.byTopic {
		for s := range set {
			s.ring(n)
		}
	}
}

// Len returns the number of open subscriptions.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.count
}
