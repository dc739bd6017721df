package projection

import (
	"context"
	"errors"
	"time"

	"github.com/chronicle-es/chronicle/internal/eventstore"
)

// Waiter waits until a projection has applied every event up to a
// checkpoint (implemented by *Engine).
type Waiter interface {
	WaitFor(ctx context.Context, projection string, target eventstore.Checkpoint) error
}

// AwaitBounded is the read-your-writes wait of a command: it waits at most
// d for projection to pass target. It returns true when it did, false when
// d ran out first, which is not an error (the write has happened; the
// command reports upToDate: false). Errors: ctx's error when ctx ended, and
// the waiter's other errors.
func AwaitBounded(ctx context.Context, w Waiter, projection string, target eventstore.Checkpoint, d time.Duration) (bool, error) {
	waitCtx, cancel := context.WithTimeout(ctx, d)
	err := w.WaitFor(waitCtx, projection, target)
	cancel()
	switch {
	case err == nil:
		return true, nil
	case ctx.Err() != nil:
		return false, ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		return false, nil
	}
	return false, err
}
