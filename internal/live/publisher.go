package live

import (
	"context"
	"log/slog"
	"sync"

	"github.com/chronicle-es/chronicle/internal/projection"
)

// Publisher takes updates from projection runners without ever blocking
// them, and publishes them to a Broker from its own goroutine. Updates of one
// projection that pile up while a publish is in flight are merged: the
// highest checkpoint and the union of the keys.
type Publisher struct {
	broker Broker
	logger *slog.Logger

	mu      sync.Mutex
	pending map[string]*projection.Update
	order   []string // projections in pending, first offered first
	wake    chan struct{}
}

// NewPublisher returns a Publisher to broker. Run must be running for
// offered updates to go out.
func NewPublisher(broker Broker, logger *slog.Logger) *Publisher {
	return &Publisher{broker: broker, logger: logger, pending: make(map[string]*projection.Update), wake: make(chan struct{}, 1)}
}

// Offer queues u for publishing; it never blocks (use it as
// projection.Config.OnUpdate).
func (p *Publisher) Offer(u projection.Update) {
	p.mu.Lock()
	if q, ok := p.pending[u.Projection]; ok {
		if u.Checkpoint.Compare(q.Checkpoint) > 0 {
			q.Checkpoint = u.Checkpoint
		}
		q.Keys = mergeKeys(q.Keys, u.Keys)
	} else {
		u.Keys = append([]string(nil), u.Keys...)
		p.pending[u.Projection] = &u
		p.order = append(p.order, u.Projection)
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func mergeKeys(into, keys []string) []string {
	seen := make(map[string]struct{}, len(into))
	for _, k := range into {
		seen[k] = struct{}{}
	}
	for _, k := range keys {
		if _, ok := seen[k]; !ok {
			seen[k] = struct{}{}
			into = append(into, k)
		}
	}
	return into
}

// Run publishes offered updates until ctx ends. A failed publish is logged
// and dropped: subscribers catch up when the broker resyncs after
// reconnecting.
func (p *Publisher) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.wake:
		}
		p.mu.Lock()
		batch := make([]projection.Update, 0, len(p.order))
		for _, name := range p.order {
			batch = append(batch, *p.pending[name])
		}
		clear(p.pending)
		p.order = p.order[:0]
		p.mu.Unlock()
		for _, u := range batch {
			if err := p.broker.Publish(ctx, u); err != nil && ctx.Err() == nil {
				p.logger.Warn("publish update", "projection", u.Projection, "err", err)
			}
		}
	}
}
