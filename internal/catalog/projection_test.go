package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/chronicle-es/chronicle/internal/catalog"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/module"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/chronicle-es/chronicle/internal/stock"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// shop is the catalog and stock contexts on a fresh database, with both
// projections running.
type shop struct {
	pool    *pgxpool.Pool
	catalog *catalog.App
	stock   *stock.App
}

func newShop(t *testing.T) *shop {
	t.Helper()
	pool, _ := pgtest.NewPool(t)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store := eventstore.New(pool)
	eng, err := projection.NewEngine(pool, projection.Config{BatchSize: 7, PollInterval: 50 * time.Millisecond, Logger: logger},
		catalog.Projection{}, stock.Projection{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("engine: %v", err)
		}
	})
	deps := module.Deps{Pool: pool, Store: store, Hub: live.NewHub(), Logger: logger,
		Commands: command.Deps{Store: store, Waiter: eng, Wait: 30 * time.Second, Logger: logger}}
	s := &shop{pool: pool, catalog: catalog.New(deps)}
	s.stock = stock.New(deps, s.catalog)
	return s
}

// randomLife adds a product for who and sends it a random series of
// changes and restocks; refusals (a discontinued product) are expected.
func (s *shop) randomLife(t *testing.T, ctx context.Context, rnd *rand.Rand, who caller.Caller, n int) {
	t.Helper()
	opts := command.Options{Caller: who}
	categories := []string{"books", "games", "music"}
	cat := categories[rnd.IntN(len(categories))]
	attrs := json.RawMessage(`{"author":"A. Writer","pages":` + fmt.Sprint(1+rnd.IntN(900)) + `}`)
	res, err := s.catalog.Commands.Handle(ctx, catalog.AddProduct{
		SKU: fmt.Sprintf("SKU-%d-%d", n, rnd.IntN(1e6)), Title: fmt.Sprintf("Title %d", rnd.IntN(1000)), Category: cat,
		Description: "words about planets and people", Price: fmt.Sprintf("%d.%02d", 1+rnd.IntN(50), rnd.IntN(100)),
		Currency: "EUR", Attributes: attrs,
	}, opts)
	if err != nil {
		t.Fatal(err)
	}
	id := res.ID.String()
	for range rnd.IntN(6) {
		var err error
		switch rnd.IntN(5) {
		case 0:
			title := fmt.Sprintf("Retitled %d", rnd.IntN(1000))
			_, err = s.catalog.Commands.Handle(ctx, catalog.UpdateProduct{ID: id, Title: &title}, opts)
		case 1:
			_, err = s.catalog.Commands.Handle(ctx, catalog.ChangeProductPrice{ID: id, Price: fmt.Sprintf("%d.00", 1+rnd.IntN(99)), Currency: "EUR"}, opts)
		case 2:
			_, err = s.stock.Commands.Handle(ctx, stock.RestockProduct{ProductID: id, Quantity: int64(1 + rnd.IntN(20))}, opts)
		case 3:
			order := uuid.NewString()
			if _, err = s.stock.Commands.Handle(ctx, stock.ReserveStock{ProductID: id, OrderID: order, Quantity: 1}, opts); err == nil && rnd.IntN(2) == 0 {
				_, err = s.stock.Commands.Handle(ctx, stock.CommitReservation{ProductID: id, OrderID: order}, opts)
			}
		case 4:
			_, err = s.catalog.Commands.Handle(ctx, catalog.DiscontinueProduct{ID: id}, opts)
		}
		if err != nil && !errors.Is(err, catalog.ErrInvalidStateTransition) && !errors.Is(err, catalog.ErrInvalidInput) && !errors.Is(err, stock.ErrOutOfStock) {
			t.Fatal(err)
		}
	}
}

// TestReadModelsEqualTheEventsAndARebuild: after random lives in three
// organizations, every projected product equals the fold of its events
// (the write side), every stock row adds up, and rebuilding the catalog and
// stock projections while their runners run yields the same rows.
func TestReadModelsEqualTheEventsAndARebuild(t *testing.T) {
	s := newShop(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rnd := rand.New(rand.NewPCG(11, 12))
	for i := range 45 {
		s.randomLife(t, ctx, rnd, caller.Caller{Actor: "a", Organization: fmt.Sprintf("org-%d", i%3)}, i)
	}
	// Every command waited for its projection: both have every event.
	// A product of nowhere has no stock to restock.
	if _, err := s.stock.Commands.Handle(ctx, stock.RestockProduct{ProductID: catalog.ProductID("org-0", "SKU-0-x").String(), Quantity: 1},
		command.Options{Caller: caller.Caller{Organization: "org-0"}}); !errors.Is(err, stock.ErrProductNotFound) {
		t.Fatalf("restock of a product of nowhere: %v, want NOT_FOUND", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT id, organization FROM products`)
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		id  uuid.UUID
		org string
	}
	var keys []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.id, &k.org); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if rows.Err() != nil || len(keys) != 45 {
		t.Fatalf("%d products projected (%v), want 45", len(keys), rows.Err())
	}
	for _, k := range keys {
		v, err := s.catalog.Reads.Get(ctx, k.org, k.id)
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.catalog.Product(ctx, k.org, k.id)
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		_ = json.Unmarshal(v.Attributes, &a)
		_ = json.Unmarshal(p.Attributes, &b)
		if v.SKU != p.SKU || v.Title != p.Title || v.Category != p.Category || v.Description != p.Description ||
			v.Price != p.Price || v.Currency != p.Currency.Code || v.Status != p.Status || fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("product %s: projected %+v, folded %+v", k.id, v, p)
		}
		st, err := s.stock.Reads.Get(ctx, k.org, k.id)
		if err != nil {
			t.Fatal(err)
		}
		folded, _, err := s.stock.Commands.Load(ctx, stock.StreamID(k.org, k.id))
		if err != nil {
			t.Fatal(err)
		}
		if st.OnHand != folded.OnHand || st.Reserved != folded.Reserved || st.Available() < 0 || st.Reserved < 0 {
			t.Errorf("stock of %s: projected %+v, folded on hand %d reserved %d", k.id, st, folded.OnHand, folded.Reserved)
		}
	}

	dump := func() string {
		var out string
		err := s.pool.QueryRow(ctx, `SELECT concat_ws(E'\n',
			(SELECT string_agg(x::text, ',' ORDER BY x.id) FROM products x),
			(SELECT string_agg(x::text, ',' ORDER BY x.id) FROM stock x))`).Scan(&out)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := dump()
	for _, p := range []projection.Projection{catalog.Projection{}, stock.Projection{}} {
		if _, err := projection.Rebuild(ctx, s.pool, p, projection.RebuildOptions{BatchSize: 13}); err != nil {
			t.Fatal(err)
		}
	}
	if after := dump(); after != before {
		t.Fatalf("rebuilt read models differ:\nlive:    %.800s\nrebuilt: %.800s", before, after)
	}
	// Search still works on the rebuilt table (its generated column and
	// GIN index came with the scratch copy).
	page, err := s.catalog.Reads.List(ctx, catalog.ListFilter{Organization: "org-1", Search: "planet"})
	if err != nil || len(page.Items) == 0 {
		t.Fatalf("search after the rebuild: %d items, %v", len(page.Items), err)
	}
	s.randomLife(t, ctx, rnd, caller.Caller{Actor: "a", Organization: "org-0"}, 99)
}
