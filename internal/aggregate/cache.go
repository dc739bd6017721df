package aggregate

import (
	"container/list"
	"sync"

	"github.com/google/uuid"
)

// Option configures a Repository (NewRepository).
type Option func(*repositoryOptions)

type repositoryOptions struct {
	cacheSize int
}

// CacheStates keeps, in this process, the states that the repository's own
// commands left, for up to size streams (least recently used go first; 0 or
// less: no cache). A command whose stream is cached decides on the cached
// state without reading the stream.
//
// Why it is never wrong: a cached state is the fold of the stream up to its
// version, and the append that follows carries that version as its expected
// version. If any writer, in this process or another, appended in between,
// the append fails with a wrong expected version, and the repository
// decides again on the stream as stored, under its lock (the path that a
// concurrent change takes without a cache). A stream's events never change
// once written, so a state is current exactly when its version is.
//
// A command takes its stream's entry out of the cache and puts the state
// it left back after its append: an entry is held by one command at a
// time, so an Evolve that updates a map of the state in place (Stock's
// reservations) never races a concurrent Decide. A second command on the
// same stream meanwhile reads the stream, as without a cache.
func CacheStates(size int) Option {
	return func(o *repositoryOptions) { o.cacheSize = size }
}

// cachedState is a stream's state as a command of this process left it.
type cachedState[S any] struct {
	state   S
	version int64
	// snapshotVersion is the version of the newest snapshot offered or
	// read (0: none), so that the next offer comes Every events later.
	snapshotVersion int64
}

// stateCache holds cachedStates by stream id, least recently put at the
// back of order. Safe for concurrent use.
type stateCache[S any] struct {
	mu      sync.Mutex
	size    int
	entries map[uuid.UUID]*list.Element // of cacheEntry[S]
	order   *list.List
}

type cacheEntry[S any] struct {
	id uuid.UUID
	cachedState[S]
}

func newStateCache[S any](size int) *stateCache[S] {
	if size <= 0 {
		return nil
	}
	return &stateCache[S]{size: size, entries: make(map[uuid.UUID]*list.Element, size), order: list.New()}
}

// take removes stream id's entry and returns it, if there is one. A nil
// cache holds nothing.
func (c *stateCache[S]) take(id uuid.UUID) (cachedState[S], bool) {
	if c == nil {
		return cachedState[S]{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[id]
	if !ok {
		return cachedState[S]{}, false
	}
	delete(c.entries, id)
	return c.order.Remove(el).(cacheEntry[S]).cachedState, true
}

// put records stream id's state, unless the cache holds a later version
// of it already (a concurrent command of the stream put it), evicting the
// least recently put entry when full.
func (c *stateCache[S]) put(id uuid.UUID, s cachedState[S]) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[id]; ok {
		if el.Value.(cacheEntry[S]).version >= s.version {
			return
		}
		c.order.Remove(el)
	}
	c.entries[id] = c.order.PushFront(cacheEntry[S]{id: id, cachedState: s})
	for len(c.entries) > c.size {
		oldest := c.order.Back()
		delete(c.entries, c.order.Remove(oldest).(cacheEntry[S]).id)
	}
}
