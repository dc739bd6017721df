package server_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/chronicle-es/chronicle/internal/catalog"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/module"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
	"github.com/chronicle-es/chronicle/internal/stock"
	"github.com/google/uuid"
)

// TestNoOversellingUnderRaces: a product restocked with 10 units over HTTP
// meets 50 concurrent reservations of 1 unit, sent as a process manager
// sends them (through the stock context's command handler, on the server's
// database): exactly 10 get stock, 40 are OUT_OF_STOCK. Then 5 are
// committed and 5 released: onHand, reserved and available add up, 5 units
// are available again, and stockChanged followed it all.
func TestNoOversellingUnderRaces(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.Client()
	id := addProduct(t, c, book("HOT-1", "Hot item", 10, "5.00")).ProductID
	restock(t, c, id, 10)

	ws := srv.MustDialWS(t, "graphql-transport-ws", nil)
	mustInit(t, ws, nil)
	s := newSubs(t, ws)
	s.subscribe("stock", `subscription($p: ID!) { stockChanged(productId: $p) { productId onHand reserved available version } }`, servertest.Vars{"p": id})
	var first struct {
		StockChanged stockData `json:"stockChanged"`
	}
	s.data("stock", &first)
	if first.StockChanged.OnHand != 10 || first.StockChanged.Version != 1 {
		t.Fatalf("stockChanged first = %+v, want 10 on hand", first.StockChanged)
	}

	app, org := processStock(srv)
	const n = 50
	orders := make([]string, n)
	results := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		orders[i] = uuid.NewString()
		wg.Go(func() {
			<-start
			_, results[i] = app.Commands.Handle(context.Background(),
				stock.ReserveStock{ProductID: id, OrderID: orders[i], Quantity: 1}, command.Options{Caller: org})
		})
	}
	close(start)
	wg.Wait()
	var reserved []string
	out := 0
	for i, err := range results {
		switch {
		case err == nil:
			reserved = append(reserved, orders[i])
		case errors.Is(err, stock.ErrOutOfStock):
			out++
		default:
			t.Errorf("reservation %d: %v", i, err)
		}
	}
	if len(reserved) != 10 || out != 40 {
		t.Fatalf("%d reserved, %d out of stock; want 10 and 40", len(reserved), out)
	}
	eventually(t, 30*time.Second, "the stock projection to show 10 reserved", func() bool {
		return getProduct(t, c, id).Stock == stockData{ProductID: id, OnHand: 10, Reserved: 10, Available: 0, Version: 11}
	})

	for i, o := range reserved {
		var cmd command.Command[stock.Stock] = stock.CommitReservation{ProductID: id, OrderID: o}
		if i >= 5 {
			cmd = stock.ReleaseReservation{ProductID: id, OrderID: o, Reason: "PAYMENT_FAILED"}
		}
		if _, err := app.Commands.Handle(context.Background(), cmd, command.Options{Caller: org}); err != nil {
			t.Fatalf("%s of order %s: %v", cmd.Name(), o, err)
		}
	}
	want := stockData{ProductID: id, OnHand: 5, Reserved: 0, Available: 5, Version: 21}
	eventually(t, 30*time.Second, "the stock projection to show 5 available", func() bool { return getProduct(t, c, id).Stock == want })
	for { // the subscriber sees the stock move, ending at the final state
		var x struct {
			StockChanged stockData `json:"stockChanged"`
		}
		s.data("stock", &x)
		if got := x.StockChanged; got.OnHand-got.Reserved != got.Available || got.Reserved < 0 || got.Available < 0 {
			t.Fatalf("stockChanged pushed %+v: the counts do not add up", got)
		} else if got == want {
			break
		}
	}
	// Over HTTP the product sells again: restock adds to what is left.
	if s := restock(t, c, id, 1); s.OnHand != 6 || s.Available != 6 {
		t.Errorf("restock after the race = %+v, want 6 on hand", s)
	}
}

// processStock is the stock context on srv's database as a process manager
// uses it (its own handler, on the same event store), and the caller it
// sends commands as.
func processStock(srv *servertest.Server) (*stock.App, caller.Caller) {
	store := eventstore.New(srv.Server.Pool())
	deps := module.Deps{Pool: srv.Server.Pool(), Store: store, Hub: live.NewHub(), Commands: command.Deps{Store: store, Waiter: noWait{}}}
	return stock.New(deps, catalog.New(deps)), caller.Caller{Actor: "process:fulfilment", Organization: servertest.DefaultIdentity.Organization}
}

// TestReserveOncePerOrderUnderRaces: 20 concurrent reservations for one
// order (a process manager's step sent again and again, each time under
// another idempotency key) reserve once; the others are ALREADY_RESERVED.
func TestReserveOncePerOrderUnderRaces(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.Client()
	id := addProduct(t, c, book("ONCE-1", "Once", 10, "5.00")).ProductID
	restock(t, c, id, 100)
	app, who := processStock(srv)
	order := uuid.NewString()
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = app.Commands.Handle(context.Background(), stock.ReserveStock{ProductID: id, OrderID: order, Quantity: 3},
				command.Options{Caller: who, IdempotencyKey: "attempt-" + uuid.NewString()})
		})
	}
	wg.Wait()
	ok, again := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, stock.ErrAlreadyReserved):
			again++
		default:
			t.Errorf("reservation: %v", err)
		}
	}
	if ok != 1 || again != n-1 {
		t.Fatalf("%d reserved, %d ALREADY_RESERVED; want 1 and %d", ok, again, n-1)
	}
	eventually(t, 30*time.Second, "3 units reserved", func() bool {
		return getProduct(t, c, id).Stock == stockData{ProductID: id, OnHand: 100, Reserved: 3, Available: 97, Version: 2}
	})
}

// noWait is a read-your-writes waiter that never waits (Deps.Wait is 0):
// the test reads the projected stock over HTTP instead.
type noWait struct{}

func (noWait) WaitFor(ctx context.Context, _ string, _ eventstore.Checkpoint) error {
	<-ctx.Done()
	return ctx.Err()
}
