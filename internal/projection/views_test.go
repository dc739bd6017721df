package projection_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// tallies is a projection.Viewer: one row per stream, counting its events,
// and the count is the view. An event of type "Forget" hands no view (as an
// erasure's scrub does).
type tallies struct{ name string }

func (p tallies) Name() string { return p.name }

func (p tallies) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) ([]string, error) {
	return projection.ApplyKeys(p.ApplyViews(ctx, tx, events))
}

func (p tallies) ApplyViews(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) (map[string]any, error) {
	views := map[string]any{}
	for _, re := range events {
		var n int64
		if err := tx.QueryRow(ctx, `INSERT INTO tallies (stream_id, events) VALUES ($1, 1)
			ON CONFLICT (stream_id) DO UPDATE SET events = tallies.events + 1 RETURNING events`, re.StreamID).Scan(&n); err != nil {
			return nil, err
		}
		views[re.StreamID.String()] = n
		if re.Type == "Forget" {
			views[re.StreamID.String()] = nil
		}
	}
	return views, nil
}

func appendTo(t *testing.T, ctx context.Context, store *eventstore.Store, stream uuid.UUID, eventType string) eventstore.Checkpoint {
	t.Helper()
	res, err := store.Append(ctx, eventstore.AppendRequest{StreamID: stream, StreamType: testStreamType, ExpectedVersion: eventstore.Any,
		Events: []eventstore.EventData{{Type: eventType, Data: []byte(`{}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Checkpoint()
}

func TestViewAfter(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	if _, err := e.pool.Exec(ctx, `CREATE TABLE tallies (stream_id uuid PRIMARY KEY, events bigint NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	const name = "tallies"
	cfg := projection.Config{PollInterval: 50 * time.Millisecond, LockRetryInterval: 50 * time.Millisecond}
	a := start(t, ctx, e.pool, cfg, tallies{name})
	s, other := uuid.New(), uuid.New()
	// expect checks what r's engine hands for stream after target: the
	// view and whether there is one, as "2 true" or "<nil> false".
	expect := func(what string, r *running, stream uuid.UUID, target eventstore.Checkpoint, want string) {
		t.Helper()
		v, ok := r.eng.ViewAfter(name, stream.String(), target)
		if got := fmt.Sprint(v, ok); got != want {
			t.Fatalf("%s: %s, want %s", what, got, want)
		}
	}

	// appendAndWait appends an event of eventType to stream and waits for
	// r's engine to pass it.
	appendAndWait := func(r *running, stream uuid.UUID, eventType string) eventstore.Checkpoint {
		t.Helper()
		cp := appendTo(t, ctx, e.store, stream, eventType)
		waitFor(t, r.eng, name, cp)
		return cp
	}

	appendTo(t, ctx, e.store, s, "Counted")
	cp2 := appendAndWait(a, s, "Counted")
	expect("view after the second event", a, s, cp2, "2 true")
	// A batch after the stream's last one did not write it: no view for a
	// target beyond its batch.
	cpOther := appendAndWait(a, other, "Counted")
	expect("view of an untouched stream after a later batch", a, s, cpOther, "<nil> false")
	expect("view after the second event, asked again", a, s, cp2, "2 true")

	// A nil view forgets the key, earlier views included.
	appendAndWait(a, s, "Forget")
	expect("view after a forgetting batch", a, s, cp2, "<nil> false")

	// Another instance takes over: the first hands out nothing it wrote
	// before, and the new one hands out what it writes.
	cp4 := appendAndWait(a, s, "Counted")
	expect("view after the fourth event", a, s, cp4, "4 true")
	b := start(t, ctx, e.openPool(t, 4), cfg, tallies{name})
	a.stop(t)
	expect("view of a runner that stepped down", a, s, cp4, "<nil> false")
	cp5 := appendAndWait(b, s, "Counted")
	expect("view of the new runner", b, s, cp5, "5 true")
}
