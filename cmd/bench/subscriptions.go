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
// memory with them idle, then runs `mutations` credits one after another and
// measures, for every frame, the time from the appending transaction's
// recorded_at (the account's updatedAt) to the frame's arrival.
func runSubscriptions(ctx context.Context, srv *serverProcess, n, mutations int) (subscriptionResult, error) {
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
	subCtx, cancelSubs := context.WithCancel(ctx)
	defer cancelSubs()
	subs := make([]*wsSubscriber, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(64)
	wsURL := "ws" + strings.TrimPrefix(srv.baseURL, "http") + "/query"
	for i := range subs {
		g.Go(func() error {
			s, err := dialSubscriber(gctx, wsURL, accountUpdatedQuery, map[string]any{"id": id})
			subs[i] = s
			return err
		})
	}
	err = g.Wait()
	var wg sync.WaitGroup
	defer func() {
		cancelSubs()
		for _, s := range subs {
			if s != nil {
				s.conn.CloseNow()
			}
		}
		wg.Wait()
	}()
	if err != nil {
		return res, fmt.Errorf("open subscriptions: %w", err)
	}
	for _, s := range subs {
		wg.Go(func() { s.read(subCtx) })
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

	last := warm
	for range mutations {
		if last, err = credit(); err != nil {
			return res, err
		}
		time.Sleep(100 * time.Millisecond)
	}
	res.Missing = waitForVersion(subs, last, 60*time.Second)

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
	return res, nil
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
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func dialSubscriber(ctx context.Context, url, query string, vars map[string]any) (*wsSubscriber, error) {
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
	payload, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err := send(wsMessage{ID: "1", Type: "subscribe", Payload: payload}); err != nil {
		conn.CloseNow()
		return nil, err
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
