package live

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/projection"
)

// Broker carries updates between instances.
type Broker interface {
	// Publish sends u to every instance's Run (this one's included).
	Publish(ctx context.Context, u projection.Update) error
	// Run hands every update published by any instance to deliver, and
	// calls resync whenever updates may have been lost (after connecting or
	// reconnecting), until ctx ends. It returns ctx's error.
	Run(ctx context.Context, deliver func(projection.Update), resync func()) error
}

// MemoryBroker is the Broker of a single instance: Publish delivers to the
// Run of the same value, directly.
type MemoryBroker struct {
	updates chan projection.Update
}

// NewMemoryBroker returns an in-process broker.
func NewMemoryBroker() *MemoryBroker {
	return &MemoryBroker{updates: make(chan projection.Update, 1024)}
}

// Publish implements Broker. It blocks only while the buffer of 1024
// updates is full, which the Publisher's coalescing makes unlikely.
func (b *MemoryBroker) Publish(ctx context.Context, u projection.Update) error {
	select {
	case b.updates <- u:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run implements Broker.
func (b *MemoryBroker) Run(ctx context.Context, deliver func(projection.Update), resync func()) error {
	resync()
	for {
		select {
		case u := <-b.updates:
			deliver(u)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// wireUpdate is an Update as sent over Redis.
type wireUpdate struct {
	Projection    string   `json:"p"`
	TransactionID string   `json:"tx"`
	Position      int64    `json:"pos"`
	Keys          []string `json:"keys,omitempty"`
}

func encodeUpdate(u projection.Update) ([]byte, error) {
	return json.Marshal(wireUpdate{
		Projection:    u.Projection,
		TransactionID: strconv.FormatUint(u.Checkpoint.TransactionID, 10),
		Position:      u.Checkpoint.Position,
		Keys:          u.Keys,
	})
}

func decodeUpdate(b []byte) (projection.Update, error) {
	var w wireUpdate
	if err := json.Unmarshal(b, &w); err != nil {
		return projection.Update{}, fmt.Errorf("decode update: %w", err)
	}
	tx, err := strconv.ParseUint(w.TransactionID, 10, 64)
	if err != nil {
		return projection.Update{}, fmt.Errorf("decode update: transaction id %q: %w", w.TransactionID, err)
	}
	return projection.Update{
		Projection: w.Projection,
		Checkpoint: eventstore.Checkpoint{TransactionID: tx, Position: w.Position},
		Keys:       w.Keys,
	}, nil
}
