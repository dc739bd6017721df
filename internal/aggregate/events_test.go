package aggregate_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/google/uuid"
)

// renamed is an event at schema version 3 whose stored shape changed
// twice: v1 {"name"}, v2 {"fullName"} (renamed), v3 {"fullName","tags"}.
type renamed struct {
	FullName string   `json:"fullName"`
	Tags     []string `json:"tags"`
}

func (renamed) EventType() string { return "Renamed" }

// upcasts records which upcasters ran, in order.
type upcasts struct {
	mu  sync.Mutex
	ran []string
}

func (u *upcasts) record(step string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.ran = append(u.ran, step)
}

// rewrite decodes a JSON object, lets f change it and encodes it again.
func rewrite(data []byte, f func(map[string]any)) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	f(m)
	return json.Marshal(m)
}

func renamedEvents(u *upcasts) *aggregate.Events {
	r := aggregate.NewEvents("test")
	aggregate.Register[renamed](r, 3)
	aggregate.Register[incremented](r, 1)
	r.Upcast("Renamed", 1, func(data []byte) ([]byte, error) {
		u.record("1->2")
		return rewrite(data, func(m map[string]any) { m["fullName"] = m["name"]; delete(m, "name") })
	})
	r.Upcast("Renamed", 2, func(data []byte) ([]byte, error) {
		u.record("2->3")
		return rewrite(data, func(m map[string]any) { m["tags"] = []string{"migrated"} })
	})
	return r
}

func TestEventsDecodeCurrentVersion(t *testing.T) {
	var u upcasts
	r := renamedEvents(&u)
	got, err := r.Decode("Renamed", 3, []byte(`{"fullName":"Ada Lovelace","tags":["x"]}`))
	if err != nil || !reflect.DeepEqual(got, renamed{FullName: "Ada Lovelace", Tags: []string{"x"}}) {
		t.Fatalf("Decode v3 = %#v, %v", got, err)
	}
	if got, err := r.Decode("Incremented", 1, []byte(`{"By":2}`)); err != nil || got != (incremented{By: 2}) {
		t.Fatalf("Decode Incremented = %#v, %v", got, err)
	}
	if len(u.ran) != 0 {
		t.Fatalf("upcasters ran on the current version: %v", u.ran)
	}
	if v, ok := r.Version("Renamed"); !ok || v != 3 {
		t.Fatalf("Version(Renamed) = %d, %v; want 3", v, ok)
	}
	if _, ok := r.Version("Vanished"); ok {
		t.Fatal("Version of an unregistered type reports it registered")
	}
	// A malformed payload is an error, not a zero event.
	if _, err := r.Decode("Renamed", 3, []byte(`{"fullName":1}`)); err == nil {
		t.Fatal("malformed payload decoded")
	}
}

func TestEventsDecodeChainsUpcasters(t *testing.T) {
	for _, tc := range []struct {
		version int
		data    string
		ran     []string
	}{
		{1, `{"name":"Ada Lovelace"}`, []string{"1->2", "2->3"}},
		{0, `{"name":"Ada Lovelace"}`, []string{"1->2", "2->3"}}, // rows that say 0 are version 1
		{2, `{"fullName":"Ada Lovelace"}`, []string{"2->3"}},
	} {
		var u upcasts
		got, err := renamedEvents(&u).Decode("Renamed", tc.version, []byte(tc.data))
		if err != nil {
			t.Fatalf("Decode v%d: %v", tc.version, err)
		}
		if want := (renamed{FullName: "Ada Lovelace", Tags: []string{"migrated"}}); !reflect.DeepEqual(got, want) {
			t.Fatalf("Decode v%d = %#v, want %#v", tc.version, got, want)
		}
		if !reflect.DeepEqual(u.ran, tc.ran) {
			t.Fatalf("Decode v%d ran upcasters %v, want %v", tc.version, u.ran, tc.ran)
		}
	}

	// A gap in the chain is an error, and so is an upcaster's own.
	r := aggregate.NewEvents("test")
	aggregate.Register[renamed](r, 3)
	r.Upcast("Renamed", 2, func([]byte) ([]byte, error) { return nil, errors.New("bad payload") })
	if _, err := r.Decode("Renamed", 1, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "no upcaster from schema version 1") {
		t.Fatalf("Decode over a gap: %v", err)
	}
	if _, err := r.Decode("Renamed", 2, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "bad payload") {
		t.Fatalf("Decode through a failing upcaster: %v", err)
	}
}

func TestEventsDecodeRefusesANewerVersion(t *testing.T) {
	var u upcasts
	_, err := renamedEvents(&u).Decode("Renamed", 4, []byte(`{"fullName":"Ada"}`))
	if err == nil || !strings.Contains(err.Error(), "stored schema version 4 is newer than this server's 3") {
		t.Fatalf("Decode v4: %v", err)
	}
	if errors.Is(err, aggregate.ErrUnknownEventType) {
		t.Fatalf("a newer version is reported as an unknown type: %v", err)
	}
}

func TestEventsUnregisteredType(t *testing.T) {
	var u upcasts
	r := renamedEvents(&u)
	if _, err := r.Decode("Vanished", 1, []byte(`{}`)); !errors.Is(err, aggregate.ErrUnknownEventType) {
		t.Fatalf("Decode of an unregistered type: %v, want ErrUnknownEventType", err)
	}
	if _, _, _, err := r.Encode(created{Limit: 1}); !errors.Is(err, aggregate.ErrUnknownEventType) {
		t.Fatalf("Encode of an unregistered type: %v, want ErrUnknownEventType", err)
	}
}

func TestEventsEncodeStampsTheRegisteredVersion(t *testing.T) {
	var u upcasts
	r := renamedEvents(&u)
	name, version, data, err := r.Encode(renamed{FullName: "Ada", Tags: []string{}})
	if err != nil || name != "Renamed" || version != 3 || string(data) != `{"fullName":"Ada","tags":[]}` {
		t.Fatalf("Encode = %s v%d %s, %v; want Renamed v3", name, version, data, err)
	}
	if name, version, _, err := r.Encode(incremented{By: 1}); err != nil || name != "Incremented" || version != 1 {
		t.Fatalf("Encode = %s v%d, %v; want Incremented v1", name, version, err)
	}
}

// pointerEvent implements Event on its pointer only.
type pointerEvent struct{}

func (*pointerEvent) EventType() string { return "Pointer" }

func TestEventsRegistrationMistakesPanic(t *testing.T) {
	up := func(d []byte) ([]byte, error) { return d, nil }
	for name, tc := range map[string]struct {
		register func()
		want     string
	}{
		"twice": {func() {
			r := aggregate.NewEvents("test")
			aggregate.Register[created](r, 1)
			aggregate.Register[created](r, 2)
		}, "registered twice"},
		"version 0":           {func() { aggregate.Register[created](aggregate.NewEvents("test"), 0) }, "want at least 1"},
		"pointer":             {func() { aggregate.Register[*pointerEvent](aggregate.NewEvents("test"), 1) }, "not a pointer"},
		"upcast unregistered": {func() { aggregate.NewEvents("test").Upcast("Created", 1, up) }, "unregistered"},
		"upcast from current": {func() { aggregate.Register[created](aggregate.NewEvents("test"), 2).Upcast("Created", 2, up) }, "current is 2"},
		"two upcasters": {func() {
			aggregate.Register[created](aggregate.NewEvents("test"), 2).Upcast("Created", 1, up).Upcast("Created", 1, up)
		}, "two upcasters"},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if msg, _ := recover().(string); !strings.Contains(msg, tc.want) {
					t.Fatalf("panic %q, want one saying %q", msg, tc.want)
				}
			}()
			tc.register()
		})
	}
}

// appendStored writes e to a new stream id of streamType, as another server
// (or another context) would have.
func appendStored(t *testing.T, store *eventstore.Store, id uuid.UUID, streamType string, e eventstore.EventData) {
	t.Helper()
	_, err := store.Append(context.Background(), eventstore.AppendRequest{StreamID: id, StreamType: streamType,
		ExpectedVersion: eventstore.NoStream, Events: []eventstore.EventData{e}})
	if err != nil {
		t.Fatal(err)
	}
}

// renamedType is an aggregate whose only state is the last full name.
func renamedType(u *upcasts) aggregate.Type[renamed] {
	return aggregate.Type[renamed]{
		StreamType: "renamed",
		Initial:    func() renamed { return renamed{} },
		Evolve: func(s renamed, e aggregate.Event) renamed {
			if e, ok := e.(renamed); ok {
				return e
			}
			return s
		},
		Events: renamedEvents(u),
	}
}

// TestRepositoryStoresTheRegisteredSchemaVersion: new events are stored at
// their registered version (the repository used to stamp every event 1, so
// a reader took a v3 payload for a v1 one), and old ones are upcast on load.
func TestRepositoryStoresTheRegisteredSchemaVersion(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.NewPool(t)
	store := eventstore.New(pool)
	var u upcasts
	repo := aggregate.NewRepository(store, renamedType(&u), nil)
	ctx := context.Background()
	id := uuid.New()

	// A v1 event written by an older server.
	appendStored(t, store, id, "renamed", eventstore.EventData{Type: "Renamed", SchemaVersion: 1, Data: []byte(`{"name":"Ada"}`)})
	var seen renamed
	_, err := repo.Handle(ctx, id, "Rename", aggregate.Options{}, func(s renamed) ([]aggregate.Event, error) {
		seen = s
		return []aggregate.Event{renamed{FullName: "Ada Lovelace", Tags: []string{"new"}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := (renamed{FullName: "Ada", Tags: []string{"migrated"}}); !reflect.DeepEqual(seen, want) {
		t.Fatalf("decided on %#v, want the upcast v1 event %#v", seen, want)
	}

	rows, err := pool.Query(ctx, `SELECT schema_version FROM events WHERE stream_id = $1 ORDER BY version`, id)
	if err != nil {
		t.Fatal(err)
	}
	var versions []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(versions, []int{1, 3}) {
		t.Fatalf("stored schema versions %v, want [1 3]", versions)
	}

	// The new event reads back as it was decided, without an upcaster.
	u.ran = nil
	state, version, err := repo.Load(ctx, id)
	if err != nil || version != 2 || !reflect.DeepEqual(state, renamed{FullName: "Ada Lovelace", Tags: []string{"new"}}) {
		t.Fatalf("Load = %#v at %d, %v", state, version, err)
	}
	if !reflect.DeepEqual(u.ran, []string{"1->2", "2->3"}) {
		t.Fatalf("upcasters on load: %v, want only the v1 event's", u.ran)
	}
}

// TestRepositoryTreatsAnotherStreamTypeAsNoStream: a command given the id
// of another aggregate type's stream decides on the initial state at
// version 0 (so an account command given a payment id is NOT_FOUND), instead
// of failing to decode the other type's events (which surfaced as INTERNAL).
func TestRepositoryTreatsAnotherStreamTypeAsNoStream(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.NewPool(t)
	store := eventstore.New(pool)
	repo := aggregate.NewRepository(store, counterType, nil)
	ctx := context.Background()
	id := uuid.New()
	appendStored(t, store, id, "payment", eventstore.EventData{Type: "PaymentInitiated", SchemaVersion: 1, Data: []byte(`{"paymentId":"x"}`)})

	if state, version, err := repo.Load(ctx, id); err != nil || state != (counter{}) || version != 0 {
		t.Fatalf("Load = %+v at %d, %v; want the initial state at 0", state, version, err)
	}
	errNotFound := errors.New("not found")
	for _, expected := range []*int64{nil, ptr[int64](0)} {
		var decided atomic.Int32
		_, err := repo.Handle(ctx, id, "Increment", aggregate.Options{ExpectedVersion: expected}, func(c counter) ([]aggregate.Event, error) {
			decided.Add(1)
			if c != (counter{}) {
				t.Errorf("decided on %+v, want the initial state", c)
			}
			return nil, errNotFound
		})
		if !errors.Is(err, errNotFound) || decided.Load() != 1 {
			t.Fatalf("expected version %v: err %v after %d decisions; want the decision's error", expected, err, decided.Load())
		}
	}
	// The version check sees 0.
	_, err := repo.Handle(ctx, id, "Increment", aggregate.Options{ExpectedVersion: ptr[int64](1)}, increment)
	var wrong *eventstore.WrongExpectedVersionError
	if !errors.As(err, &wrong) || wrong.Actual != 0 {
		t.Fatalf("expected version 1: err %v, want a conflict at actual version 0", err)
	}
	if events, err := store.ReadStream(ctx, id, 0, 0); err != nil || len(events) != 1 || events[0].StreamType != "payment" {
		t.Fatalf("the other stream holds %+v (%v), want its one payment event, untouched", events, err)
	}
}

// TestHandleCreatesOncePerIdempotencyKey: concurrent retries of a creating
// command, each under its own fresh stream id (as command.Handler picks
// them), create one stream; every call gets its result, all but one as a
// duplicate, and none fails (a lookup by the fresh id said the key was
// reused for another stream), not even a retry after the creation.
func TestHandleCreatesOncePerIdempotencyKey(t *testing.T) {
	t.Parallel()
	repo, pool := newRepository(t)
	ctx := context.Background()
	opts := aggregate.Options{
		IdempotencyKey: "create-" + uuid.NewString(),
		Creates:        true,
		Metadata:       eventstore.Metadata{Actor: "tester", Tenant: "acme"},
	}

	const callers = 20
	results := make([]eventstore.AppendResult, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			var err error
			if results[i], err = repo.Handle(ctx, uuid.New(), "Create", opts, create); err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	// A retry after all of them have committed finds the result by the key
	// before it appends anything.
	late, err := repo.Handle(ctx, uuid.New(), "Create", opts, create)
	if err != nil {
		t.Errorf("late retry: %v", err)
	}
	results = append(results, late)
	if t.Failed() {
		t.FailNow()
	}

	originals := 0
	for i, res := range results {
		if !res.Duplicate {
			originals++
		}
		res.Duplicate = results[0].Duplicate
		if res != results[0] {
			t.Fatalf("caller %d got %+v, caller 0 %+v: want the same result", i, res, results[0])
		}
	}
	if originals != 1 {
		t.Fatalf("%d results are not duplicates, want exactly 1", originals)
	}
	var streams int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM streams`).Scan(&streams); err != nil {
		t.Fatal(err)
	}
	if streams != 1 {
		t.Fatalf("%d streams created, want 1", streams)
	}
	if state, version, err := repo.Load(ctx, results[0].StreamID); err != nil || version != 1 || state.Limit != 5 {
		t.Fatalf("created stream: %+v at %d, %v", state, version, err)
	}
}
