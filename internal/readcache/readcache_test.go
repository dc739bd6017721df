package readcache_test

import (
	"context"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/readcache"
	"github.com/chronicle-es/chronicle/internal/redistest"
)

type counts struct{ hit, miss int }

func (c *counts) CacheResult(_ string, hit bool) {
	if hit {
		c.hit++
	} else {
		c.miss++
	}
}

func cp(tx uint64, pos int64) eventstore.Checkpoint {
	return eventstore.Checkpoint{TransactionID: tx, Position: pos}
}

// source is a fake database: a value and the checkpoint it was read at.
type source struct {
	value string
	at    eventstore.Checkpoint
	loads int
}

func (s *source) load(_ context.Context, keys []string) (map[string][]byte, eventstore.Checkpoint, error) {
	s.loads++
	out := map[string][]byte{}
	for _, k := range keys {
		out[k] = []byte(s.value)
	}
	return out, s.at, nil
}

func newCache(t *testing.T) (*readcache.Cache, *counts, *redistest.Server) {
	srv := redistest.Start(t)
	c := &counts{}
	return readcache.New(srv.Client(t), "t:", time.Minute, c, nil), c, srv
}

func get(t *testing.T, c *readcache.Cache, src *source) string {
	t.Helper()
	v, err := readcache.LoadMany(context.Background(), c, "x", "p", []string{"k"}, src.load)
	if err != nil {
		t.Fatal(err)
	}
	return string(v["k"])
}

// TestFloors walks the cases of the package comment one by one.
func TestFloors(t *testing.T) {
	ctx := context.Background()
	c, n, _ := newCache(t)
	src := &source{value: "v1", at: cp(10, 5)}

	if get(t, c, src) != "v1" || get(t, c, src) != "v1" || src.loads != 1 || n.hit != 1 || n.miss != 1 {
		t.Fatalf("read-through: loads %d, counts %+v", src.loads, *n)
	}
	// A change at (12, 3) hides the value read at (10, 5).
	if err := c.Invalidate(ctx, "p", cp(12, 3), "k"); err != nil {
		t.Fatal(err)
	}
	// A slow reader that read before the change cannot bring the old value
	// back: it gets its own read, but nothing is cached.
	src.value, src.at = "v1-late", cp(11, 9)
	if get(t, c, src) != "v1-late" || get(t, c, src) != "v1-late" || src.loads != 3 {
		t.Fatalf("a value older than the floor was cached (loads %d)", src.loads)
	}
	// A read at the floor is cached.
	src.value, src.at = "v2", cp(12, 3)
	if get(t, c, src) != "v2" || get(t, c, src) != "v2" || src.loads != 4 {
		t.Fatalf("a value at the floor was not cached (loads %d)", src.loads)
	}
	// A newer value is not replaced by an older one still at the floor.
	if err := c.Invalidate(ctx, "p", cp(13, 1), "k"); err != nil {
		t.Fatal(err)
	}
	src.value, src.at = "v3", cp(14, 0)
	if get(t, c, src) != "v3" {
		t.Fatal("v3")
	}
	src.value, src.at = "v3-older", cp(13, 1)
	if _, err := readcache.LoadMany(ctx, c, "x", "p", []string{"other"}, src.load); err != nil {
		t.Fatal(err)
	}
	if get(t, c, src) != "v3" {
		t.Fatal("an older fill replaced a newer value")
	}
	// Floors never go down: invalidating at an older checkpoint keeps (14, 0)
	// served, and a later change hides it.
	if err := c.Invalidate(ctx, "p", cp(2, 2), "k"); err != nil {
		t.Fatal(err)
	}
	if get(t, c, src) != "v3" {
		t.Fatal("an older invalidation dropped a newer value")
	}
	if err := c.Invalidate(ctx, "p", cp(14, 7), "k"); err != nil {
		t.Fatal(err)
	}
	src.value, src.at = "v4", cp(14, 7)
	if get(t, c, src) != "v4" {
		t.Fatal("the change at (14, 7) was not seen")
	}
	// Keys of other projections are other entries.
	if err := c.Invalidate(ctx, "q", cp(99, 99), "k"); err != nil {
		t.Fatal(err)
	}
	loads := src.loads
	if get(t, c, src) != "v4" || src.loads != loads {
		t.Fatal("invalidating projection q touched projection p")
	}
}

// TestNilCacheAndOutage: a nil cache reads through; a cache whose Redis is
// down reads the database and counts misses, without errors.
func TestNilCacheAndOutage(t *testing.T) {
	src := &source{value: "db", at: cp(1, 1)}
	if get(t, nil, src) != "db" || get(t, nil, src) != "db" || src.loads != 2 {
		t.Fatal("nil cache")
	}
	c, n, srv := newCache(t)
	srv.Stop()
	if get(t, c, src) != "db" || n.miss != 1 || n.hit != 0 {
		t.Fatalf("outage: counts %+v", *n)
	}
	if err := c.Invalidate(context.Background(), "p", cp(5, 5), "k"); err == nil {
		t.Fatal("Invalidate with Redis down returned nil")
	}
}

// TestPurge drops one projection's entries, not another's.
func TestPurge(t *testing.T) {
	ctx := context.Background()
	c, _, _ := newCache(t)
	p, q := &source{value: "p", at: cp(1, 1)}, &source{value: "q", at: cp(1, 1)}
	load := func(proj string, src *source) string {
		v, err := readcache.LoadMany(ctx, c, "x", proj, []string{"k"}, src.load)
		if err != nil {
			t.Fatal(err)
		}
		return string(v["k"])
	}
	load("p", p)
	load("q", q)
	if err := c.Purge(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	load("p", p)
	load("q", q)
	if p.loads != 2 || q.loads != 1 {
		t.Fatalf("loads after purging p: p %d (want 2), q %d (want 1)", p.loads, q.loads)
	}
}
