package server_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/chronicle-es/chronicle/internal/redistest"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	orderFields = `id status reason paymentId version total { amount currency }
  lines { productId quantity unitPrice { amount } amount { amount } }`
	placeOrderMutation = `mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) { orderId upToDate duplicate order { ` + orderFields + ` } }
}`
	orderQuery       = `query Order($id: ID!) { order(id: $id) { ` + orderFields + ` } }`
	orderUpdatedSub  = `subscription($id: ID!) { orderUpdated(id: $id) { ` + orderFields + ` } }`
	fulfilmentActive = `msg="projection runner active" projection=process:fulfilment`
)

type orderData struct {
	ID        string  `json:"id"`
	Status    string  `json:"status"`
	Reason    *string `json:"reason"`
	PaymentID *string `json:"paymentId"`
	Version   int     `json:"version"`
	Total     struct {
		Amount   string `json:"amount"`
		Currency string `json:"currency"`
	} `json:"total"`
}

func placeOrder(t *testing.T, c *servertest.Client, product string, quantity int) orderData {
	t.Helper()
	var out struct {
		PlaceOrder struct {
			OrderID  string     `json:"orderId"`
			UpToDate bool       `json:"upToDate"`
			Order    *orderData `json:"order"`
		} `json:"placeOrder"`
	}
	c.MustSucceed(t, placeOrderMutation, in("lines", []any{map[string]any{"productId": product, "quantity": quantity}},
		"customerName", "Ada", "customerEmail", "ada@example.com"), &out)
	if out.PlaceOrder.Order == nil {
		t.Fatalf("placeOrder = %+v, want the projected order", out.PlaceOrder)
	}
	return *out.PlaceOrder.Order
}

var lifecycle = map[string]int{"PLACED": 0, "STOCK_RESERVED": 1, "AWAITING_PAYMENT": 2, "PAID": 3, "SHIPPED": 4}

// TestOrdersAcrossInstances: the fulfilment process runs on A, mutations
// go to B, and an orderUpdated subscriber on C follows the order from
// PLACED to SHIPPED: every version once, in order.
func TestOrdersAcrossInstances(t *testing.T) {
	t.Parallel()
	cfg := servertest.Config()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	cfg.RedisURL = redistest.SharedURL()
	a := servertest.StartWith(t, cfg)
	waitLog(t, a, fulfilmentActive, 15*time.Second)
	b, c := servertest.StartWith(t, cfg), servertest.StartWith(t, cfg)
	cb, cc := b.Client(), c.Client()

	p := addProduct(t, cb, book("ORDER-1", "Ordered", 100, "7.50")).ProductID
	restock(t, cb, p, 3)
	o := placeOrder(t, cb, p, 2)
	if o.Status != "PLACED" || o.Total.Amount != "15.00" || o.Total.Currency != "EUR" {
		t.Fatalf("placed order %+v", o)
	}

	// Subscribe late, once the order awaits its payment: the subscriber
	// still gets every version.
	eventually(t, 15*time.Second, "the order awaits its payment", func() bool {
		var x struct {
			Order orderData `json:"order"`
		}
		cc.MustSucceed(t, orderQuery, servertest.Vars{"id": o.ID}, &x)
		return x.Order.Status == "AWAITING_PAYMENT"
	})
	ws := c.MustDialWS(t, servertest.GraphQLTransportWS, nil)
	mustInit(t, ws, nil)
	s := newSubs(t, ws)
	s.subscribe("o", orderUpdatedSub, servertest.Vars{"id": o.ID})
	var seen []orderData
	next := func() orderData {
		var x struct {
			OrderUpdated orderData `json:"orderUpdated"`
		}
		s.data("o", &x)
		u := x.OrderUpdated
		if n := len(seen); n > 0 && (u.Version <= seen[n-1].Version || lifecycle[u.Status] < lifecycle[seen[n-1].Status]) {
			t.Fatalf("orderUpdated sent %+v after %+v: want each version once, in order", u, seen[n-1])
		}
		seen = append(seen, u)
		return u
	}
	// Every version once, from PLACED on, however the process's steps
	// fell into projection batches.
	for _, want := range []string{"PLACED", "STOCK_RESERVED", "AWAITING_PAYMENT"} {
		if u := next(); u.Status != want || u.Version != len(seen) {
			t.Fatalf("orderUpdated #%d = %+v, want %s at version %d", len(seen), u, want, len(seen))
		}
	}
	payID := *seen[len(seen)-1].PaymentID
	// The process's commands are counted on A, where they run; its
	// deadline and lag are read from the database by any instance.
	m := scrapeMetrics(t, a)
	for _, cmd := range [][2]string{{"stock", "ReserveStock"}, {"payment", "InitiatePayment"}, {"order", "AwaitOrderPayment"}} {
		if m.value("chronicle_handled_commands_total", "context", cmd[0], "command", cmd[1], "source", "process:fulfilment", "outcome", "ok") != 1 {
			t.Errorf("%s %s from process:fulfilment not counted once on A", cmd[0], cmd[1])
		}
	}
	if mc := scrapeMetrics(t, c); mc.value("chronicle_process_deadlines", "process", "fulfilment") != 1 ||
		!mc.has("chronicle_projection_lag_positions", "projection", "process:fulfilment") {
		t.Errorf("C's /metrics: want one fulfilment deadline and the process's lag")
	}
	var pay struct {
		Payment struct {
			OrderID *string `json:"orderId"`
			Amount  struct {
				Amount string `json:"amount"`
			} `json:"amount"`
		} `json:"payment"`
	}
	cc.MustSucceed(t, `query($id: ID!) { payment(id: $id) { orderId amount { amount } } }`, servertest.Vars{"id": payID}, &pay)
	if pay.Payment.OrderID == nil || *pay.Payment.OrderID != o.ID || pay.Payment.Amount.Amount != "15.00" {
		t.Fatalf("payment %+v, want 15.00 for order %s", pay.Payment, o.ID)
	}
	cb.MustSucceed(t, `mutation($input: ProcessPaymentInput!) { processPayment(input: $input) { version } }`, in("id", payID), nil)
	if u := next(); u.Status != "PAID" {
		t.Fatalf("after processPayment: %+v", u)
	}
	cb.MustSucceed(t, `mutation($input: ShipOrderInput!) { shipOrder(input: $input) { version } }`, in("id", o.ID), nil)
	if u := next(); u.Status != "SHIPPED" {
		t.Fatalf("after shipOrder: %+v", u)
	}
	cb.MustFail(t, "INVALID_STATE_TRANSITION", `mutation($input: CancelOrderInput!) { cancelOrder(input: $input) { version } }`, in("id", o.ID))
	c.ClientAs("mallory", "other-org").MustFail(t, "NOT_FOUND", orderQuery, servertest.Vars{"id": o.ID})

	// Bad input is refused with a code, before anything is stored.
	usd := addProduct(t, cb, in("sku", "USD-1", "title", "Dollar book", "category", "books", "price", "1.00", "currency", "USD",
		"attributes", map[string]any{"author": "X", "pages": 10})).ProductID
	place := func(lines ...map[string]any) servertest.Vars {
		ls := make([]any, len(lines))
		for i, l := range lines {
			ls[i] = l
		}
		return in("lines", ls, "customerName", "Ada", "customerEmail", "ada@example.com")
	}
	l := func(id string, q int) map[string]any { return map[string]any{"productId": id, "quantity": q} }
	cb.MustFail(t, "BAD_USER_INPUT", placeOrderMutation, place(l(p, 1), l(usd, 1)))
	cb.MustFail(t, "BAD_USER_INPUT", placeOrderMutation, place(l(p, 0)))
	cb.MustFail(t, "BAD_USER_INPUT", placeOrderMutation, place())
	cb.MustFail(t, "BAD_USER_INPUT", placeOrderMutation, place(l("nope", 1)))
	cb.MustFail(t, "NOT_FOUND", placeOrderMutation, place(l("01900000-0000-7000-8000-000000000001", 1)))
	cb.MustFail(t, "BAD_USER_INPUT", `query { orders(first: 0) { edges { cursor } } }`, nil)
	var list struct {
		Orders struct {
			Edges []struct {
				Node orderData `json:"node"`
			} `json:"edges"`
		} `json:"orders"`
	}
	cc.MustSucceed(t, `query { orders(status: SHIPPED) { edges { node { id status } } } }`, nil, &list)
	if len(list.Orders.Edges) != 1 || list.Orders.Edges[0].Node.ID != o.ID {
		t.Fatalf("orders(status: SHIPPED) = %+v", list.Orders)
	}
	if st := getProduct(t, cc, p).Stock; st.OnHand != 1 || st.Reserved != 0 || st.Available != 1 {
		t.Fatalf("stock after the order shipped: %+v", st)
	}
}

// TestOrdersSurviveACrash: the server running the fulfilment process is
// stopped in the middle of 200 orders; the standby takes over and every
// order ends REJECTED or AWAITING_PAYMENT with exactly one payment, as many
// awaiting as there were units.
func TestOrdersSurviveACrash(t *testing.T) {
	t.Parallel()
	cfg := servertest.Config()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	a := servertest.StartWith(t, cfg)
	waitLog(t, a, fulfilmentActive, 15*time.Second)
	b := servertest.StartWith(t, func() config.Config { c := cfg; c.ReadYourWritesTimeout = 10 * time.Second; return c }())
	cb := b.Client()
	p := addProduct(t, cb, book("CRASH-1", "Crash", 100, "1.00")).ProductID
	const orders, units = 200, 150
	restock(t, cb, p, units)

	var placed atomic.Int64
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range 8 {
		wg.Go(func() {
			for range jobs {
				placeOrder(t, cb, p, 1)
				placed.Add(1)
			}
		})
	}
	stopped := false
	for i := range orders {
		jobs <- i
		if !stopped && placed.Load() >= 40 {
			stopped = true
			go func() {
				if err := a.Stop(); err != nil {
					t.Errorf("stop A: %v", err)
				}
			}()
		}
	}
	close(jobs)
	wg.Wait()
	waitLog(t, b, fulfilmentActive, 30*time.Second)

	pool, err := pgxpool.New(context.Background(), cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	count := func(q string) int {
		var n int
		if err := pool.QueryRow(context.Background(), q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	eventually(t, 60*time.Second, "every order settles", func() bool {
		return count(`SELECT count(*) FROM orders WHERE status IN ('AWAITING_PAYMENT', 'REJECTED')`) == orders &&
			count(`SELECT count(*) FROM process_outbox`) == 0
	})
	if n := count(`SELECT count(*) FROM orders WHERE status = 'AWAITING_PAYMENT'`); n != units {
		t.Fatalf("%d orders awaiting payment, want %d (one per unit)", n, units)
	}
	if n := count(`SELECT count(*) FROM (SELECT data->>'orderId' FROM events WHERE type = 'PaymentInitiated' GROUP BY 1 HAVING count(*) > 1) t`); n != 0 {
		t.Fatalf("%d orders with more than one payment", n)
	}
	if n := count(`SELECT count(*) FROM orders o WHERE o.status = 'AWAITING_PAYMENT' AND NOT EXISTS
		(SELECT 1 FROM events e WHERE e.type = 'PaymentInitiated' AND e.data->>'orderId' = o.id::text)`); n != 0 {
		t.Fatalf("%d orders awaiting a payment that does not exist", n)
	}
	if st := getProduct(t, cb, p).Stock; st.OnHand != units || st.Reserved != units || st.Available != 0 {
		t.Fatalf("stock %+v, want all %d units reserved", st, units)
	}
}

// TestShopStep4OfTheReadme runs the README's step 4 documents as written
// there (read from README.md, with the ids filled in): restock, place an
// order, follow orderUpdated while the payment is processed, ship.
func TestShopStep4OfTheReadme(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	start := strings.Index(text, "**4. Restock")
	if start < 0 {
		t.Fatal("README has no step 4")
	}
	text = text[start:]
	text = text[:strings.Index(text, "\n## ")]
	var ops []string
	for _, block := range strings.Split(text, "```graphql\n")[1:] {
		ops = append(ops, operations(block[:strings.Index(block, "```")])...)
	}
	if len(ops) != 5 {
		t.Fatalf("step 4 has %d operations, want restock, placeOrder, orderUpdated, processPayment, shipOrder:\n%q", len(ops), ops)
	}
	srv := servertest.Start(t, nil)
	c := srv.Client()
	p := addProduct(t, c, book("BK-README", "Readme", 100, "12.50")).ProductID
	fill := func(op string, ids ...string) string {
		return strings.NewReplacer(ids...).Replace(op)
	}
	c.MustSucceed(t, fill(ops[0], "<productId>", p), nil, nil)
	var placed struct {
		PlaceOrder struct {
			OrderID string `json:"orderId"`
		} `json:"placeOrder"`
	}
	c.MustSucceed(t, fill(ops[1], "<productId>", p), nil, &placed)
	id := placed.PlaceOrder.OrderID

	ws := srv.MustDialWS(t, servertest.GraphQLTransportWS, nil)
	mustInit(t, ws, nil)
	s := newSubs(t, ws)
	s.subscribe("o", fill(ops[2], "<orderId>", id), nil)
	next := func() orderData {
		var x struct {
			OrderUpdated orderData `json:"orderUpdated"`
		}
		s.data("o", &x)
		return x.OrderUpdated
	}
	var last orderData
	for _, want := range []string{"PLACED", "STOCK_RESERVED", "AWAITING_PAYMENT"} {
		if last = next(); last.Status != want {
			t.Fatalf("orderUpdated = %+v, want %s", last, want)
		}
	}
	c.MustSucceed(t, fill(ops[3], "<paymentId>", *last.PaymentID), nil, nil)
	if u := next(); u.Status != "PAID" {
		t.Fatalf("after processPayment: %+v", u)
	}
	if st := getProduct(t, c, p).Stock; st.OnHand != 8 || st.Reserved != 0 {
		t.Fatalf("stock after payment %+v, want on hand 8, reserved 0 as the README says", st)
	}
	c.MustSucceed(t, fill(ops[4], "<orderId>", id), nil, nil)
	if u := next(); u.Status != "SHIPPED" {
		t.Fatalf("after shipOrder: %+v", u)
	}
}

// operations splits a block of GraphQL into its top-level operations.
func operations(block string) []string {
	var out []string
	depth, begin := 0, -1
	for i, r := range block {
		switch r {
		case '{':
			if depth == 0 && begin < 0 {
				begin = strings.LastIndexAny(block[:i], "\n") + 1
			}
			depth++
		case '}':
			depth--
			if depth == 0 && begin >= 0 {
				out = append(out, strings.TrimSpace(block[begin:i+1]))
				begin = -1
			}
		}
	}
	return out
}
