package order_test

// The fulfilment process end to end against a real PostgreSQL: the
// catalog, stock, payments and orders contexts on one projection engine
// that runs their projections and the fulfilment process manager, with an
// injected clock for the payment deadline. Commands go through the
// contexts' handlers as the resolvers send them.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/chronicle-es/chronicle/internal/catalog"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/module"
	"github.com/chronicle-es/chronicle/internal/order"
	"github.com/chronicle-es/chronicle/internal/payment"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/chronicle-es/chronicle/internal/process"
	"github.com/chronicle-es/chronicle/internal/process/processtest"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/chronicle-es/chronicle/internal/stock"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	org       = "shop"
	waitLimit = 30 * time.Second
	timeout   = 15 * time.Minute
)

type shop struct {
	t      *testing.T
	pool   *pgxpool.Pool
	engine *projection.Engine
	clock  *processtest.Clock
	cat    *catalog.App
	stock  *stock.App
	pay    *payment.App
	orders *order.App
	cancel context.CancelFunc
	done   chan struct{}
}

// newShop builds the contexts; start runs the engine.
func newShop(t *testing.T) *shop {
	t.Helper()
	t.Parallel()
	pool, _ := pgtest.NewPool(t)
	store := eventstore.New(pool)
	logger := slog.New(slog.DiscardHandler)
	engine, err := projection.NewEngine(pool, projection.Config{PollInterval: 100 * time.Millisecond, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	s := &shop{t: t, pool: pool, engine: engine, clock: processtest.NewClock(time.Now())}
	reg := module.NewRegistry(module.Deps{
		Pool: pool, Store: store, Hub: live.NewHub(), Logger: logger,
		Commands: command.Deps{Store: store, Waiter: engine, Wait: 5 * time.Second, Logger: logger},
		Process:  process.Config{Pool: pool, Now: s.clock.Now, PollInterval: 20 * time.Millisecond, Logger: logger},
	}, engine)
	s.cat = module.Use(reg, catalog.Module)
	s.stock = module.Use(reg, stock.Module(s.cat))
	s.pay = module.Use(reg, payment.Module)
	s.orders = module.Use(reg, order.Module(order.Needs{Catalog: s.cat, Stock: s.stock, Payments: s.pay, PaymentTimeout: timeout}))
	if err := reg.Err(); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *shop) start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		_ = s.engine.Run(ctx)
	}()
	s.t.Cleanup(func() {
		cancel()
		<-s.done
	})
}

func ctxOf(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	t.Cleanup(cancel)
	return ctx
}

func opts() command.Options {
	return command.Options{Caller: caller.Caller{Actor: "tester", Organization: org, CorrelationID: uuid.NewString()}}
}

// product adds a book priced price (EUR) and restocks it with units.
func (s *shop) product(price string, units int64) string {
	s.t.Helper()
	res, err := s.cat.Commands.Handle(ctxOf(s.t), catalog.AddProduct{
		SKU: uuid.NewString(), Title: "A book", Category: "books", Price: price, Currency: "EUR",
		Attributes: json.RawMessage(`{"author":"Ursula K. Le Guin","pages":300}`),
	}, opts())
	if err != nil {
		s.t.Fatal(err)
	}
	id := res.ID.String()
	if units > 0 {
		if _, err := s.stock.Commands.Handle(ctxOf(s.t), stock.RestockProduct{ProductID: id, Quantity: units}, opts()); err != nil {
			s.t.Fatal(err)
		}
	}
	return id
}

func (s *shop) place(lines ...order.LineInput) (string, error) {
	res, err := s.orders.Place(ctxOf(s.t), order.PlaceOrder{Lines: lines, CustomerName: "Ada", CustomerEmail: "ada@example.com"}, opts())
	if err != nil {
		return "", err
	}
	return res.ID.String(), nil
}

func (s *shop) mustPlace(lines ...order.LineInput) string {
	s.t.Helper()
	id, err := s.place(lines...)
	if err != nil {
		s.t.Fatal(err)
	}
	return id
}

func (s *shop) order(id string) order.Order {
	s.t.Helper()
	o, _, err := s.orders.Commands.Load(ctxOf(s.t), uuid.MustParse(id))
	if err != nil {
		s.t.Fatal(err)
	}
	return o
}

// await waits until order id has status (and, for a final status, until
// the process has nothing left to send and is caught up).
func (s *shop) await(id string, status order.Status) order.Order {
	s.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		o := s.order(id)
		if o.Status == status && s.settled() {
			return o
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("order %s is %s (%s), want %s", id, o.Status, o.Reason, status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settled: the fulfilment process has applied every event and sent its
// outbox.
func (s *shop) settled() bool {
	var outbox, behind int
	err := s.pool.QueryRow(ctxOf(s.t), `SELECT (SELECT count(*) FROM process_outbox),
		(SELECT count(*) FROM events e, projection_checkpoints c WHERE c.name = $1 AND (e.transaction_id, e.position) > (c.transaction_id, c.position))`,
		process.ProjectionName(order.FulfilmentName)).Scan(&outbox, &behind)
	if err != nil {
		s.t.Fatal(err)
	}
	return outbox == 0 && behind == 0
}

func (s *shop) stockOf(product string) stock.Stock {
	s.t.Helper()
	st, _, err := s.stock.Commands.Load(ctxOf(s.t), stock.StreamID(org, uuid.MustParse(product)))
	if err != nil {
		s.t.Fatal(err)
	}
	return st
}

func (s *shop) paymentOf(o order.Order) payment.Payment {
	s.t.Helper()
	p, _, err := s.pay.Commands.Load(ctxOf(s.t), uuid.MustParse(o.PaymentID))
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

func (s *shop) checkStock(product string, onHand, reserved int64) {
	s.t.Helper()
	st := s.stockOf(product)
	if st.OnHand != onHand || st.Reserved != reserved || st.Available() != onHand-reserved {
		s.t.Fatalf("stock of %s: on hand %d, reserved %d, available %d; want %d, %d, %d",
			product, st.OnHand, st.Reserved, st.Available(), onHand, reserved, onHand-reserved)
	}
}

func line(product string, q int64) order.LineInput {
	return order.LineInput{ProductID: product, Quantity: q}
}

func TestFulfilmentHappyPath(t *testing.T) {
	s := newShop(t)
	s.start()
	a, b := s.product("12.50", 5), s.product("3.00", 5)
	id := s.mustPlace(line(a, 2), line(b, 1))
	o := s.await(id, order.StatusAwaitingPayment)
	if o.Total != 2800 {
		t.Fatalf("total %d, want 2800", o.Total)
	}
	p := s.paymentOf(o)
	if p.Amount != 2800 || p.OrderID != id || p.Status != payment.StatusInitiated {
		t.Fatalf("payment %+v, want 28.00 INITIATED for order %s", p, id)
	}
	s.checkStock(a, 5, 2)
	if _, err := s.pay.Commands.Handle(ctxOf(t), payment.ProcessPayment{ID: o.PaymentID}, opts()); err != nil {
		t.Fatal(err)
	}
	s.await(id, order.StatusPaid)
	s.checkStock(a, 3, 0)
	s.checkStock(b, 4, 0)
	if _, err := s.orders.Commands.Handle(ctxOf(t), order.ShipOrder{ID: id}, opts()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.orders.Commands.Handle(ctxOf(t), order.CancelOrder{ID: id, Reason: order.ReasonCustomer}, opts()); !isCode(err, order.ErrInvalidStateTransition) {
		t.Fatalf("cancel a shipped order: %v, want INVALID_STATE_TRANSITION", err)
	}
	// The read model follows.
	v := s.view(id, order.StatusShipped)
	if v.PaymentID != o.PaymentID || len(v.Lines) != 2 || v.Total != 2800 {
		t.Fatalf("read model %+v", v)
	}
}

func (s *shop) view(id string, status order.Status) order.View {
	s.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		v, err := s.orders.Reads.Get(ctxOf(s.t), org, uuid.MustParse(id))
		if err == nil && v.Status == status {
			return v
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("read model of %s: %+v, %v; want %s", id, v, err, status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFulfilmentOutOfStock: the second line cannot be reserved: the order
// is REJECTED OUT_OF_STOCK and the first line's reservation released.
func TestFulfilmentOutOfStock(t *testing.T) {
	s := newShop(t)
	s.start()
	a, b := s.product("1.00", 5), s.product("1.00", 1)
	id := s.mustPlace(line(a, 2), line(b, 2))
	o := s.await(id, order.StatusRejected)
	if o.Reason != order.ReasonOutOfStock || o.PaymentID != "" {
		t.Fatalf("order %+v, want REJECTED OUT_OF_STOCK without a payment", o)
	}
	s.checkStock(a, 5, 0)
	s.checkStock(b, 1, 0)
}

func TestFulfilmentPaymentFailed(t *testing.T) {
	s := newShop(t)
	s.start()
	a := s.product("1.00", 3)
	id := s.mustPlace(line(a, 3))
	o := s.await(id, order.StatusAwaitingPayment)
	if _, err := s.pay.Commands.Handle(ctxOf(t), payment.FailPayment{ID: o.PaymentID, Reason: "card declined"}, opts()); err != nil {
		t.Fatal(err)
	}
	o = s.await(id, order.StatusCancelled)
	if o.Reason != order.ReasonPaymentFailed {
		t.Fatalf("reason %s, want PAYMENT_FAILED", o.Reason)
	}
	s.checkStock(a, 3, 0)
}

// TestFulfilmentCancelBeforePayment: the order is cancelled before the
// process saw it (its engine starts afterwards): the reservations that
// follow are released and no payment is initiated.
func TestFulfilmentCancelBeforePayment(t *testing.T) {
	s := newShop(t)
	a := s.product("1.00", 3)
	id := s.mustPlace(line(a, 2))
	if _, err := s.orders.Commands.Handle(ctxOf(t), order.CancelOrder{ID: id, Reason: order.ReasonCustomer, Note: "changed my mind"}, opts()); err != nil {
		t.Fatal(err)
	}
	s.start()
	o := s.await(id, order.StatusCancelled)
	s.eventually("the reservation is released", func() bool { return s.stockOf(a).Reservations[id].Status == stock.StatusReleased && s.settled() })
	s.checkStock(a, 3, 0)
	if o.PaymentID != "" || s.count(`SELECT count(*) FROM events WHERE stream_type = 'payment'`) != 0 {
		t.Fatal("a payment was initiated for an order cancelled before its stock was reserved")
	}
}

func (s *shop) eventually(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: not after %v", what, waitLimit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *shop) count(q string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.pool.QueryRow(ctxOf(s.t), q, args...).Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

// TestFulfilmentCancelAfterInitiation: the customer cancels while the
// payment is initiated: the payment is failed and the stock released.
func TestFulfilmentCancelAfterInitiation(t *testing.T) {
	s := newShop(t)
	s.start()
	a := s.product("1.00", 3)
	id := s.mustPlace(line(a, 2))
	o := s.await(id, order.StatusAwaitingPayment)
	if _, err := s.orders.Commands.Handle(ctxOf(t), order.CancelOrder{ID: id, Reason: order.ReasonCustomer}, opts()); err != nil {
		t.Fatal(err)
	}
	s.await(id, order.StatusCancelled)
	s.eventually("the payment fails", func() bool { return s.paymentOf(o).Status == payment.StatusFailed })
	s.checkStock(a, 3, 0)
	if _, err := s.pay.Commands.Handle(ctxOf(t), payment.ProcessPayment{ID: o.PaymentID}, opts()); !isCode(err, payment.ErrInvalidStateTransition) {
		t.Fatalf("processing the failed payment: %v, want INVALID_STATE_TRANSITION", err)
	}
}

// TestFulfilmentPaymentTimeout: the deadline fires on the injected clock.
func TestFulfilmentPaymentTimeout(t *testing.T) {
	s := newShop(t)
	s.start()
	a := s.product("1.00", 3)
	id := s.mustPlace(line(a, 1))
	o := s.await(id, order.StatusAwaitingPayment)
	if n := s.count(`SELECT count(*) FROM process_deadlines WHERE process_id = $1 AND kind = $2`, id, order.DeadlinePayment); n != 1 {
		t.Fatalf("%d payment deadlines, want 1", n)
	}
	s.clock.Advance(timeout - time.Minute)
	time.Sleep(100 * time.Millisecond) // several deadline polls: nothing may fire before the time-out
	if st := s.order(id).Status; st != order.StatusAwaitingPayment {
		t.Fatalf("status %s before the time-out", st)
	}
	s.clock.Advance(2 * time.Minute)
	o2 := s.await(id, order.StatusCancelled)
	if o2.Reason != order.ReasonPaymentTimeout {
		t.Fatalf("reason %s, want PAYMENT_TIMEOUT", o2.Reason)
	}
	s.eventually("the payment fails", func() bool { return s.paymentOf(o).Status == payment.StatusFailed })
	s.checkStock(a, 3, 0)
	if n := s.count(`SELECT count(*) FROM process_deadlines`); n != 0 {
		t.Fatalf("%d deadlines left", n)
	}
}

// TestFulfilmentRace: 50 concurrent orders of one unit against a stock of
// 10: exactly 10 await their payment and 40 are rejected OUT_OF_STOCK; then
// 5 payments are processed and 5 failed: 5 units are left, none reserved.
func TestFulfilmentRace(t *testing.T) {
	s := newShop(t)
	s.start()
	a := s.product("2.00", 10)
	ids := make([]string, 50)
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	for i := range ids {
		wg.Go(func() {
			id, err := s.place(line(a, 1))
			ids[i] = id
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s.eventually("every order settles", func() bool {
		if !s.settled() {
			return false
		}
		for _, id := range ids {
			if st := s.order(id).Status; st != order.StatusAwaitingPayment && st != order.StatusRejected {
				return false
			}
		}
		return true
	})
	var awaiting []order.Order
	rejected := 0
	for _, id := range ids {
		switch o := s.order(id); {
		case o.Status == order.StatusAwaitingPayment:
			awaiting = append(awaiting, o)
		case o.Status == order.StatusRejected && o.Reason == order.ReasonOutOfStock:
			rejected++
		}
	}
	if len(awaiting) != 10 || rejected != 40 {
		t.Fatalf("%d awaiting payment, %d rejected OUT_OF_STOCK; want 10 and 40", len(awaiting), rejected)
	}
	s.checkStock(a, 10, 10)
	for i, o := range awaiting {
		var err error
		if i < 5 {
			_, err = s.pay.Commands.Handle(ctxOf(t), payment.ProcessPayment{ID: o.PaymentID}, opts())
		} else {
			_, err = s.pay.Commands.Handle(ctxOf(t), payment.FailPayment{ID: o.PaymentID, Reason: "declined"}, opts())
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, o := range awaiting {
		if i < 5 {
			s.await(o.ID, order.StatusPaid)
		} else {
			s.await(o.ID, order.StatusCancelled)
		}
	}
	s.checkStock(a, 5, 0)
	if n := s.count(`SELECT count(*) FROM events WHERE type = 'PaymentInitiated'`); n != 10 {
		t.Fatalf("%d payments initiated, want 10", n)
	}
}

func isCode(err, target error) bool { return errors.Is(err, target) }

// TestReadModelEqualsTheFoldAndARebuild: orders through every path; each
// projected order equals the fold of its events, and a rebuild of the
// orders projection, while its runner runs, equals the live read model.
func TestReadModelEqualsTheFoldAndARebuild(t *testing.T) {
	s := newShop(t)
	s.start()
	ctx := ctxOf(t)
	a, b := s.product("4.20", 12), s.product("1.00", 2)
	var ids []string
	for i := range 16 {
		id := s.mustPlace(line(a, 1), line(b, int64(1+i%2)))
		ids = append(ids, id)
		o := s.awaitFinal(id)
		if o.Status != order.StatusAwaitingPayment {
			continue
		}
		var err error
		switch i % 4 {
		case 0:
			_, err = s.pay.Commands.Handle(ctx, payment.ProcessPayment{ID: o.PaymentID}, opts())
			if err == nil {
				s.await(id, order.StatusPaid)
				_, err = s.orders.Commands.Handle(ctx, order.ShipOrder{ID: id}, opts())
			}
		case 1:
			_, err = s.pay.Commands.Handle(ctx, payment.FailPayment{ID: o.PaymentID, Reason: "declined"}, opts())
		case 2:
			_, err = s.orders.Commands.Handle(ctx, order.CancelOrder{ID: id, Reason: order.ReasonCustomer}, opts())
		}
		if err != nil {
			t.Fatal(err)
		}
		s.eventually("the order settles", s.settled)
	}
	for _, id := range ids {
		o := s.order(id)
		v := s.view(id, o.Status)
		if v.Status != o.Status || v.Reason != o.Reason || v.PaymentID != o.PaymentID || v.Total != o.Total ||
			v.Currency != o.Currency || fmt.Sprint(v.Lines) != fmt.Sprint(o.Lines) || v.Organization != o.Organization {
			t.Errorf("order %s: projected %+v, folded %+v", id, v, o)
		}
	}
	dump := func() string {
		var out string
		if err := s.pool.QueryRow(ctx, `SELECT concat((SELECT string_agg(x::text, ',' ORDER BY x.id) FROM orders x), E'\n',
			(SELECT string_agg(h::text, ',' ORDER BY h.order_id, h.version) FROM order_history h))`).Scan(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := dump()
	if _, err := projection.Rebuild(ctx, s.pool, order.Projection{}, projection.RebuildOptions{BatchSize: 13}); err != nil {
		t.Fatal(err)
	}
	if after := dump(); after != before {
		t.Fatalf("rebuilt orders differ:\nlive:    %.800s\nrebuilt: %.800s", before, after)
	}
}

// awaitFinal waits until order id's process has settled in a status it
// stays in without a payment decision (AWAITING_PAYMENT or REJECTED).
func (s *shop) awaitFinal(id string) order.Order {
	s.t.Helper()
	var o order.Order
	s.eventually("order "+id+" settles", func() bool {
		o = s.order(id)
		return (o.Status == order.StatusAwaitingPayment || o.Status == order.StatusRejected) && s.settled()
	})
	return o
}
