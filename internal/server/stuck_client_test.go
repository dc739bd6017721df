package server_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
)

// TestStuckSubscriberIsDropped: a client that stops reading, on the legacy
// graphql-ws protocol (which has no pong deadline) and on SSE, is
// disconnected once a write to it has waited SUBSCRIPTION_WRITE_TIMEOUT, rather
// than holding its goroutines until shutdown.
func TestStuckSubscriberIsDropped(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) {
		c.WSKeepAlive = time.Hour
		c.SubscriptionWriteTimeout = 300 * time.Millisecond
	})
	c := srv.Client()
	id := open(t, c, servertest.Vars{"owner": "Stuck " + randomSuffix(), "currency": "EUR"}).Account.ID
	vars := servertest.Vars{"id": id}

	ws := dialRaw(t, srv, servertest.GraphQLWS)
	writeRaw(t, ws, servertest.WSMessage{Type: "connection_init"})
	ids := []string{"s1", "s2", "s3", "s4"}
	startRaw(t, ws, servertest.Request{Query: bulkyOperationsSub(32), Variables: vars}, ids...)
	sse := streamRaw(t, srv, servertest.Request{Query: bulkyOperationsSub(128), Variables: vars})

	// About 64 KB per credit to each client: far more than the socket
	// buffers hold, so the server's writes block.
	const n = 150
	description := strings.Repeat("nobody reads this. ", 27)[:499] + "!"
	for range n {
		credit(t, c, servertest.Vars{"id": id, "amount": "0.01", "description": description})
	}
	time.Sleep(time.Second) // more than the write timeout

	// Reading at last, each client gets what was buffered and then finds
	// its connection closed by the server: not a wait for more.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	frames := 0
	for {
		_, _, err := ws.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("graphql-ws client: still connected after %d frames; want it dropped", frames)
			}
			break
		}
		frames++
	}
	if frames >= len(ids)*n {
		t.Fatalf("graphql-ws client got all %d frames: it was never stuck, the test proves nothing", frames)
	}

	_ = sse.SetReadDeadline(time.Now().Add(15 * time.Second))
	read, err := io.Copy(io.Discard, sse)
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		t.Fatalf("SSE client: still connected after %d bytes; want it dropped", read)
	}
	if read >= int64(n)*64<<10 {
		t.Fatalf("SSE client read %d bytes: it was never stuck", read)
	}
}
