package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"
)

// subscriptionResult is what one run of the subscription scenario measured.
type subscriptionResult struct {
	Subscriptions int
	Mutations     int
	Frames        int
	Missing       int
	P50, P99, Max time.Duration
	// RSSPerSub is the growth of the server's resident memory divided by
	// the number of idle subscriptions, one per websocket connection.
	RSSPerSub int64
	// CPU is the cores busy while the credits ran and their frames were
	// read (the load generator's readers decode every frame).
	CPU cpuUse
}

// frame is one accountUpdated frame as a subscriber received it.
type frame struct {
	version  int
	received time.Time
	updated  time.Time
}

const accountUpdatedQuery = `subscription($id: ID!) { accountUpdated(id: $id) { version updatedAt } }`

// runSubscriptions opens n websocket connections, each with one
// accountUpdated subscription to the same account, measures the server's
// memory with them idle (and with -profile subscriptions-idle-<n>, its
// heap and goroutines), then runs `mutations` credits one after another and
// measures, for every frame, the time from the appending transaction's
// recorded_at (the account's updatedAt) to the frame's arrival.
func runSubscriptions(ctx context.Context, srv *serverProcess, n, mutations int, prof *profiler) (subscriptionResult, error) {
	res := subscriptionResult{Subscriptions: n, Mutations: mutations}
	var opened struct {
		OpenAccount struct {
			AccountID string `json:"accountId"`
		} `json:"openAccount"`
	}
	if err := srv.graphql(ctx, `mutation { openAccount(input: {owner: "bench", currency: "EUR"}) { accountId } }`, nil, &opened); err != nil {
		return res, err
	}
	id := opened.OpenAccount.AccountID

	rssBefore, err := srv.rssBytes()
	if err != nil {
		return res, err
	}
	subs, closeSubs, err := openSubscribers(ctx, srv, n, map[string]any{"id": id})
	defer closeSubs()
	if err != nil {
		return res, fmt.Errorf("open subscriptions: %w", err)
	}

	credit := func() (int, error) {
		var out struct {
			CreditAccount struct {
				Version int `json:"version"`
			} `json:"creditAccount"`
		}
		err := srv.graphql(ctx, `mutation($id: ID!) { creditAccount(input: {id: $id, amount: "0.01"}) { version } }`, map[string]any{"id": id}, &out)
		return out.CreditAccount.Version, err
	}
	// A first credit proves every subscription is live before measuring.
	warm, err := credit()
	if err != nil {
		return res, err
	}
	if missing := waitForVersion(subs, warm, 60*time.Second); missing > 0 {
		return res, fmt.Errorf("%d of %d subscriptions got no frame for the warm-up credit", missing, n)
	}
	time.Sleep(2 * time.Second) // let the server settle before reading its memory
	rssIdle, err := srv.rssBytes()
	if err != nil {
		return res, err
	}
	res.RSSPerSub = (rssIdle - rssBefore) / int64(n)
	if err := prof.heapProfiles(ctx, fmt.Sprintf("subscriptions-idle-%d", n), srv); err != nil {
		return res, err
	}

	// With -profile subscriptions-fanout-<n>, a CPU profile of the server
	// covers the credits, which then run for the whole profile.
	fanout := fmt.Sprintf("subscriptions-fanout-%d", n)
	if prof.wants(fanout) {
		mutations = max(mutations, profileSeconds*10+5)
		res.Mutations = mutations
	}
	if start := prof.start(ctx, fanout, srv); start != nil {
		start()
	}
	meter := startCPU(ctx, srv)
	last := warm
	for range mutations {
		if last, err = credit(); err != nil {
			return res, err
		}
		time.Sleep(100 * time.Millisecond)
	}
	res.Missing = waitForVersion(subs, last, 60*time.Second)
	res.CPU = meter.stop()
	if err := prof.wait(logf); err != nil {
		return res, err
	}

	var lat []time.Duration
	for _, s := range subs {
		for _, f := range s.snapshot() {
			if f.version > warm {
				lat = append(lat, f.received.Sub(f.updated))
			}
		}
	}
	res.Frames = len(lat)
	res.P50, res.P99, res.Max = percentile(lat, 0.50), percentile(lat, 0.99), percentile(lat, 1)
	logf("  %d frames, %d missing, p50 %s p99 %s max %s, %.1f KiB per idle subscription [cores: machine %.2f server %.2f load generator %.2f]",
		res.Frames, res.Missing, ms(res.P50), ms(res.P99), ms(res.Max), float64(res.RSSPerSub)/1024, res.CPU.Machine, res.CPU.Server, res.CPU.Generator)
	return res, nil
}

// openSubscribers opens n websocket connections to srv, 64 at a time, each
// subscribing accountUpdatedQuery once for each of vars, and reads them
// until closeAll, which the caller must call (also on error).
func openSubscribers(ctx context.Context, srv *serverProcess, n int, vars ...map[string]any) (subs []*wsSubscriber, closeAll func(), err error) {
	subCtx, cancelSubs := context.WithCancel(ctx)
	subs = make([]*wsSubscriber, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(64)
	wsURL := "ws" + strings.TrimPrefix(srv.baseURL, "http") + "/query"
	for i := range subs {
		g.Go(func() error {
			s, err := dialSubscriber(gctx, wsURL, accountUpdatedQuery, vars...)
			subs[i] = s
			return err
		})
	}
	err = g.Wait()
	var wg sync.WaitGroup
	closeAll = func() {
		cancelSubs()
		for _, s := range subs {
			if s != nil {
				s.conn.CloseNow()
			}
		}
		wg.Wait()
	}
	if err != nil {
		return subs, closeAll, err
	}
	for _, s := range subs {
		wg.Go(func() { s.read(subCtx) })
	}
	return subs, closeAll, nil
}

// waitForVersion waits until every subscriber has seen version v and returns
// how many had not by the deadline.
func waitForVersion(subs []*wsSubscriber, v int, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		missing := 0
		for _, s := range subs {
			if int(s.lastVersion.Load()) < v {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			return missing
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wsSubscriber is one graphql-transport-ws connection with one subscription.
type wsSubscriber struct {
	conn        *websocket.Conn
	mu          sync.Mutex
	frames      []frame
	lastVersion atomic.Int64
	// received counts the frames of all its subscriptions.
	received atomic.Int64
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialSubscriber opens a connection and subscribes query once for each of
// vars (ids "1", "2", ...).
func dialSubscriber(ctx context.Context, url, query string, vars ...map[string]any) (*wsSubscriber, error) {
	dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dialCtx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	send := func(m any) error {
		b, _ := json.Marshal(m)
		return conn.Write(dialCtx, websocket.MessageText, b)
	}
	if err := send(wsMessage{Type: "connection_init", Payload: json.RawMessage(`{}`)}); err != nil {
		conn.CloseNow()
		return nil, err
	}
	_, b, err := conn.Read(dialCtx)
	var ack wsMessage
	if err == nil {
		err = json.Unmarshal(b, &ack)
	}
	if err != nil || ack.Type != "connection_ack" {
		conn.CloseNow()
		return nil, fmt.Errorf("connection_init: %v (got %q)", err, ack.Type)
	}
	for i, v := range vars {
		payload, _ := json.Marshal(map[string]any{"query": query, "variables": v})
		if err := send(wsMessage{ID: fmt.Sprint(i + 1), Type: "subscribe", Payload: payload}); err != nil {
			conn.CloseNow()
			return nil, err
		}
	}
	return &wsSubscriber{conn: conn}, nil
}

// read records frames until the connection or ctx ends, answering pings.
func (s *wsSubscriber) read(ctx context.Context) {
	for {
		_, b, err := s.conn.Read(ctx)
		if err != nil {
			return
		}
		now := time.Now()
		var m wsMessage
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		switch m.Type {
		case "ping":
			_ = s.conn.Write(ctx, websocket.MessageText, []byte(`{"type":"pong"}`))
		case "next":
			var p struct {
				Data struct {
					AccountUpdated struct {
						Version   int       `json:"version"`
						UpdatedAt time.Time `json:"updatedAt"`
					} `json:"accountUpdated"`
				} `json:"data"`
			}
			if json.Unmarshal(m.Payload, &p) != nil {
				continue
			}
			a := p.Data.AccountUpdated
			s.mu.Lock()
			s.frames = append(s.frames, frame{version: a.Version, received: now, updated: a.UpdatedAt})
			s.mu.Unlock()
			s.lastVersion.Store(int64(a.Version))
			s.received.Add(1)
		case "error", "complete":
			return
		}
	}
}

func (s *wsSubscriber) snapshot() []frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]frame(nil), s.frames...)
}

// dashboardResult is item 4's dashboard row: connections with several
// subscriptions each, memory per connection.
type dashboardResult struct {
	Connections, PerConnection int
	// RSSPerConn is the growth of the server's resident memory with the
	// subscriptions idle, divided by the number of connections.
	RSSPerConn int64
}

// runDashboards opens n websocket connections, each with one accountUpdated
// subscription to each of perConn accounts (a dashboard page of live
// panels), proves each subscription live with one credit per account, and
// measures the server's memory with them idle.
func runDashboards(ctx context.Context, srv *serverProcess, n, perConn int) (dashboardResult, error) {
	res := dashboardResult{Connections: n, PerConnection: perConn}
	ids, err := openAccounts(ctx, srv, perConn)
	if err != nil {
		return res, err
	}
	vars := make([]map[string]any, perConn)
	for i, id := range ids {
		vars[i] = map[string]any{"id": id}
	}
	rssBefore, err := srv.rssBytes()
	if err != nil {
		return res, err
	}
	subs, closeSubs, err := openSubscribers(ctx, srv, n, vars...)
	defer closeSubs()
	if err != nil {
		return res, fmt.Errorf("open dashboards: %w", err)
	}
	cl := newClient(srv.baseURL)
	defer cl.close()
	for _, id := range ids {
		if _, err := cl.post(ctx, creditOp.body(id)); err != nil {
			return res, err
		}
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		missing := 0
		for _, s := range subs {
			if s.received.Load() < int64(perConn) {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("%d of %d dashboards did not get a frame on each of their %d subscriptions", missing, n, perConn)
		}
	}
	time.Sleep(2 * time.Second) // let the server settle before reading its memory
	rssIdle, err := srv.rssBytes()
	if err != nil {
		return res, err
	}
	res.RSSPerConn = (rssIdle - rssBefore) / int64(n)
	return res, nil
}
