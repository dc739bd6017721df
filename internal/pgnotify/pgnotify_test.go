package pgnotify_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/pgnotify"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// TestCoalescer: of many payloads recorded at once by many goroutines, the
// one with the highest sequence is sent last, the ones sent before it never
// go backwards, and a payload recorded after the sender went idle is sent
// too.
func TestCoalescer(t *testing.T) {
	t.Parallel()
	ctx, conn, c := start(t, "pgnotify_test")
	expect := expecter(t, ctx, conn)

	const goroutines, each = 8, 250
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				seq := int64(i*goroutines + g + 1)
				c.Notify("", seq, strconv.FormatInt(seq, 10))
			}
		})
	}
	wg.Wait()
	n := expect(goroutines * each)
	t.Logf("%d payloads recorded, %d notifications sent", goroutines*each, n)

	// The sender ends when idle; the next payload starts another.
	time.Sleep(20 * time.Millisecond)
	c.Notify("", 1_000_000, "1000000")
	expect(1_000_000)
}

// TestCoalescerLateLowerSeq: a payload recorded with a lower seq after a
// higher one was sent (its caller was descheduled between commit and
// Notify) still wakes the listeners, with the highest payload, not its own.
func TestCoalescerLateLowerSeq(t *testing.T) {
	t.Parallel()
	ctx, conn, c := start(t, "pgnotify_late_test")
	c.Notify("", 10, "10")
	expect := expecter(t, ctx, conn)
	expect(10)
	time.Sleep(20 * time.Millisecond)
	c.Notify("", 5, "5")
	note, err := conn.WaitForNotification(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if note.Payload != "10" {
		t.Fatalf("late seq 5 sent payload %q, want the highest recorded, 10", note.Payload)
	}
}

// start returns a Coalescer on channel with a 1 ms interval, a connection
// listening to channel, and a context bounding the test.
func start(t *testing.T, channel string) (context.Context, *pgx.Conn, *pgnotify.Coalescer) {
	t.Helper()
	pool, url := pgtest.NewPool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx, listen(t, ctx, url, channel), pgnotify.New(pool, channel, time.Millisecond)
}

// listen returns a connection to url that LISTENs to channel, closed when
// t ends.
func listen(t *testing.T, ctx context.Context, url, channel string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		t.Fatal(err)
	}
	return conn
}

// expecter returns a function that reads conn's notifications until one
// carries want, failing t when one before it went backwards or past it; it
// returns how many it read.
func expecter(t *testing.T, ctx context.Context, conn *pgx.Conn) func(want int64) int {
	return func(want int64) int {
		t.Helper()
		var last int64
		for n := 1; ; n++ {
			note, err := conn.WaitForNotification(ctx)
			if err != nil {
				t.Fatalf("waiting for %d (last %d): %v", want, last, err)
			}
			seq, err := strconv.ParseInt(note.Payload, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			if seq < last || seq > want {
				t.Fatalf("payload %d after %d, want never decreasing up to %d", seq, last, want)
			}
			if last = seq; seq == want {
				return n
			}
		}
	}
}

// TestCoalescerKeys: each key's latest payload is sent, however the keys'
// notifications interleave, in one statement per send (a projection engine
// announces every projection's checkpoint on one Coalescer).
func TestCoalescerKeys(t *testing.T) {
	t.Parallel()
	ctx, conn, c := start(t, "pgnotify_keys_test")
	c.Notify("a", 1, "a1")
	c.Notify("b", 1, "b1")
	c.Notify("a", 2, "a2")
	c.Notify("c", 5, "c5")
	c.Notify("c", 4, "c4") // late and lower: c5 is sent again
	want := map[string]bool{"a2": true, "b1": true, "c5": true}
	for len(want) > 0 {
		note, err := conn.WaitForNotification(ctx)
		if err != nil {
			t.Fatalf("still waiting for %v: %v", want, err)
		}
		if note.Payload == "c4" {
			t.Fatalf("a lower payload of key c was sent after a higher one")
		}
		delete(want, note.Payload)
	}
}

// TestCoalescerSentFrom: the listener's notification names the backend
// that sent it, and the Coalescer knows it as its own.
func TestCoalescerSentFrom(t *testing.T) {
	t.Parallel()
	ctx, conn, c := start(t, "pgnotify_sender_test")
	c.Notify("", 1, "1")
	note, err := conn.WaitForNotification(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !c.SentFrom(note.PID) || c.SentFrom(conn.PgConn().PID()) {
		t.Fatalf("SentFrom(sender %d) = %v, SentFrom(listener %d) = %v; want true, false",
			note.PID, c.SentFrom(note.PID), conn.PgConn().PID(), c.SentFrom(conn.PgConn().PID()))
	}
}
