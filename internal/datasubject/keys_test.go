package datasubject_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/datasubject"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// customer is a payload with two personal fields and one that is not.
type customer struct {
	Name   string `json:"name"`
	Email  string `json:"email"`
	Amount int    `json:"amount"`
}

func setup(t testing.TB) (context.Context, *pgxpool.Pool, *datasubject.Keys, *eventstore.Store) {
	t.Helper()
	pool, _ := pgtest.NewPool(t)
	master, _, err := datasubject.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	keys := datasubject.NewKeys(master)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx, pool, keys, eventstore.New(pool, eventstore.WithSealer(keys))
}

// appendCustomer appends one customer event of org to a fresh stream and
// returns it as stored.
func appendCustomer(t testing.TB, ctx context.Context, store *eventstore.Store, org string, c customer) eventstore.RecordedEvent {
	t.Helper()
	data, _ := json.Marshal(c)
	id := uuid.New()
	_, err := store.Append(ctx, eventstore.AppendRequest{
		StreamID: id, StreamType: "customer", ExpectedVersion: eventstore.NoStream, Metadata: eventstore.Metadata{Tenant: org},
		Events: []eventstore.EventData{{Type: "CustomerSeen", SchemaVersion: 1, Data: data,
			Personal: &eventstore.Personal{Subject: datasubject.Email(c.Email), Fields: []string{"name", "email"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	events, err := store.ReadStream(ctx, id, 0, 0)
	if err != nil || len(events) != 1 {
		t.Fatalf("read back: %v, %d events", err, len(events))
	}
	return events[0]
}

func decode(t *testing.T, e eventstore.RecordedEvent) customer {
	t.Helper()
	var c customer
	if err := json.Unmarshal(e.Data, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSealOpenErase: personal fields are stored sealed (and nothing else
// is), open to their values in their organization only, and read as
// Erased once the subject is erased; a subject that comes back gets a new
// key.
func TestSealOpenErase(t *testing.T) {
	t.Parallel()
	ctx, pool, keys, store := setup(t)
	ada := customer{Name: "Ada", Email: "Ada@Example.com", Amount: 7}
	stored := appendCustomer(t, ctx, store, "acme", ada)
	raw := decode(t, stored)
	if !datasubject.IsSealed(raw.Name) || !datasubject.IsSealed(raw.Email) || raw.Amount != 7 ||
		strings.Contains(strings.ToLower(string(stored.Data)), "ada") {
		t.Fatalf("stored %s: want name and email sealed, amount as is", stored.Data)
	}

	opened := []eventstore.RecordedEvent{stored}
	if err := keys.Open(ctx, pool, opened); err != nil {
		t.Fatal(err)
	}
	if got := decode(t, opened[0]); got != ada {
		t.Fatalf("opened %+v, want %+v", got, ada)
	}
	// Copied into another organization's event, a sealed value does not
	// open.
	foreign := stored
	foreign.Metadata.Tenant = "globex"
	copied := []eventstore.RecordedEvent{foreign}
	if err := keys.Open(ctx, pool, copied); err != nil {
		t.Fatal(err)
	}
	if got := decode(t, copied[0]); got.Name != datasubject.Erased {
		t.Fatalf("opened in another organization: %+v, want %q", got, datasubject.Erased)
	}

	// Erasing another organization's subject of the same e-mail does
	// nothing here.
	if e, err := keys.Erase(ctx, store, datasubject.Email("ada@example.com"), eventstore.Metadata{Tenant: "globex"}); err != nil || e.Erased {
		t.Fatalf("erase in globex = %+v, %v; want nothing erased", e, err)
	}
	e, err := keys.Erase(ctx, store, datasubject.Email(" ADA@example.com"), eventstore.Metadata{Tenant: "acme", Actor: "dpo"})
	if err != nil || !e.Erased || len(e.Streams) != 1 || e.Streams[0].ID != stored.StreamID {
		t.Fatalf("erase = %+v, %v; want the one stream erased", e, err)
	}
	after := []eventstore.RecordedEvent{stored}
	if err := keys.Open(ctx, pool, after); err != nil {
		t.Fatal(err)
	}
	if got := decode(t, after[0]); got.Name != datasubject.Erased || got.Email != datasubject.Erased || got.Amount != 7 {
		t.Fatalf("opened after the erasure: %+v", got)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM data_subject_keys`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d keys left (%v), want none", n, err)
	}

	// The subject comes back: a new key, whose values open.
	back := appendCustomer(t, ctx, store, "acme", ada)
	again := []eventstore.RecordedEvent{back, stored}
	if err := keys.Open(ctx, pool, again); err != nil {
		t.Fatal(err)
	}
	if got := decode(t, again[0]); got != ada {
		t.Fatalf("new data after the erasure opened %+v", got)
	}
	if got := decode(t, again[1]); got.Name != datasubject.Erased {
		t.Fatalf("old data opened %+v with the new key", got)
	}
}

// TestSealConcurrent: many appends for one subject at once share one key,
// and an erasure racing them leaves every value either erased with the
// old key or open with a new one, never readable under the erased key.
func TestSealConcurrent(t *testing.T) {
	t.Parallel()
	ctx, pool, keys, store := setup(t)
	ada := customer{Name: "Ada", Email: "ada@example.com"}
	const writers = 24
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		stored []eventstore.RecordedEvent
	)
	for range writers {
		wg.Go(func() {
			e := appendCustomer(t, ctx, store, "acme", ada)
			mu.Lock()
			stored = append(stored, e)
			mu.Unlock()
		})
	}
	wg.Wait()
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM data_subject_keys`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d keys (%v) after %d concurrent appends for one subject, want 1", n, err, writers)
	}

	// An erasure among more appends.
	var erased datasubject.Erasure
	for i := range writers {
		wg.Go(func() {
			if i == writers/2 {
				var err error
				if erased, err = keys.Erase(ctx, store, datasubject.Email(ada.Email), eventstore.Metadata{Tenant: "acme"}); err != nil {
					t.Error(err)
				}
				return
			}
			e := appendCustomer(t, ctx, store, "acme", ada)
			mu.Lock()
			stored = append(stored, e)
			mu.Unlock()
		})
	}
	wg.Wait()
	if !erased.Erased {
		t.Fatal("the erasure erased nothing")
	}
	erasedStreams := map[uuid.UUID]bool{}
	for _, s := range erased.Streams {
		erasedStreams[s.ID] = true
	}
	opened := append([]eventstore.RecordedEvent(nil), stored...)
	if err := keys.Open(ctx, pool, opened); err != nil {
		t.Fatal(err)
	}
	for i, e := range opened {
		got := decode(t, e)
		switch {
		case erasedStreams[e.StreamID] && got.Name != datasubject.Erased:
			t.Errorf("stream %s was erased but opens to %+v", e.StreamID, got)
		case !erasedStreams[e.StreamID] && got != ada:
			t.Errorf("stream %s (not erased) opens to %+v; stored %s", e.StreamID, got, stored[i].Data)
		}
	}
	if len(erased.Streams) < writers {
		t.Errorf("the erasure named %d streams, want at least the first %d", len(erased.Streams), writers)
	}
}

// TestMasterKey: the accepted encodings, and a wrong master key opens
// nothing (values read as erased rather than failing).
func TestMasterKey(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "short", strings.Repeat("A", 44)} {
		if _, err := datasubject.ParseMasterKey(s); err == nil && s != strings.Repeat("A", 44) {
			t.Errorf("ParseMasterKey(%q) accepted", s)
		}
	}
	if _, err := datasubject.ParseMasterKey(strings.Repeat("ab", 32)); err != nil {
		t.Errorf("hex key refused: %v", err)
	}
	ctx, pool, _, store := setup(t)
	stored := appendCustomer(t, ctx, store, "acme", customer{Name: "Ada", Email: "ada@example.com"})
	other, _, _ := datasubject.GenerateMasterKey()
	events := []eventstore.RecordedEvent{stored}
	if err := datasubject.NewKeys(other).Open(ctx, pool, events); err != nil {
		t.Fatal(err)
	}
	if got := decode(t, events[0]); got.Name != datasubject.Erased {
		t.Fatalf("opened with another master key: %+v", got)
	}
}
