package account_test

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/account"
	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
)

// TestRebuildMatchesApply: the accounts projection's bulk rebuild path
// (rebuild.go) builds exactly the rows that Apply (projection.go) builds
// from the same events: openings, credits, debits, closes, events of other
// streams and operations on accounts never opened.
func TestRebuildMatchesApply(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.NewPool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	store := eventstore.New(pool)

	appendEvent := func(stream uuid.UUID, streamType string, e aggregate.Event) eventstore.AppendResult {
		t.Helper()
		name, version, data, err := account.Type.Events.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		res, err := store.Append(ctx, eventstore.AppendRequest{
			StreamID: stream, StreamType: streamType, ExpectedVersion: eventstore.Any,
			Events: []eventstore.EventData{{Type: name, SchemaVersion: version, Data: data}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	rng := rand.New(rand.NewPCG(7, 7))
	ids := make([]uuid.UUID, 12)
	balances := make([]int64, len(ids))
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7())
		balances[i] = int64(rng.IntN(1000))
		appendEvent(ids[i], account.Type.StreamType, account.AccountOpened{
			AccountID: ids[i].String(), Organization: "org", Owner: "owner " + ids[i].String()[:4], Currency: "EUR", InitialBalance: balances[i],
		})
	}
	for range 300 {
		i := rng.IntN(len(ids))
		amount := int64(1 + rng.IntN(500))
		if amount <= balances[i] && rng.IntN(2) == 0 {
			balances[i] -= amount
			appendEvent(ids[i], account.Type.StreamType, account.AccountDebited{AccountID: ids[i].String(), Amount: amount, Description: "debit"})
		} else {
			balances[i] += amount
			appendEvent(ids[i], account.Type.StreamType, account.AccountCredited{AccountID: ids[i].String(), Amount: amount, Description: "crédit ✓"})
		}
	}
	appendEvent(ids[0], account.Type.StreamType, account.AccountDebited{AccountID: ids[0].String(), Amount: balances[0], Description: "empty"})
	appendEvent(ids[0], account.Type.StreamType, account.AccountClosed{AccountID: ids[0].String()})
	ghost := uuid.Must(uuid.NewV7())
	appendEvent(ghost, account.Type.StreamType, account.AccountCredited{AccountID: ghost.String(), Amount: 5})
	last := appendEvent(uuid.Must(uuid.NewV7()), "other", account.AccountCredited{AccountID: ghost.String(), Amount: 5})

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	eng, err := projection.NewEngine(pool, projection.Config{BatchSize: 7, Logger: logger}, account.Projection{})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- eng.Run(runCtx) }()
	if err := eng.WaitFor(ctx, account.ProjectionName, last.Checkpoint()); err != nil {
		t.Fatal(err)
	}
	stop()
	<-done

	dump := func() string {
		t.Helper()
		var s string
		err := pool.QueryRow(ctx, `SELECT
			(SELECT coalesce(json_agg(a ORDER BY a.id), '[]')::text FROM accounts a) ||
			(SELECT coalesce(json_agg(o ORDER BY o.account_id, o.version), '[]')::text FROM account_operations o)`).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	applied := dump()
	res, err := projection.Rebuild(ctx, pool, account.Projection{}, projection.RebuildOptions{BatchSize: 50, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if res.Checkpoint != last.Checkpoint() {
		t.Errorf("rebuilt up to %+v, want %+v", res.Checkpoint, last.Checkpoint())
	}
	if rebuilt := dump(); rebuilt != applied {
		t.Errorf("rebuilt read model:\n%s\nApply's:\n%s", rebuilt, applied)
	}
}
