package catalog

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/command/commandtest"
	"github.com/chronicle-es/chronicle/internal/money"
)

const org = "acme"

// Who sends the commands, on the product of SKU "BK-1": alice of org, eve
// of another organization.
var (
	alice = as("alice", org)
	eve   = as("eve", "globex")
	pid   = ProductID(org, "BK-1").String()
)

func as(actor, organization string) command.Env {
	return command.Env{StreamID: ProductID(org, "BK-1"), Actor: actor, Organization: organization, StreamKey: "BK-1"}
}

func given(es ...aggregate.Event) []aggregate.Event { return es }

var addBook = AddProduct{
	SKU: " bk-1 ", Title: " The Dispossessed ", Category: "Books", Description: "An ambiguous utopia.",
	Price: "11.00", Currency: "EUR",
	Attributes: json.RawMessage(`{"pages": 387, "author": " Ursula K. Le Guin ", "isbn": "0-06-051275-X"}`),
}

var added = ProductAdded{
	ProductID: pid, Organization: org, SKU: "BK-1", Title: "The Dispossessed", Category: "books",
	Description: "An ambiguous utopia.", Price: 1100, Currency: "EUR",
	Attributes: json.RawMessage(`{"author":"Ursula K. Le Guin","isbn":"006051275X","pages":387}`), AddedBy: "alice",
}

func TestAddProduct(t *testing.T) {
	if k, err := addBook.Key(); err != nil || k != "BK-1" {
		t.Errorf("Key() = %q, %v; want BK-1", k, err)
	}
	commandtest.Given(t, Type).As(alice).When(addBook).Then(added)

	with := func(f func(*AddProduct)) AddProduct { c := addBook; f(&c); return c }
	game := with(func(c *AddProduct) { c.Category, c.Attributes = "board-games", nil })
	want := added
	want.Category, want.Attributes = "board-games", json.RawMessage(`{}`)
	commandtest.Given(t, Type).As(alice).When(game).Then(want)
}

// TestAddProductSKUTaken: a product whose stream exists has its SKU taken,
// whatever the new input (even invalid: the race's losers all say
// SKU_TAKEN), and discontinued products keep theirs.
func TestAddProductSKUTaken(t *testing.T) {
	commandtest.Given(t, Type, added).As(alice).When(addBook).ThenError(ErrSKUTaken)
	commandtest.Given(t, Type, added).As(alice).When(AddProduct{SKU: "bk-1"}).ThenError(ErrSKUTaken)
	commandtest.Given(t, Type, added, ProductDiscontinued{ProductID: pid, DiscontinuedBy: "alice"}).As(alice).
		When(addBook).ThenError(ErrSKUTaken)
}

func TestAddProductInput(t *testing.T) {
	with := func(f func(*AddProduct)) AddProduct { c := addBook; f(&c); return c }
	for name, c := range map[string]AddProduct{
		"sku with a space":   with(func(c *AddProduct) { c.SKU = "BK 1" }),
		"empty sku":          with(func(c *AddProduct) { c.SKU = " " }),
		"long sku":           with(func(c *AddProduct) { c.SKU = strings.Repeat("A", 65) }),
		"no title":           with(func(c *AddProduct) { c.Title = "" }),
		"long title":         with(func(c *AddProduct) { c.Title = strings.Repeat("x", MaxTitleLength+1) }),
		"control in title":   with(func(c *AddProduct) { c.Title = "a\x07b" }),
		"bad category":       with(func(c *AddProduct) { c.Category = "sci fi" }),
		"long description":   with(func(c *AddProduct) { c.Description = strings.Repeat("x", MaxDescriptionLength+1) }),
		"zero price":         with(func(c *AddProduct) { c.Price = "0.00" }),
		"negative price":     with(func(c *AddProduct) { c.Price = "-1.00" }),
		"attributes array":   with(func(c *AddProduct) { c.Attributes = json.RawMessage(`[1]`) }),
		"attributes garbage": with(func(c *AddProduct) { c.Attributes = json.RawMessage(`{"a":`) }),
		"nested attribute":   with(func(c *AddProduct) { c.Attributes = json.RawMessage(`{"author":"a","pages":1,"x":{"y":1}}`) }),
		"bad key":            with(func(c *AddProduct) { c.Attributes = json.RawMessage(`{"author":"a","pages":1,"1x":true}`) }),
		"huge attributes": with(func(c *AddProduct) {
			c.Attributes = json.RawMessage(`{"author":"` + strings.Repeat("a", MaxAttributesBytes) + `","pages":1}`)
		}),
		"book without author": with(func(c *AddProduct) { c.Attributes = json.RawMessage(`{"pages":10}`) }),
		"book without pages":  with(func(c *AddProduct) { c.Attributes = json.RawMessage(`{"author":"a"}`) }),
		"zero pages":          with(func(c *AddProduct) { c.Attributes = json.RawMessage(`{"author":"a","pages":0}`) }),
		"fractional pages":    with(func(c *AddProduct) { c.Attributes = json.RawMessage(`{"author":"a","pages":1.5}`) }),
		"pages as text":       with(func(c *AddProduct) { c.Attributes = json.RawMessage(`{"author":"a","pages":"100"}`) }),
		"too many pages":      with(func(c *AddProduct) { c.Attributes = json.RawMessage(`{"author":"a","pages":100001}`) }),
		"isbn check digit": with(func(c *AddProduct) {
			c.Attributes = json.RawMessage(`{"author":"a","pages":1,"isbn":"978-0-441-47812-4"}`)
		}),
		"isbn shape":     with(func(c *AddProduct) { c.Attributes = json.RawMessage(`{"author":"a","pages":1,"isbn":"12345"}`) }),
		"isbn-13 prefix": with(func(c *AddProduct) { c.Attributes = json.RawMessage(`{"author":"a","pages":1,"isbn":"1230441478125"}`) }),
	} {
		t.Run(name, func(t *testing.T) {
			commandtest.Given(t, Type).As(alice).When(c).ThenError(ErrInvalidInput)
		})
	}
	commandtest.Given(t, Type).As(alice).When(with(func(c *AddProduct) { c.Currency = "XXQ" })).ThenError(money.ErrUnknownCurrency)
	commandtest.Given(t, Type).As(alice).When(with(func(c *AddProduct) { c.Price = "1.234" })).ThenError(money.ErrMalformedAmount)
	// Valid ISBN-13 and ISBN-10 forms.
	for _, isbn := range []string{"978-0-441-47812-5", "9780441478125", "0 441 47812 3"} {
		c := with(func(c *AddProduct) { c.Attributes = json.RawMessage(`{"author":"a","pages":1,"isbn":"` + isbn + `"}`) })
		if err := commandtest.Given(t, Type).As(alice).When(c).Err(); err != nil {
			t.Errorf("isbn %q: %v", isbn, err)
		}
	}
}

func TestUpdateProduct(t *testing.T) {
	title := "The Dispossessed (reissue)"
	commandtest.Given(t, Type, added).As(alice).When(UpdateProduct{ID: pid, Title: &title}).
		Then(ProductUpdated{ProductID: pid, Title: title, Description: added.Description, Attributes: added.Attributes, UpdatedBy: "alice"})
	commandtest.Given(t, Type, added).As(alice).
		When(UpdateProduct{ID: pid, Attributes: json.RawMessage(`{"author":"Le Guin","pages":400}`)}).
		Then(ProductUpdated{ProductID: pid, Title: added.Title, Description: added.Description,
			Attributes: json.RawMessage(`{"author":"Le Guin","pages":400}`), UpdatedBy: "alice"})
	// The category's rules hold for new attributes.
	commandtest.Given(t, Type, added).As(alice).
		When(UpdateProduct{ID: pid, Attributes: json.RawMessage(`{"author":"Le Guin"}`)}).ThenError(ErrInvalidInput)
	same := " The Dispossessed "
	commandtest.Given(t, Type, added).As(alice).When(UpdateProduct{ID: pid, Title: &same}).ThenError(ErrInvalidInput)
	commandtest.Given(t, Type).As(alice).When(UpdateProduct{ID: pid, Title: &title}).ThenError(ErrProductNotFound)
	commandtest.Given(t, Type, added).As(eve).When(UpdateProduct{ID: pid, Title: &title}).ThenError(ErrProductNotFound)
}

func TestChangeProductPrice(t *testing.T) {
	commandtest.Given(t, Type, added).As(alice).When(ChangeProductPrice{ID: pid, Price: "1200", Currency: "JPY"}).
		Then(ProductPriceChanged{ProductID: pid, Price: 1200, Currency: "JPY", ChangedBy: "alice"})
	commandtest.Given(t, Type, added).As(alice).When(ChangeProductPrice{ID: pid, Price: "11.00", Currency: "EUR"}).ThenError(ErrInvalidInput)
	commandtest.Given(t, Type, added).As(alice).When(ChangeProductPrice{ID: pid, Price: "0", Currency: "EUR"}).ThenError(ErrInvalidInput)
	commandtest.Given(t, Type, added).As(eve).When(ChangeProductPrice{ID: pid, Price: "1.00", Currency: "EUR"}).ThenError(ErrProductNotFound)
	p := Type.Fold(added, ProductPriceChanged{ProductID: pid, Price: 1200, Currency: "JPY"})
	if p.Price != 1200 || p.Currency.Code != "JPY" {
		t.Errorf("after a price change: %+v", p)
	}
}

func TestDiscontinueProduct(t *testing.T) {
	disc := ProductDiscontinued{ProductID: pid, Reason: "out of print", DiscontinuedBy: "alice"}
	commandtest.Given(t, Type, added).As(alice).When(DiscontinueProduct{ID: pid, Reason: " out of print "}).Then(disc)
	gone := given(added, disc)
	title := "x"
	commandtest.Given(t, Type, gone...).As(alice).When(DiscontinueProduct{ID: pid}).ThenError(ErrInvalidStateTransition)
	commandtest.Given(t, Type, gone...).As(alice).When(UpdateProduct{ID: pid, Title: &title}).ThenError(ErrInvalidStateTransition)
	commandtest.Given(t, Type, gone...).As(alice).When(ChangeProductPrice{ID: pid, Price: "1.00", Currency: "EUR"}).ThenError(ErrInvalidStateTransition)
	commandtest.Given(t, Type, added).As(eve).When(DiscontinueProduct{ID: pid}).ThenError(ErrProductNotFound)
}

func TestProductIDs(t *testing.T) {
	if ProductID(org, "BK-1") == ProductID("globex", "BK-1") || ProductID(org, "BK-1") == ProductID(org, "BK-2") {
		t.Error("product ids collide across organizations or SKUs")
	}
	if ProductID(org, "BK-1") != command.KeyedID("catalog", org, "BK-1") {
		t.Error("ProductID is not the handler's KeyedID")
	}
}
