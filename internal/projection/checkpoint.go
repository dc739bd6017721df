package projection

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/jackc/pgx/v5"
)

// CheckpointChannel is the NOTIFY channel a runner announces advanced
// checkpoints on, as "name:transaction_id:position", so that every instance
// (not only the one running the projection) can answer read-your-writes
// waits. It is sent right after the batch's commit, coalesced (at most one
// per CheckpointNotifyInterval per projection, the latest checkpoint), and
// can be lost: every instance also reloads the checkpoints at least once
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

// advanceCheckpoint moves name's checkpoint from `from` to `to` within tx.
// It reports false when the stored checkpoint is not `from`: another runner
// advanced it, and this batch must be rolled back. It does not NOTIFY: the
// runner announces the checkpoint on CheckpointChannel after the commit
// (see runner.announce).
func advanceCheckpoint(ctx context.Context, tx pgx.Tx, name string, from, to eventstore.Checkpoint) (bool, error) {
	tag, err := tx.Exec(ctx, `
		UPDATE projection_checkpoints
		SET transaction_id = $4::text::xid8, position = $5, updated_at = now()
		WHERE name = $1 AND transaction_id = $2::text::xid8 AND position = $3`,
		name, strconv.FormatUint(from.TransactionID, 10), from.Position,
		strconv.FormatUint(to.TransactionID, 10), to.Position)
	if err != nil {
		return false, fmt.Errorf("advance checkpoint of %s: %w", name, err)
	}
	return tag.RowsAffected() == 1, nil
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
