package account_test

import (
	"encoding/json"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/account"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
)

// TestVersion1MovementsReadAsVersion2: credits and debits stored in the
// version 1 shape ({"accountId","amount","description"}, inserted with raw
// SQL as an older server wrote them) fold, project, rebuild and show in the
// history exactly as the same movements written today in version 2 with no
// reference and no counterparty.
func TestVersion1MovementsReadAsVersion2(t *testing.T) {
	t.Parallel()
	ctx := projCtx(t)
	pool, _ := pgtest.NewPool(t)
	store := eventstore.New(pool)
	eng := projRunEngine(t, pool)
	svc := newTestService(store, pool, eng, projWaitLimit)

	// Account "now": written by today's commands.
	now, err := svc.run(ctx, account.OpenAccount{Owner: "Ada", Currency: "EUR", InitialBalance: "10.00"}, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.run(ctx, account.CreditAccount{ID: now.ID.String(), Amount: "2.50", Description: "salary"}, tenant); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.run(ctx, account.DebitAccount{ID: now.ID.String(), Amount: "1.25", Description: "rent"}, tenant); err != nil {
		t.Fatal(err)
	}
	// Account "old": the same history, stored in version 1 by raw SQL.
	old := uuid.Must(uuid.NewV7())
	if _, err := pool.Exec(ctx, `INSERT INTO streams (stream_id, stream_type, version) VALUES ($1, 'account', 3)`, old); err != nil {
		t.Fatal(err)
	}
	for v, e := range []struct{ typ, data string }{
		{account.EventAccountOpened, `{"accountId":"` + old.String() + `","organization":"` + testOrg + `","owner":"Ada","currency":"EUR","initialBalance":1000}`},
		{account.EventAccountCredited, `{"accountId":"` + old.String() + `","amount":250,"description":"salary"}`},
		{account.EventAccountDebited, `{"accountId":"` + old.String() + `","amount":125,"description":"rent"}`},
	} {
		if _, err := pool.Exec(ctx, `INSERT INTO events (event_id, stream_id, stream_type, version, type, schema_version, data, metadata)
			VALUES (gen_random_uuid(), $1, 'account', $2, $3, 1, $4, jsonb_build_object('tenant', $5::text))`, old, v+1, e.typ, e.data, testOrg); err != nil {
			t.Fatal(err)
		}
	}
	projWaitAll(t, ctx, pool, eng)

	// Fold: the same state (but the id).
	nowState, _, err := svc.repo.Load(ctx, now.ID)
	if err != nil {
		t.Fatal(err)
	}
	oldState, version, err := svc.repo.Load(ctx, old)
	if err != nil || version != 3 {
		t.Fatalf("load the version 1 stream: v%d, %v", version, err)
	}
	oldState.ID = nowState.ID
	if oldState != nowState {
		t.Errorf("folded version 1 stream %+v, version 2 stream %+v", oldState, nowState)
	}

	// Projection and rebuild: the same operations (but ids, positions, times).
	operations := func() [2][]account.Operation {
		var out [2][]account.Operation
		for i, id := range []uuid.UUID{now.ID, old} {
			p, err := svc.Reads.Operations(ctx, testOrg, id, nil, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range p.Items {
				// Recorded at other instants, at other positions.
				o.AccountID, o.Position, o.RecordedAt = uuid.Nil, 0, time.Time{}
				out[i] = append(out[i], o)
			}
		}
		return out
	}
	same := func(when string) {
		t.Helper()
		ops := operations()
		if len(ops[0]) != 2 || !reflect.DeepEqual(ops[0], ops[1]) {
			t.Errorf("%s: operations of the version 2 stream %+v, of the version 1 stream %+v", when, ops[0], ops[1])
		}
	}
	same("projected")
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if _, err := projection.Rebuild(ctx, pool, account.Projection{}, projection.RebuildOptions{Logger: logger}); err != nil {
		t.Fatal(err)
	}
	same("rebuilt")

	// History: version 1 movements show in their version 2 shape.
	for _, id := range []uuid.UUID{now.ID, old} {
		h, err := svc.History.Events(ctx, testOrg, id, nil, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range h.Items[1:] {
			var payload map[string]any
			if err := json.Unmarshal(e.Data, &payload); err != nil {
				t.Fatal(err)
			}
			if e.SchemaVersion != 2 || payload["reference"] != "" || len(payload) != 4 || !strings.HasPrefix(e.Type, "Account") {
				t.Errorf("history of %s: %s v%d %s, want version 2 with an empty reference", id, e.Type, e.SchemaVersion, e.Data)
			}
		}
	}
}
