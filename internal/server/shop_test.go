package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/auth"
	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/redistest"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
)

// The shop's GraphQL documents.
const (
	productFields = `
fragment ProductFields on Product {
  id sku title category description status version addedAt updatedAt attributes
  price { amount currency }
  stock { productId onHand reserved available version }
}`
	addProductMutation = `mutation Add($input: AddProductInput!) {
  addProduct(input: $input) { productId position version upToDate duplicate product { ...ProductFields } }
}` + productFields
	updateProductMutation = `mutation Update($input: UpdateProductInput!) {
  updateProduct(input: $input) { productId version upToDate product { ...ProductFields } }
}` + productFields
	priceMutation = `mutation Price($input: ChangeProductPriceInput!) {
  changeProductPrice(input: $input) { productId version upToDate product { ...ProductFields } }
}` + productFields
	discontinueMutation = `mutation Discontinue($input: DiscontinueProductInput!) {
  discontinueProduct(input: $input) { productId version upToDate product { ...ProductFields } }
}` + productFields
	restockMutation = `mutation Restock($input: RestockProductInput!) {
  restockProduct(input: $input) { productId position version upToDate duplicate stock { productId onHand reserved available version } }
}`
	productQuery  = `query Product($id: ID!) { product(id: $id) { ...ProductFields } }` + productFields
	productsQuery = `query Products($category: String, $search: String, $inStock: Boolean, $orderBy: ProductOrder, $first: Int, $after: String) {
  products(category: $category, search: $search, inStock: $inStock, orderBy: $orderBy, first: $first, after: $after) {
    edges { cursor node { ...ProductFields } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}` + productFields
	categoriesQuery = `{ categories { name productCount } }`
)

type stockData struct {
	ProductID string `json:"productId"`
	OnHand    int    `json:"onHand"`
	Reserved  int    `json:"reserved"`
	Available int    `json:"available"`
	Version   int    `json:"version"`
}

type product struct {
	ID          string          `json:"id"`
	SKU         string          `json:"sku"`
	Title       string          `json:"title"`
	Category    string          `json:"category"`
	Description string          `json:"description"`
	Status      string          `json:"status"`
	Version     int             `json:"version"`
	Attributes  json.RawMessage `json:"attributes"`
	Price       money           `json:"price"`
	Stock       stockData       `json:"stock"`
}

type productPayload struct {
	ProductID string   `json:"productId"`
	Position  int64    `json:"position"`
	Version   int      `json:"version"`
	UpToDate  bool     `json:"upToDate"`
	Duplicate bool     `json:"duplicate"`
	Product   *product `json:"product"`
}

type productsPage struct {
	Products struct {
		Edges []struct {
			Cursor string  `json:"cursor"`
			Node   product `json:"node"`
		} `json:"edges"`
		PageInfo pageInfo `json:"pageInfo"`
	} `json:"products"`
}

// book is the input of addProduct for a book.
func book(sku, title string, pages int, price string) servertest.Vars {
	return in("sku", sku, "title", title, "category", "books", "price", price, "currency", "EUR",
		"description", "A novel by "+title+"'s author.", "attributes", map[string]any{"author": "Ursula K. Le Guin", "pages": pages})
}

func addProduct(t *testing.T, c *servertest.Client, vars servertest.Vars) productPayload {
	t.Helper()
	var out struct {
		AddProduct productPayload `json:"addProduct"`
	}
	c.MustSucceed(t, addProductMutation, vars, &out)
	if !out.AddProduct.UpToDate || out.AddProduct.Product == nil {
		t.Fatalf("addProduct = %+v, want the projected product", out.AddProduct)
	}
	return out.AddProduct
}

func restock(t *testing.T, c *servertest.Client, id string, quantity int) stockData {
	t.Helper()
	var out struct {
		RestockProduct struct {
			ProductID string     `json:"productId"`
			UpToDate  bool       `json:"upToDate"`
			Stock     *stockData `json:"stock"`
		} `json:"restockProduct"`
	}
	c.MustSucceed(t, restockMutation, in("id", id, "quantity", quantity), &out)
	if r := out.RestockProduct; !r.UpToDate || r.Stock == nil || r.ProductID != id || r.Stock.ProductID != id {
		t.Fatalf("restockProduct = %+v, want the projected stock of %s", r, id)
	}
	return *out.RestockProduct.Stock
}

func getProduct(t *testing.T, c *servertest.Client, id string) product {
	t.Helper()
	var out struct {
		Product product `json:"product"`
	}
	c.MustSucceed(t, productQuery, servertest.Vars{"id": id}, &out)
	return out.Product
}

func listProducts(t *testing.T, c *servertest.Client, vars servertest.Vars) productsPage {
	t.Helper()
	var out productsPage
	c.MustSucceed(t, productsQuery, vars, &out)
	return out
}

func titles(p productsPage) []string {
	var out []string
	for _, e := range p.Products.Edges {
		out = append(out, e.Node.Title)
	}
	return out
}

// TestCatalogOverHTTP runs a product through its life over HTTP.
func TestCatalogOverHTTP(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.Client()

	added := addProduct(t, c, in("sku", " bk-lhod ", "title", "The Left Hand of Darkness", "category", "Books",
		"price", "12.50", "currency", "EUR", "description", "Genly Ai on the planet Gethen.",
		"attributes", map[string]any{"author": "Ursula K. Le Guin", "pages": 304, "isbn": "978-0-441-47812-5"}))
	p := added.Product
	if p.SKU != "BK-LHOD" || p.Category != "books" || p.Price != (money{"12.50", "EUR"}) || p.Status != "ACTIVE" || p.Version != 1 {
		t.Errorf("added product = %+v", p)
	}
	var attrs map[string]any
	if err := json.Unmarshal(p.Attributes, &attrs); err != nil || attrs["isbn"] != "9780441478125" || attrs["pages"] != 304.0 {
		t.Errorf("attributes = %s (%v), want the isbn as digits and pages 304", p.Attributes, err)
	}
	if p.Stock != (stockData{ProductID: p.ID}) {
		t.Errorf("stock of a new product = %+v, want zeros", p.Stock)
	}

	var upd struct {
		UpdateProduct productPayload `json:"updateProduct"`
	}
	c.MustSucceed(t, updateProductMutation, in("id", p.ID, "title", "The Left Hand of Darkness (50th anniversary)"), &upd)
	if u := upd.UpdateProduct.Product; u == nil || u.Title != "The Left Hand of Darkness (50th anniversary)" || u.Version != 2 || u.Description != p.Description {
		t.Errorf("updated product = %+v", u)
	}
	var price struct {
		ChangeProductPrice productPayload `json:"changeProductPrice"`
	}
	c.MustSucceed(t, priceMutation, in("id", p.ID, "price", "9.99", "currency", "EUR"), &price)
	if u := price.ChangeProductPrice.Product; u == nil || u.Price != (money{"9.99", "EUR"}) {
		t.Errorf("repriced product = %+v", u)
	}
	if s := restock(t, c, p.ID, 7); s.OnHand != 7 || s.Available != 7 || s.Version != 1 {
		t.Errorf("restocked = %+v", s)
	}
	if got := getProduct(t, c, p.ID); got.Stock.OnHand != 7 || got.Version != 3 {
		t.Errorf("product(id) = %+v", got)
	}

	// Rules and bad input.
	c.MustFail(t, "SKU_TAKEN", addProductMutation, book("BK-LHOD", "Another", 10, "1.00"))
	c.MustFail(t, "BAD_USER_INPUT", addProductMutation, book("BK-NOPAGES", "No pages", 0, "1.00"))
	c.MustFail(t, "BAD_USER_INPUT", addProductMutation, in("sku", "BK-ISBN", "title", "x", "category", "books", "price", "1.00",
		"currency", "EUR", "attributes", map[string]any{"author": "a", "pages": 1, "isbn": "978-0-441-47812-4"}))
	c.MustFail(t, "BAD_USER_INPUT", addProductMutation, in("sku", "BK-ARR", "title", "x", "category", "books", "price", "1.00",
		"currency", "EUR", "attributes", []any{1}))
	c.MustFail(t, "BAD_USER_INPUT", addProductMutation, book("BK-FREE", "Free", 1, "0.00"))
	c.MustFail(t, "BAD_USER_INPUT", addProductMutation, book("BAD SKU", "x", 1, "1.00"))
	c.MustFail(t, "BAD_USER_INPUT", restockMutation, in("id", p.ID, "quantity", 0))
	c.MustFail(t, "NOT_FOUND", restockMutation, in("id", randomUUID(), "quantity", 1))
	c.MustFail(t, "BAD_USER_INPUT", productQuery, servertest.Vars{"id": "nope"})
	c.MustFail(t, "NOT_FOUND", productQuery, servertest.Vars{"id": randomUUID()})

	// Tenancy: another organization's product is NOT_FOUND everywhere, and
	// its SKU is free there.
	other := srv.ClientAs("mallory", "other-org")
	other.MustFail(t, "NOT_FOUND", productQuery, servertest.Vars{"id": p.ID})
	other.MustFail(t, "NOT_FOUND", updateProductMutation, in("id", p.ID, "title", "mine"))
	other.MustFail(t, "NOT_FOUND", restockMutation, in("id", p.ID, "quantity", 1))
	if theirs := addProduct(t, other, book("BK-LHOD", "Their own", 1, "1.00")); theirs.ProductID == p.ID {
		t.Error("two organizations' products of one SKU share an id")
	}
	if l := listProducts(t, other, nil); len(l.Products.Edges) != 1 || l.Products.Edges[0].Node.Title != "Their own" {
		t.Errorf("other organization lists %v", titles(l))
	}

	var disc struct {
		DiscontinueProduct productPayload `json:"discontinueProduct"`
	}
	c.MustSucceed(t, discontinueMutation, in("id", p.ID, "reason", "out of print"), &disc)
	if u := disc.DiscontinueProduct.Product; u == nil || u.Status != "DISCONTINUED" {
		t.Errorf("discontinued product = %+v", u)
	}
	c.MustFail(t, "INVALID_STATE_TRANSITION", priceMutation, in("id", p.ID, "price", "1.00", "currency", "EUR"))
	c.MustFail(t, "SKU_TAKEN", addProductMutation, book("bk-lhod", "Again", 1, "1.00"))
	if l := listProducts(t, c, nil); len(l.Products.Edges) != 0 {
		t.Errorf("products lists the discontinued product: %v", titles(l))
	}
}

// TestProductsListing: category, search, inStock, the three orders and
// paging, and the categories' counts.
func TestProductsListing(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.Client()
	ids := map[string]string{}
	for _, b := range []struct {
		sku, title, category, price, description string
	}{
		{"B1", "Dune", "books", "9.00", "A desert planet and its spice."},
		{"B2", "Dune Messiah", "books", "8.00", "The emperor of the known universe."},
		{"B3", "The Dispossessed", "books", "11.00", "An ambiguous utopia on twin planets."},
		{"B4", "A Wizard of Earthsea", "books", "7.50", "A boy learns the true names of things."},
		{"G1", "Go board", "games", "40.00", "Nineteen by nineteen lines, for the planet's oldest game."},
	} {
		vars := in("sku", b.sku, "title", b.title, "category", b.category, "price", b.price, "currency", "EUR", "description", b.description)
		if b.category == "books" {
			vars["input"].(servertest.Vars)["attributes"] = map[string]any{"author": "someone", "pages": 100}
		}
		ids[b.title] = addProduct(t, c, vars).ProductID
	}
	restock(t, c, ids["Dune"], 3)
	restock(t, c, ids["Go board"], 1)

	check := func(what string, vars servertest.Vars, want ...string) {
		t.Helper()
		got := titles(listProducts(t, c, vars))
		if len(got) != len(want) {
			t.Errorf("%s: %q, want %q", what, got, want)
			return
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: %q, want %q", what, got, want)
				return
			}
		}
	}
	check("newest", nil, "Go board", "A Wizard of Earthsea", "The Dispossessed", "Dune Messiah", "Dune")
	check("books by price", servertest.Vars{"category": "BOOKS", "orderBy": "PRICE"}, "A Wizard of Earthsea", "Dune Messiah", "Dune", "The Dispossessed")
	check("by title", servertest.Vars{"orderBy": "TITLE"}, "A Wizard of Earthsea", "Dune", "Dune Messiah", "Go board", "The Dispossessed")
	// Full text: stems ("planets" finds "planet"), over the description too,
	// web-search syntax.
	check("search planet", servertest.Vars{"search": "planets", "orderBy": "TITLE"}, "Dune", "Go board", "The Dispossessed")
	check("search with exclusion", servertest.Vars{"search": "dune -messiah"}, "Dune")
	check("search books only", servertest.Vars{"search": "planet", "category": "books", "orderBy": "PRICE"}, "Dune", "The Dispossessed")
	check("in stock", servertest.Vars{"inStock": true, "orderBy": "TITLE"}, "Dune", "Go board")
	check("not in stock", servertest.Vars{"inStock": false, "category": "books", "orderBy": "TITLE"}, "A Wizard of Earthsea", "Dune Messiah", "The Dispossessed")

	// Paging, in each order: pages of 2 give every product once, in order.
	for _, order := range []string{"NEWEST", "PRICE", "TITLE"} {
		all := titles(listProducts(t, c, servertest.Vars{"orderBy": order}))
		var paged []string
		after := ""
		for range 10 {
			p := listProducts(t, c, servertest.Vars{"orderBy": order, "first": 2, "after": after})
			paged = append(paged, titles(p)...)
			if !p.Products.PageInfo.HasNextPage {
				break
			}
			after = *p.Products.PageInfo.EndCursor
		}
		if len(paged) != len(all) || len(all) != 5 {
			t.Errorf("%s: paged %q, all %q", order, paged, all)
			continue
		}
		for i := range all {
			if paged[i] != all[i] {
				t.Errorf("%s: paged %q, all %q", order, paged, all)
				break
			}
		}
	}
	// A cursor of one order is refused by another.
	p := listProducts(t, c, servertest.Vars{"orderBy": "PRICE", "first": 1})
	c.MustFail(t, "BAD_USER_INPUT", productsQuery, servertest.Vars{"orderBy": "TITLE", "after": *p.Products.PageInfo.EndCursor})
	c.MustFail(t, "BAD_USER_INPUT", productsQuery, servertest.Vars{"after": "garbage"})
	c.MustFail(t, "BAD_USER_INPUT", productsQuery, servertest.Vars{"category": "no such category!"})
	c.MustFail(t, "BAD_USER_INPUT", productsQuery, servertest.Vars{"search": "a\x00b"})

	var cats struct {
		Categories []struct {
			Name         string `json:"name"`
			ProductCount int    `json:"productCount"`
		} `json:"categories"`
	}
	c.MustSucceed(t, categoriesQuery, nil, &cats)
	if len(cats.Categories) != 2 || cats.Categories[0].Name != "books" || cats.Categories[0].ProductCount != 4 ||
		cats.Categories[1].Name != "games" || cats.Categories[1].ProductCount != 1 {
		t.Errorf("categories = %+v", cats.Categories)
	}
}

// TestConcurrentAddProductOneSKU: 20 concurrent addProduct calls with one
// SKU: exactly one succeeds, the others get SKU_TAKEN, and the catalog
// holds one product.
func TestConcurrentAddProductOneSKU(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.Client()
	const n = 20
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		won    []string
		codes  = map[string]int{}
		starts = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-starts
			vars := book("RACE-1", "Contender "+string(rune('A'+i)), 100, "5.00")
			resp, err := c.Do(context.Background(), servertest.Request{Query: addProductMutation, Variables: vars})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				codes["transport: "+err.Error()]++
			case len(resp.Errors) > 0:
				codes[resp.Errors[0].Code()]++
			default:
				var out struct {
					AddProduct productPayload `json:"addProduct"`
				}
				if err := resp.Decode(&out); err != nil {
					codes["decode"]++
					return
				}
				won = append(won, out.AddProduct.ProductID)
			}
		})
	}
	close(starts)
	wg.Wait()
	if len(won) != 1 || codes["SKU_TAKEN"] != n-1 {
		t.Fatalf("%d won (%v), errors %v; want 1 and %d SKU_TAKEN", len(won), won, codes, n-1)
	}
	if l := listProducts(t, c, nil); len(l.Products.Edges) != 1 || l.Products.Edges[0].Node.ID != won[0] {
		t.Errorf("products = %+v, want the one winner", l.Products.Edges)
	}
}

// TestProductAddedOverWebSocket: a subscriber of productAdded(category:
// "books") sees each book added on other requests once, in order, and not
// the products of another category or organization.
func TestProductAddedOverWebSocket(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.Client()
	addProduct(t, c, book("OLD-1", "Added before", 10, "1.00"))

	ws := srv.MustDialWS(t, "graphql-transport-ws", nil)
	mustInit(t, ws, nil)
	s := newSubs(t, ws)
	s.subscribe("books", `subscription($c: String) { productAdded(category: $c) { id title category } }`, servertest.Vars{"c": "books"})
	s.subscribe("all", `subscription { productAdded { id title } }`, nil)
	// A subscription is open once a product added after it reaches it: add
	// probes until both have one, then read each up to the last probe.
	var probes []string
	deadline := time.Now().Add(10 * time.Second)
	for !(pendingFor(t, s, "books", 500*time.Millisecond) && pendingFor(t, s, "all", 500*time.Millisecond)) {
		if time.Now().After(deadline) {
			t.Fatal("productAdded never delivered a product")
		}
		probes = append(probes, addProduct(t, c, book("PROBE-"+randomSuffix(), "Probe", 10, "1.00")).ProductID)
	}
	last := probes[len(probes)-1]
	for _, id := range []string{"books", "all"} {
		for {
			var x struct {
				ProductAdded product `json:"productAdded"`
			}
			s.data(id, &x)
			if x.ProductAdded.Title != "Probe" {
				t.Fatalf("%s: productAdded = %+v, want a probe", id, x.ProductAdded)
			}
			if x.ProductAdded.ID == last {
				break
			}
		}
	}

	other := srv.ClientAs("mallory", "other-org")
	var want []string
	for i := range 3 {
		addProduct(t, other, book("THEIRS-"+string(rune('A'+i)), "Theirs", 10, "1.00"))
		addProduct(t, c, in("sku", "GAME-"+string(rune('A'+i)), "title", "A game", "category", "games", "price", "3.00", "currency", "EUR"))
		want = append(want, addProduct(t, c, book("NEW-"+string(rune('A'+i)), "New book", 10, "1.00")).ProductID)
	}
	for i, id := range want {
		var x struct {
			ProductAdded product `json:"productAdded"`
		}
		s.data("books", &x)
		if x.ProductAdded.ID != id || x.ProductAdded.Category != "books" {
			t.Fatalf("book %d: productAdded = %+v, want %s", i, x.ProductAdded, id)
		}
	}
	s.noMessage("books", 300*time.Millisecond)

	// productUpdated: the current state first, then each change.
	s.subscribe("upd", `subscription($id: ID!) { productUpdated(id: $id) { id version title price { amount } } }`, servertest.Vars{"id": want[0]})
	var u struct {
		ProductUpdated product `json:"productUpdated"`
	}
	s.data("upd", &u)
	if u.ProductUpdated.ID != want[0] || u.ProductUpdated.Version != 1 {
		t.Fatalf("productUpdated first = %+v", u.ProductUpdated)
	}
	c.MustSucceed(t, priceMutation, in("id", want[0], "price", "2.00", "currency", "EUR"), nil)
	s.data("upd", &u)
	if u.ProductUpdated.Version != 2 || u.ProductUpdated.Price.Amount != "2.00" {
		t.Fatalf("productUpdated after a price change = %+v", u.ProductUpdated)
	}
	other.MustFail(t, "NOT_FOUND", productQuery, servertest.Vars{"id": want[0]})
	s.subscribe("nowhere", `subscription($p: ID!) { stockChanged(productId: $p) { available } }`, servertest.Vars{"p": randomUUID()})
	if code := s.errorCode("nowhere"); code != "NOT_FOUND" {
		t.Errorf("stockChanged of a product of nowhere: %s, want NOT_FOUND", code)
	}

	// Another organization's subscriber: NOT_FOUND for this product.
	ows := srv.MustDialWS(t, "graphql-transport-ws", nil)
	mustInit(t, ows, map[string]any{"Authorization": "Bearer " + srv.Token(auth.Identity{Subject: "mallory", Organization: "other-org"}, time.Hour)})
	osubs := newSubs(t, ows)
	for _, q := range []string{
		`subscription($id: ID!) { productUpdated(id: $id) { id } }`,
		`subscription($id: ID!) { stockChanged(productId: $id) { available } }`,
	} {
		osubs.subscribe("theirs", q, servertest.Vars{"id": want[0]})
		if code := osubs.errorCode("theirs"); code != "NOT_FOUND" {
			t.Errorf("%s of another organization's product: %s, want NOT_FOUND", q, code)
		}
	}
	n := 0
	for n < 6 {
		var x struct {
			ProductAdded product `json:"productAdded"`
		}
		s.data("all", &x)
		if x.ProductAdded.Title == "Theirs" {
			t.Fatalf("another organization's product reached the subscriber: %+v", x.ProductAdded)
		}
		n++
	}
}

// pendingFor reports whether a message of id has arrived, waiting at most d.
func pendingFor(t *testing.T, s *subs, id string, d time.Duration) bool {
	t.Helper()
	if len(s.pending[id]) > 0 {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		m, err := s.c.Next(ctx)
		if err != nil {
			return false
		}
		s.pending[m.ID] = append(s.pending[m.ID], m)
		if m.ID == id {
			return true
		}
	}
}

// TestShopSessionOfTheReadme runs the README's shop steps as written
// (attributes as inline GraphQL objects).
func TestShopSessionOfTheReadme(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.Client()
	var added struct {
		A struct {
			ProductID string  `json:"productId"`
			Product   product `json:"product"`
		} `json:"a"`
	}
	c.MustSucceed(t, `mutation {
  a: addProduct(input: { sku: "BK-LHOD", title: "The Left Hand of Darkness", category: "books",
                         price: "12.50", currency: "EUR", description: "An envoy on the winter planet Gethen.",
                         attributes: { author: "Ursula K. Le Guin", pages: 304, isbn: "978-0-441-47812-5" } }) {
    productId product { sku title price { amount currency } attributes }
  }
  b: addProduct(input: { sku: "BK-DISP", title: "The Dispossessed", category: "books",
                         price: "11.00", currency: "EUR", description: "An ambiguous utopia on twin planets.",
                         attributes: { author: "Ursula K. Le Guin", pages: 387 } }) { productId }
  c: addProduct(input: { sku: "BK-EARTH", title: "A Wizard of Earthsea", category: "books",
                         price: "8.90", currency: "EUR", description: "A boy learns the true names of things.",
                         attributes: { author: "Ursula K. Le Guin", pages: 183 } }) { productId }
}`, nil, &added)
	if string(added.A.Product.Attributes) != `{"isbn":"9780441478125","pages":304,"author":"Ursula K. Le Guin"}` {
		t.Errorf("attributes = %s", added.A.Product.Attributes)
	}
	restock(t, c, added.A.ProductID, 10)
	if got := titles(listProducts(t, c, servertest.Vars{"category": "books", "orderBy": "PRICE", "first": 10})); len(got) != 3 || got[0] != "A Wizard of Earthsea" {
		t.Errorf("books by price = %q", got)
	}
	if got := titles(listProducts(t, c, servertest.Vars{"search": "planet", "orderBy": "TITLE"})); len(got) != 2 {
		t.Errorf("search planet = %q, want the two planet books", got)
	}
	if got := titles(listProducts(t, c, servertest.Vars{"search": `"left hand" -earthsea`})); len(got) != 1 {
		t.Errorf("search \"left hand\" -earthsea = %q", got)
	}
	if got := titles(listProducts(t, c, servertest.Vars{"inStock": true})); len(got) != 1 || got[0] != "The Left Hand of Darkness" {
		t.Errorf("in stock = %q", got)
	}
}

// TestProductAddedAcrossInstances: the catalog projection runs on instance
// A, products are added through B, and a productAdded subscriber on C sees
// each once, in order (the doorbell crosses instances on Redis).
func TestProductAddedAcrossInstances(t *testing.T) {
	t.Parallel()
	srvs := startCluster(t, 3, func(c *config.Config) { c.RedisURL = redistest.SharedURL() })
	b := srvs[1].Client()
	ws := srvs[2].MustDialWS(t, "graphql-transport-ws", nil)
	mustInit(t, ws, nil)
	s := newSubs(t, ws)
	s.subscribe("books", `subscription { productAdded(category: "books") { id title } }`, nil)
	var probes []string
	deadline := time.Now().Add(15 * time.Second)
	for !pendingFor(t, s, "books", 500*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("productAdded on C never delivered a product added through B")
		}
		probes = append(probes, addProduct(t, b, book("PROBE-"+randomSuffix(), "Probe", 10, "1.00")).ProductID)
	}
	for {
		var x struct {
			ProductAdded product `json:"productAdded"`
		}
		s.data("books", &x)
		if x.ProductAdded.ID == probes[len(probes)-1] {
			break
		}
	}
	var want []string
	for i := range 5 {
		want = append(want, addProduct(t, b, book(fmt.Sprintf("X-%d", i), fmt.Sprintf("Book %d", i), 10, "1.00")).ProductID)
	}
	for i, id := range want {
		var x struct {
			ProductAdded product `json:"productAdded"`
		}
		s.data("books", &x)
		if x.ProductAdded.ID != id {
			t.Fatalf("product %d on C: %+v, want %s", i, x.ProductAdded, id)
		}
	}
	s.noMessage("books", 300*time.Millisecond)
}
