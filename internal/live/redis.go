package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/redis/go-redis/v9"
)

// RedisBroker carries updates between instances over one Redis pub/sub
// channel. Redis pub/sub keeps nothing for a disconnected subscriber, so
// after every (re)subscription Run calls resync and subscribers re-read the
// read model: nothing is lost, only delayed.
type RedisBroker struct {
	client  *redis.Client
	channel string
	logger  *slog.Logger
	// health is how long Run waits for a message before it pings, and
	// after an unanswered ping reconnects: it bounds how long a silently
	// dead connection goes unnoticed (two intervals).
	health time.Duration
	// publishTimeout bounds one Publish.
	publishTimeout time.Duration
}

// DefaultPublishTimeout bounds a RedisBroker's Publish unless
// WithPublishTimeout says otherwise.
const DefaultPublishTimeout = 100 * time.Millisecond

// NewRedisBroker returns a broker on client's channel (one channel per
// deployment, e.g. "chronicle:<database>:updates").
func NewRedisBroker(client *redis.Client, channel string, logger *slog.Logger) *RedisBroker {
	return &RedisBroker{client: client, channel: channel, logger: logger, health: 5 * time.Second, publishTimeout: DefaultPublishTimeout}
}

// WithPublishTimeout sets the bound of one Publish (d > 0; REDIS_TIMEOUT)
// and returns b. A publish that times out is lost, like any pub/sub message
// sent while Redis is unreachable: subscribers catch up at the next resync.
func (b *RedisBroker) WithPublishTimeout(d time.Duration) *RedisBroker {
	if d > 0 {
		b.publishTimeout = d
	}
	return b
}

// Publish implements Broker, bounded by the publish timeout.
func (b *RedisBroker) Publish(ctx context.Context, u projection.Update) error {
	msg, err := encodeUpdate(u)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, b.publishTimeout)
	defer cancel()
	if err := b.client.Publish(ctx, b.channel, msg).Err(); err != nil {
		return fmt.Errorf("publish update: %w", err)
	}
	return nil
}

// Run implements Broker: it subscribes, delivers, and on any connection
// failure subscribes again with backoff (100 ms doubling to 5 s).
func (b *RedisBroker) Run(ctx context.Context, deliver func(projection.Update), resync func()) error {
	backoff := 100 * time.Millisecond
	for {
		err := b.receive(ctx, deliver, resync, func() { backoff = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.logger.Warn("redis subscription lost", "channel", b.channel, "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// receive runs one subscription until it fails.
func (b *RedisBroker) receive(ctx context.Context, deliver func(projection.Update), resync, connected func()) error {
	ps := b.client.Subscribe(ctx, b.channel)
	defer ps.Close()
	// ReceiveTimeout heeds ctx's deadline but not its cancellation: close
	// the subscription when ctx ends, so that Run returns at once rather
	// than after up to one health interval.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	unanswered := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, b.health)
		var netErr net.Error
		switch {
		case err == nil:
			unanswered = false
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &netErr) && netErr.Timeout() && !unanswered:
			if err := ps.Ping(ctx); err != nil {
				return fmt.Errorf("ping: %w", err)
			}
			unanswered = true
			continue
		default:
			return err
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				connected()
				resync()
			}
		case *redis.Message:
			u, err := decodeUpdate([]byte(m.Payload))
			if err != nil {
				b.logger.Warn("ignoring malformed update", "err", err)
				continue
			}
			deliver(u)
		}
	}
}
