package readcache_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/faultproxy"
	"github.com/chronicle-es/chronicle/internal/readcache"
	"github.com/chronicle-es/chronicle/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// boundedClient is a client of addr as the server configures one: context
// deadlines honoured on the socket, 100 ms timeouts; onConnect, when not
// nil, is its OnConnect hook.
func boundedClient(t *testing.T, addr string, onConnect func(context.Context, *redis.Conn) error) *redis.Client {
	t.Helper()
	o := &redis.Options{Addr: addr, OnConnect: onConnect}
	readcache.ClientOptions(o, 100*time.Millisecond)
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// ctxLoad is a source whose load fails once its context has ended: a read
// that waited on Redis past the caller's deadline fails.
func (s *source) ctxLoad(ctx context.Context, keys []string) (map[string][]byte, eventstore.Checkpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, eventstore.Checkpoint{}, err
	}
	return s.load(ctx, keys)
}

// readWithin reads key k of projection p through c under a deadline far
// above the 100 ms bound (and far below go-redis's default 3 s).
func readWithin(t *testing.T, c *readcache.Cache, src *source) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	v, err := readcache.LoadMany(ctx, c, "x", "p", []string{"k"}, src.ctxLoad)
	if err != nil {
		t.Fatalf("read under a 1 s deadline: %v", err)
	}
	return string(v["k"])
}

// TestLostInvalidationNeverStale (issue 10, item 2): instance A's
// invalidation is lost in a partition (a blackholing proxy; Redis keeps
// its data). While cut off, A reads the database within its deadline; once
// the partition heals, neither A nor B (which never lost Redis) serves the
// old entry.
func TestLostInvalidationNeverStale(t *testing.T) {
	srv := redistest.Start(t)
	proxy := faultproxy.Start(t, srv.Addr())
	a := readcache.New(boundedClient(t, proxy.Addr(), nil), "t:", time.Minute, nil, nil)
	b := readcache.New(boundedClient(t, srv.Addr(), nil), "t:", time.Minute, nil, nil)
	src := &source{value: "v1", at: cp(10, 5)}
	if readWithin(t, a, src) != "v1" || readWithin(t, b, src) != "v1" || src.loads != 1 {
		t.Fatalf("not cached: %d loads", src.loads)
	}

	proxy.Freeze(true)
	src.value, src.at = "v2", cp(12, 3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := a.Invalidate(ctx, "p", cp(12, 3), "k"); err == nil {
		t.Fatal("Invalidate through a blackholed Redis returned nil")
	}
	for range 5 {
		if v := readWithin(t, a, src); v != "v2" {
			t.Fatalf("A during the partition read %q, want v2", v)
		}
	}

	proxy.Freeze(false)
	// A pays its debt before it serves anything from Redis again (here on
	// its first read after the breaker's cool-down; in a server, Run does
	// it as soon as Redis answers).
	deadline := time.Now().Add(10 * time.Second)
	for a.InDebt() && time.Now().Before(deadline) {
		if v := readWithin(t, a, src); v != "v2" {
			t.Fatalf("A after the partition read %q, want v2", v)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for range 2 {
		if v := readWithin(t, a, src); v != "v2" {
			t.Errorf("A after the partition read %q, want v2", v)
		}
		if v := readWithin(t, b, src); v != "v2" {
			t.Errorf("B after the partition read %q, want v2", v)
		}
	}
	// And the cache works again: the value read after the heal is cached.
	loads := src.loads
	if readWithin(t, b, src) != "v2" || src.loads != loads {
		t.Errorf("not cached after the heal (%d loads, want %d)", src.loads, loads)
	}
}

// TestRestartFromSnapshotNeverStale: Redis restarts from a snapshot taken
// before an invalidation it acknowledged (the same holds for a failover to
// a replica that missed it). The first connection to the new Redis process
// puts the cache in debt, and the old entry is never served.
func TestRestartFromSnapshotNeverStale(t *testing.T) {
	srv := redistest.Start(t)
	var c *readcache.Cache
	client := boundedClient(t, srv.Addr(), func(ctx context.Context, cn *redis.Conn) error { return c.OnConnect(ctx, cn) })
	c = readcache.New(client, "t:", time.Minute, nil, nil)
	src := &source{value: "v1", at: cp(10, 5)}
	// The first connection puts the cache in debt too: one more miss.
	cached := false
	for range 5 {
		loads := src.loads
		if readWithin(t, c, src) != "v1" {
			t.Fatal("v1")
		}
		if cached = src.loads == loads; cached {
			break
		}
	}
	if !cached {
		t.Fatalf("not cached: %d loads", src.loads)
	}
	if err := client.Save(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	src.value, src.at = "v2", cp(12, 3)
	if err := c.Invalidate(context.Background(), "p", cp(12, 3), "k"); err != nil {
		t.Fatal(err)
	}
	srv.Stop() // a crash: the invalidation is not in the snapshot
	srv.Restart()
	for range 3 {
		v, err := readcache.LoadMany(context.Background(), c, "x", "p", []string{"k"}, src.load)
		if err != nil {
			t.Fatal(err)
		}
		if string(v["k"]) != "v2" {
			t.Fatalf("after a restart from the snapshot read %q, want v2", v["k"])
		}
	}
}

// TestHungRedisBounded (issue 10, item 10): with Redis blackholed, reads,
// fills and invalidations give up within the bound, the breaker opens and
// Redis is not asked at all; the answers come from the database.
func TestHungRedisBounded(t *testing.T) {
	srv := redistest.Start(t)
	proxy := faultproxy.Start(t, srv.Addr())
	c := readcache.New(boundedClient(t, proxy.Addr(), nil), "t:", time.Minute, nil, nil,
		readcache.WithBreaker(2, time.Hour))
	src := &source{value: "db", at: cp(1, 1)}
	proxy.Freeze(true)
	for i := range 20 {
		if v := readWithin(t, c, src); v != "db" {
			t.Fatalf("read %d: %q", i, v)
		}
	}
	if c.Up() {
		t.Error("the breaker is still closed after 20 reads through a blackholed Redis")
	}
	err := c.Invalidate(context.Background(), "p", cp(2, 2), "k")
	if !errors.Is(err, readcache.ErrUnavailable) {
		t.Errorf("Invalidate with the breaker open: %v, want ErrUnavailable", err)
	}
	if !c.InDebt() {
		t.Error("a lost invalidation left the cache out of debt")
	}
}
