package projection

import (
	"context"
	"sync"

	"github.com/chronicle-es/chronicle/internal/eventstore"
)

// watch is what one process knows of a projection's checkpoint, with a
// broadcast to the goroutines waiting for it to pass a point.
type watch struct {
	mu      sync.Mutex
	current eventstore.Checkpoint
	changed chan struct{} // closed and replaced on every advance
}

func newWatch() *watch { return &watch{changed: make(chan struct{})} }

// advance moves the known checkpoint forward; an older value is ignored, so
// notifications may arrive late or twice.
func (w *watch) advance(cp eventstore.Checkpoint) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if cp.Compare(w.current) <= 0 {
		return
	}
	w.current = cp
	close(w.changed)
	w.changed = make(chan struct{})
}

func (w *watch) get() eventstore.Checkpoint {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.current
}

// wait returns nil once the checkpoint has reached target, or ctx's error.
func (w *watch) wait(ctx context.Context, target eventstore.Checkpoint) error {
	for {
		w.mu.Lock()
		reached, ch := w.current.Reached(target), w.changed
		w.mu.Unlock()
		if reached {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
