package projection

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/jackc/pgx/v5"
)

// Viewer is a projection whose read model is one row per key, and which
// can say what each row holds after a batch: this instance's
// read-your-writes waiters then take the row their command's batch wrote
// (Engine.ViewAfter) instead of reading it back.
type Viewer interface {
	Projection
	// ApplyViews applies events like Apply and returns every key it
	// changed, each with the row's content after the batch, as the read
	// model's Get returns it, or nil when it has none to give (a row
	// scrubbed by an erasure, say: then no earlier content is handed out
	// either).
	ApplyViews(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) (map[string]any, error)
}

// ApplyKeys is the Apply of a Viewer: the keys of ApplyViews' map, in no
// particular order.
func ApplyKeys(views map[string]any, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	return slices.Collect(maps.Keys(views)), nil
}

// recentViewsPerGeneration bounds the views a runner keeps: at most twice
// this many keys, those of the latest batches. A waiter asks for its view
// right after its batch committed, so only the latest few matter.
const recentViewsPerGeneration = 4096

// recentView is a row as the batch that committed checkpoint left it.
type recentView struct {
	checkpoint eventstore.Checkpoint
	view       any
}

// recentViews holds the rows that the latest batches of this instance's
// runner wrote, in two generations (current, and the one before it), so
// that memory stays bounded without any bookkeeping per entry. Safe for
// concurrent use.
type recentViews struct {
	mu        sync.Mutex
	cur, prev map[string]recentView
}

// record keeps the views of the batch that committed cp; a nil view
// forgets the key.
func (r *recentViews) record(cp eventstore.Checkpoint, views map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for key, v := range views {
		if v == nil {
			delete(r.cur, key)
			delete(r.prev, key)
			continue
		}
		if r.cur == nil {
			r.cur = make(map[string]recentView)
		}
		r.cur[key] = recentView{checkpoint: cp, view: v}
	}
	if len(r.cur) >= recentViewsPerGeneration {
		r.prev, r.cur = r.cur, nil
	}
}

// after returns key's row as a batch at or after target left it: the row
// that a command whose events end at target reads once the projection has
// passed them. False when no such batch of this runner wrote it.
func (r *recentViews) after(key string, target eventstore.Checkpoint) (any, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.cur[key]
	if !ok {
		e, ok = r.prev[key]
	}
	if !ok || !e.checkpoint.Reached(target) {
		return nil, false
	}
	return e.view, true
}

// clear forgets every view: the read model may have been written by
// someone else (another runner, a rebuild's swap).
func (r *recentViews) clear() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cur, r.prev = nil, nil
}
