package gqlws_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/gqlws"
	"github.com/coder/websocket"
)

// TestManySubscribersComeAndGo (run it with -race): 16 connections, each
// subscribing and completing 60 operations (ordered streams, shared
// streams, queries, streams that end by themselves) while the source
// publishes, some completed at once and some after a result; then half the
// connections are dropped with operations open. No message comes for an
// operation after its complete, every subscription is given back to the
// limits, no execution follows the source, and no goroutine is left.
func TestManySubscribersComeAndGo(t *testing.T) {
	before := runtime.NumGoroutine()
	limits := gqlws.NewLimits(1000, 100000)
	srv := startServer(t, gqlws.Config{Limits: limits, Share: shareTicks})
	stop := make(chan struct{})
	var publisher sync.WaitGroup
	publisher.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				srv.src.publish(fmt.Sprint(i))
			}
		}
	})

	queries := []string{`subscription { ticks }`, `subscription { org }`, `query { hello }`, `subscription { finite }`}
	const conns, cycles = 16, 60
	var wg sync.WaitGroup
	clients := make([]*client, conns)
	for i := range clients {
		clients[i] = srv.init(t, fmt.Sprint("org", i%3))
	}
	for i, c := range clients {
		wg.Go(func() {
			var mu sync.Mutex
			completed := map[string]bool{} // by the server
			cancelled := map[string]bool{} // by the client
			gotResult := make(chan string, 1024)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					_, b, err := c.conn.Read(context.Background())
					if err != nil {
						return
					}
					var m message
					if err := json.Unmarshal(b, &m); err != nil {
						t.Errorf("undecodable %q", b)
						return
					}
					mu.Lock()
					if completed[m.ID] {
						t.Errorf("conn %d: %s for %s after its complete", i, m.Type, m.ID)
					}
					switch m.Type {
					case "complete", "error":
						// A stream that never ends by itself is completed by
						// the server only for a client that did not complete
						// it (a query's or a finite stream's complete may
						// cross the client's).
						if k := atoi(m.ID); cancelled[m.ID] && endless(queries[(i+k)%len(queries)]) {
							t.Errorf("conn %d: %s for %s, which the client completed", i, m.Type, m.ID)
						}
						completed[m.ID] = true
					case "next":
						select {
						case gotResult <- m.ID:
						default:
						}
					}
					mu.Unlock()
				}
			}()
			for k := range cycles {
				id := fmt.Sprint(k)
				c.subscribe(id, queries[(i+k)%len(queries)])
				if k%3 == 0 {
					// Wait for a result (or the end) of this one.
					select {
					case <-gotResult:
					case <-time.After(5 * time.Second):
						t.Errorf("conn %d: no result for %s", i, id)
					}
				}
				if k%2 == 0 {
					mu.Lock()
					if !completed[id] {
						cancelled[id] = true
					}
					mu.Unlock()
					c.send(message{Type: "complete", ID: id})
				}
			}
			if i%2 == 0 {
				_ = c.conn.CloseNow()
			} else {
				_ = c.conn.Close(websocket.StatusNormalClosure, "")
			}
			<-done
		})
	}
	wg.Wait()
	close(stop)
	publisher.Wait()
	eventually(t, "every subscription given back", func() bool { return limits.Open() == 0 })
	eventually(t, "no execution left", func() bool { return srv.src.listeners() == 0 })
	srv.Close()
	eventually(t, "the goroutines gone", func() bool { return runtime.NumGoroutine() <= before+2 })
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

// endless reports the operations that never end by themselves.
func endless(query string) bool {
	return strings.Contains(query, "ticks") || strings.Contains(query, "org")
}
