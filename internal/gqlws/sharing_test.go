package gqlws_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/gqlws"
)

// TestSharedExecution: subscribers of one key share one execution, each
// getting every result; one that joins late gets the last result at once;
// another organization's subscribers of the same document and variables
// get an execution, and results, of their own; and when the last
// subscriber of a key leaves, its execution ends.
func TestSharedExecution(t *testing.T) {
	t.Parallel()
	srv := startServer(t, gqlws.Config{Share: shareTicks})
	a1, a2, b := srv.init(t, "a"), srv.init(t, "a"), srv.init(t, "b")
	for _, c := range []*client{a1, a2, b} {
		c.subscribe("1", `subscription { org }`)
	}
	eventually(t, "two executions", func() bool { return srv.src.listeners() == 2 })
	if n := srv.exec.dispatched.Load(); n != 2 {
		t.Errorf("%d executions for two organizations, want 2", n)
	}
	for i := range 3 {
		srv.src.publish(fmt.Sprint(i))
		for name, c := range map[string]*client{"a1": a1, "a2": a2} {
			if v := c.data("1", "org"); v != fmt.Sprintf("a:%d", i) {
				t.Errorf("%s got %q, want a:%d", name, v, i)
			}
		}
		if v := b.data("1", "org"); v != fmt.Sprintf("b:%d", i) {
			t.Errorf("b got %q, want its own organization's b:%d", v, i)
		}
	}

	late := srv.init(t, "a")
	late.subscribe("x", `subscription { org }`)
	if v := late.data("x", "org"); v != "a:2" {
		t.Errorf("a late subscriber got %q first, want the last result a:2", v)
	}
	if n := srv.exec.dispatched.Load(); n != 2 {
		t.Errorf("%d executions after a late subscriber joined, want 2", n)
	}

	// One subscriber leaving leaves the others theirs.
	a1.send(message{Type: "complete", ID: "1"})
	a1.sync()
	srv.src.publish("3")
	for name, c := range map[string]*client{"a2": a2, "late": late} {
		id := map[string]string{"a2": "1", "late": "x"}[name]
		if v := c.data(id, "org"); v != "a:3" {
			t.Errorf("%s got %q after a1 left, want a:3", name, v)
		}
	}
	a1.quiet(50 * time.Millisecond)
	b.data("1", "org")

	// The last one leaving ends it; a new subscriber starts a new one.
	a2.send(message{Type: "complete", ID: "1"})
	_ = late.conn.CloseNow()
	eventually(t, "a's execution ends", func() bool { return srv.src.listeners() == 1 })
	a1.subscribe("2", `subscription { org }`)
	eventually(t, "a new execution", func() bool { return srv.src.listeners() == 2 })
	srv.src.publish("4")
	if v := a1.data("2", "org"); v != "a:4" {
		t.Errorf("a new subscriber got %q, want a:4 (and not the old execution's last result)", v)
	}
}

// TestSlowSharedSubscriber: a shared subscriber that stops reading holds
// up no other subscriber; its connection keeps at most one result waiting,
// the newest, so when it reads again it gets the latest state.
func TestSlowSharedSubscriber(t *testing.T) {
	t.Parallel()
	srv := startServer(t, gqlws.Config{Share: shareTicks})
	stuck, live := srv.init(t, "a"), srv.init(t, "a")
	stuck.conn.SetReadLimit(1 << 20)
	live.conn.SetReadLimit(1 << 20)
	stuck.subscribe("1", `subscription { ticks }`)
	live.subscribe("1", `subscription { ticks }`)
	eventually(t, "one execution", func() bool { return srv.src.listeners() == 1 })

	// 32 MB to each: far more than the socket buffers hold, so the
	// server's writes to the one that does not read block.
	const n = 256
	pad := strings.Repeat("x", 128<<10)
	began := time.Now()
	for i := range n {
		v := fmt.Sprintf("%d:%s", i, pad)
		srv.src.publish(v)
		if got := live.data("1", "ticks"); got != v {
			t.Fatalf("the live subscriber got %.10q, want result %d", got, i)
		}
	}
	t.Logf("the live subscriber got %d results of 128 KiB in %v while the other did not read", n, time.Since(began))

	// The stuck one reads at last: what its socket held, then the newest.
	frames, last := 0, ""
	for {
		m, err := stuck.read(2 * time.Second)
		if err != nil {
			break
		}
		var resp struct {
			Data map[string]string `json:"data"`
		}
		if err := json.Unmarshal(m.Payload, &resp); err != nil {
			t.Fatal(err)
		}
		frames++
		last = resp.Data["ticks"]
	}
	if frames >= n {
		t.Fatalf("the stuck subscriber got all %d results: its results were not coalesced (or it was never stuck)", frames)
	}
	if want := fmt.Sprintf("%d:", n-1); !strings.HasPrefix(last, want) {
		t.Errorf("the stuck subscriber's last result is %.10q, want the newest (%s...)", last, want)
	}
	t.Logf("the stuck subscriber got %d of %d results, the newest last", frames, n)
}

// TestOrderedOperationWaits: an operation that is not shared loses
// nothing to a slow connection: it waits for the connection to take each
// result.
func TestOrderedOperationWaits(t *testing.T) {
	t.Parallel()
	srv := startServer(t, gqlws.Config{}) // nothing shared
	c := srv.init(t, "a")
	c.conn.SetReadLimit(1 << 20)
	c.subscribe("1", `subscription { ticks }`)
	eventually(t, "the execution follows", func() bool { return srv.src.listeners() == 1 })
	const n = 200
	pad := strings.Repeat("y", 64<<10)
	for i := range n {
		srv.src.publish(fmt.Sprintf("%d:%s", i, pad)) // the source buffers 1024
	}
	time.Sleep(200 * time.Millisecond) // the client does not read meanwhile
	for i := range n {
		if v := c.data("1", "ticks"); !strings.HasPrefix(v, fmt.Sprintf("%d:", i)) {
			t.Fatalf("result %d is %.10q: an ordered stream dropped or reordered results", i, v)
		}
	}
}
