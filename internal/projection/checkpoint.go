package projection

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/chronicle-es/chronicle/internal/eventstore"
)

// CheckpointChannel is the NOTIFY channel a runner announces advanced
// checkpoints on, as "name:transaction_id:position", so that every instance
// (not only the one running the projection) can answer read-your-writes
// waits. It is sent right after the batch's commit, coalesced (at most one
// send per CheckpointNotifyInterval per engine, carrying the latest
// checkpoint of each projection that advanced), and can be lost: every instance also reloads the checkpoints at least once
// per Config.PollInterval.
const CheckpointChannel = "chronicle_checkpoints"

// loadCheckpoints returns the stored checkpoint of each named projection,
// creating missing rows (at the zero checkpoint).
func loadCheckpoints(ctx context.Context, q eventstore.Querier, names []string) (map[string]eventstore.Checkpoint, error) {
	if _, err := q.Exec(ctx, `INSERT INTO projection_checkpoints (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING`, names); err != nil {
		return nil, fmt.Errorf("create checkpoints: %w", err)
	}
	rows, err := q.Query(ctx, `SELECT name, transaction_id::text, position FROM projection_checkpoints WHERE name = ANY($1)`, names)
	if err != nil {
		return nil, fmt.Errorf("load checkpoints: %w", err)
	}
	out := make(map[string]eventstore.Checkpoint, len(names))
	for rows.Next() {
		var (
			name, txid string
			cp         eventstore.Checkpoint
		)
		if err := rows.Scan(&name, &txid, &cp.Position); err != nil {
			return nil, fmt.Errorf("load checkpoints: %w", err)
		}
		if cp.TransactionID, err = strconv.ParseUint(txid, 10, 64); err != nil {
			return nil, fmt.Errorf("load checkpoints: %w", err)
		}
		out[name] = cp
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load checkpoints: %w", err)
	}
	return out, nil
}

// checkpointNotice is the CheckpointChannel payload for name at cp.
func checkpointNotice(name string, cp eventstore.Checkpoint) string {
	return name + ":" + strconv.FormatUint(cp.TransactionID, 10) + ":" + strconv.FormatInt(cp.Position, 10)
}

// parseCheckpointNotice parses a CheckpointChannel payload.
func parseCheckpointNotice(payload string) (name string, cp eventstore.Checkpoint, err error) {
	// The name may contain ':'; the two numbers are the last fields.
	last := strings.LastIndexByte(payload, ':')
	if last < 0 {
		return "", cp, fmt.Errorf("malformed checkpoint notice %q", payload)
	}
	mid := strings.LastIndexByte(payload[:last], ':')
	if mid < 0 {
		return "", cp, fmt.Errorf("malformed checkpoint notice %q", payload)
	}
	if cp.TransactionID, err = strconv.ParseUint(payload[mid+1:last], 10, 64); err != nil {
		return "", cp, fmt.Errorf("malformed checkpoint notice %q: %w", payload, err)
	}
	if cp.Position, err = strconv.ParseInt(payload[last+1:], 10, 64); err != nil {
		return "", cp, fmt.Errorf("malformed checkpoint notice %q: %w", payload, err)
	}
	return payload[:mid], cp, nil
}
