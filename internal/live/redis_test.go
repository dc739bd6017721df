package live_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/faultproxy"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/chronicle-es/chronicle/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// slogLogger is a logger whose output the test can read.
type slogLogger struct {
	*slog.Logger
	buf *syncBuffer
}

func newSlogLogger() *slogLogger {
	buf := &syncBuffer{}
	return &slogLogger{Logger: slog.New(slog.NewTextHandler(buf, nil)), buf: buf}
}

func (l *slogLogger) String() string { return l.buf.String() }

func newClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// sharedClient returns a client of the shared Redis, failing t if that
// server does not answer.
func sharedClient(t *testing.T) *redis.Client {
	t.Helper()
	c := newClient(t, redistest.SharedURL())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("shared Redis at %s: %v", redistest.SharedURL(), err)
	}
	return c
}

// uniqueChannel returns a channel name no other test (or test run) uses.
func uniqueChannel(t *testing.T) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "chronicle-test:" + t.Name() + ":" + hex.EncodeToString(b)
}

// instance is one running RedisBroker with what it delivered and how often
// it resynced.
type instance struct {
	broker    *live.RedisBroker
	delivered chan projection.Update
	resyncs   chan struct{}
	resynced  atomic.Int32
	cancel    context.CancelFunc
	done      chan struct{} // closed when Run has returned
	err       error         // Run's result, set before done is closed
	stopOnce  sync.Once
}

func startInstance(t *testing.T, client *redis.Client, channel string, logger *slogLogger) *instance {
	t.Helper()
	return runInstance(t, live.NewRedisBroker(client, channel, logger.Logger))
}

// runInstance runs b until the test ends.
func runInstance(t *testing.T, b *live.RedisBroker) *instance {
	t.Helper()
	in := &instance{
		broker:    b,
		delivered: make(chan projection.Update, 100),
		resyncs:   make(chan struct{}, 100),
		done:      make(chan struct{}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	go func() {
		defer close(in.done)
		in.err = in.broker.Run(ctx,
			func(u projection.Update) { in.delivered <- u },
			func() { in.resynced.Add(1); in.resyncs <- struct{}{} })
	}()
	t.Cleanup(func() { in.stop(t) })
	return in
}

// stop cancels Run and checks that it returns ctx's error promptly.
func (in *instance) stop(t *testing.T) {
	t.Helper()
	in.stopOnce.Do(func() {
		in.cancel()
		select {
		case <-in.done:
			if !errors.Is(in.err, context.Canceled) {
				t.Errorf("RedisBroker.Run returned %v, want context.Canceled", in.err)
			}
		case <-time.After(2 * time.Second):
			t.Error("RedisBroker.Run did not return within 2s of ctx being cancelled")
			// Do not leave it running past the test.
			select {
			case <-in.done:
			case <-time.After(10 * time.Second):
				t.Error("RedisBroker.Run still running 12s after ctx was cancelled")
			}
		}
	})
}

func (in *instance) waitResync(t *testing.T, what string, d time.Duration) {
	t.Helper()
	select {
	case <-in.resyncs:
	case <-time.After(d):
		t.Fatalf("no resync %s within %v", what, d)
	}
}

func (in *instance) noDelivery(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case u := <-in.delivered:
		t.Fatalf("unexpected delivery %+v", u)
	case <-time.After(d):
	}
}

func publish(t *testing.T, b *live.RedisBroker, u projection.Update) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Publish(ctx, u); err != nil {
		t.Fatalf("Publish: %v", err)
	}
}

func TestRedisBrokerTwoInstances(t *testing.T) {
	channel := uniqueChannel(t)
	logs := newSlogLogger()
	one := startInstance(t, sharedClient(t), channel, logs)
	two := startInstance(t, sharedClient(t), channel, logs)
	one.waitResync(t, "after subscribing (one)", 5*time.Second)
	two.waitResync(t, "after subscribing (two)", 5*time.Second)

	u1 := projection.Update{
		Projection: "accounts",
		// Transaction ids are uint64: beyond int64 and float64 precision.
		Checkpoint: eventstore.Checkpoint{TransactionID: math.MaxUint64 - 1, Position: math.MaxInt64},
		Keys:       []string{"0b9c2b8e-0000-4000-8000-000000000001", "ключ"},
	}
	publish(t, one.broker, u1)
	expectUpdate(t, one.delivered, u1)
	expectUpdate(t, two.delivered, u1)

	u2 := update("operations", 7) // no keys
	publish(t, two.broker, u2)
	for _, in := range []*instance{one, two} {
		select {
		case got := <-in.delivered:
			if got.Projection != "operations" || got.Checkpoint != u2.Checkpoint || len(got.Keys) != 0 {
				t.Fatalf("delivered %+v, want %+v", got, u2)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("update published by the other instance not delivered")
		}
	}
	one.noDelivery(t, 50*time.Millisecond)
	two.noDelivery(t, 0)
	if n1, n2 := one.resynced.Load(), two.resynced.Load(); n1 != 1 || n2 != 1 {
		t.Errorf("resyncs = %d, %d; want exactly 1 each (after subscribing)", n1, n2)
	}
}

func TestRedisBrokerIgnoresMalformedPayloads(t *testing.T) {
	channel := uniqueChannel(t)
	client := sharedClient(t)
	logs := newSlogLogger()
	in := startInstance(t, client, channel, logs)
	in.waitResync(t, "after subscribing", 5*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, payload := range []string{
		"not json",
		`{"p":"accounts","tx":"x1","pos":1}`,
		`{"p":"accounts","tx":12,"pos":1}`,
		`{"p":"accounts","tx":"-1","pos":1}`,
		`{"p":"accounts","pos":1}`,
		`[1,2,3]`,
		"",
	} {
		if err := client.Publish(ctx, channel, payload).Err(); err != nil {
			t.Fatalf("raw publish: %v", err)
		}
	}
	good := update("accounts", 3, "a")
	publish(t, in.broker, good)
	expectUpdate(t, in.delivered, good) // the first delivery is the good one
	in.noDelivery(t, 50*time.Millisecond)
	if n := strings.Count(logs.String(), "ignoring malformed update"); n != 7 {
		t.Errorf("%d malformed-update warnings, want 7; logs:\n%s", n, logs.String())
	}
	if n := in.resynced.Load(); n != 1 {
		t.Errorf("resyncs = %d, want 1: malformed payloads must not break the subscription", n)
	}
}

func TestRedisBrokerRunStopsOnCancel(t *testing.T) {
	in := startInstance(t, sharedClient(t), uniqueChannel(t), newSlogLogger())
	in.waitResync(t, "after subscribing", 5*time.Second)
	// Run is now idle, waiting for a message: cancelling must end it
	// promptly (stop checks within 2s), not after the health interval.
	start := time.Now()
	in.stop(t)
	if d := time.Since(start); d > time.Second {
		t.Errorf("Run took %v to return after cancel", d)
	}
}

func TestRedisBrokerOutage(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	client := newClient(t, srv.URL())
	logs := newSlogLogger()
	in := startInstance(t, client, uniqueChannel(t), logs)
	in.waitResync(t, "after subscribing", 5*time.Second)

	before := update("accounts", 1, "before")
	publish(t, in.broker, before)
	expectUpdate(t, in.delivered, before)

	srv.Stop()

	// Publishing fails, without hanging.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	start := time.Now()
	err := in.broker.Publish(ctx, update("accounts", 2, "lost"))
	cancel()
	if err == nil {
		t.Fatal("Publish succeeded with Redis down")
	}
	if d := time.Since(start); d > 3500*time.Millisecond {
		t.Errorf("Publish took %v to fail", d)
	} else {
		t.Logf("Publish failed after %v: %v", d, err)
	}

	// Run keeps retrying: it must not return while Redis is down.
	select {
	case <-in.done:
		t.Fatalf("Run returned %v while Redis was down; it must retry", in.err)
	case <-time.After(500 * time.Millisecond):
	}
	if !strings.Contains(logs.String(), "redis subscription lost") {
		t.Errorf("lost subscription not logged; logs:\n%s", logs.String())
	}
	if n := in.resynced.Load(); n != 1 {
		t.Fatalf("resyncs while Redis is down = %d, want still 1", n)
	}

	srv.Restart()
	restarted := time.Now()
	in.waitResync(t, "after Redis came back", 8*time.Second)
	t.Logf("resynced %v after the restart", time.Since(restarted))

	after := update("accounts", 3, "after")
	publishEventually(t, in.broker, after, 5*time.Second)
	expectUpdate(t, in.delivered, after)
	in.noDelivery(t, 50*time.Millisecond)
	if n := in.resynced.Load(); n != 2 {
		t.Errorf("resyncs = %d, want 2 (start, reconnect)", n)
	}

	in.stop(t)
}

// publishEventually publishes u, retrying while the client's pool
// reconnects.
func publishEventually(t *testing.T, b *live.RedisBroker, u projection.Update, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := b.Publish(ctx, u)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Publish after restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRedisFanoutGoroutineHygiene checks that a Fanout over Redis leaves no
// goroutine behind once Run has returned and the client is closed.
func TestRedisFanoutGoroutineHygiene(t *testing.T) {
	channel := uniqueChannel(t)
	// Warm up anything go-redis starts once per process.
	warm := sharedClient(t)
	_ = warm.Close()
	before := runtime.NumGoroutine()

	opt, err := redis.ParseURL(redistest.SharedURL())
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opt)
	f := live.NewFanout(live.NewRedisBroker(client, channel, discardLogger()), discardLogger())
	sub := f.Hub.Subscribe("accounts", "a")
	stop := runFanout(t, f)
	if !waitRing(sub, 5*time.Second) {
		t.Fatal("no ring on the initial resync")
	}
	f.Offer(update("accounts", 1, "a"))
	if !waitRing(sub, 5*time.Second) {
		t.Fatal("offered update not delivered through Redis")
	}
	sub.Close()
	stop()
	if err := client.Close(); err != nil {
		t.Errorf("close client: %v", err)
	}
	waitGoroutines(t, before)
}

// TestRedisBrokerHealthPing: an idle subscription is pinged every health
// interval, and answered pings keep it: no reconnect, no resync, and
// updates still arrive.
func TestRedisBrokerHealthPing(t *testing.T) {
	client := sharedClient(t)
	channel := uniqueChannel(t)
	logs := newSlogLogger()
	b := live.NewRedisBroker(client, channel, logs.Logger)
	live.SetHealth(b, 100*time.Millisecond)
	in := runInstance(t, b)
	in.waitResync(t, "after subscribing", 5*time.Second)

	time.Sleep(500 * time.Millisecond) // about five pings
	if n := in.resynced.Load(); n != 1 {
		t.Errorf("resyncs after idling = %d, want 1: answered pings must not reconnect; logs:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "subscription lost") {
		t.Errorf("subscription lost while idle; logs:\n%s", logs.String())
	}
	u := update("accounts", 1, "a")
	publish(t, b, u)
	expectUpdate(t, in.delivered, u)
}

// TestRedisBrokerSilentlyDeadConnection: when the connection stops carrying
// anything (no error, no close), Run notices within two health intervals,
// reconnects, and resyncs.
func TestRedisBrokerSilentlyDeadConnection(t *testing.T) {
	opt, err := redis.ParseURL(redistest.SharedURL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := faultproxy.Start(t, opt.Addr)
	opt.Addr = proxy.Addr()
	client := redis.NewClient(opt)
	t.Cleanup(func() { _ = client.Close() })

	logs := newSlogLogger()
	b := live.NewRedisBroker(client, uniqueChannel(t), logs.Logger)
	live.SetHealth(b, 100*time.Millisecond)
	in := runInstance(t, b)
	in.waitResync(t, "after subscribing", 5*time.Second)

	proxy.Freeze(true)
	lost := time.Now()
	deadline := lost.Add(5 * time.Second)
	for !strings.Contains(logs.String(), "redis subscription lost") {
		if time.Now().After(deadline) {
			t.Fatalf("dead connection not noticed within 5s; logs:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if d := time.Since(lost); d > time.Second {
		t.Errorf("dead connection noticed after %v, want about two health intervals (200ms)", d)
	}
	if n := in.resynced.Load(); n != 1 {
		t.Fatalf("resyncs while the connection is dead = %d, want 1", n)
	}

	proxy.Freeze(false)
	in.waitResync(t, "after the connection came back", 8*time.Second)
	u := update("accounts", 1, "a")
	publishEventually(t, b, u, 5*time.Second)
	expectUpdate(t, in.delivered, u)
}
