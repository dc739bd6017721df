// Package catalog is the product catalog bounded context: the products an
// organization sells, each with a SKU unique within the organization, a
// title, a category, a price, a description and the category's attributes
// (for books: author, pages, isbn), and the read model that lists,
// filters and searches them.
//
// A product's stream id is derived from its organization and SKU
// (command.Keyed: KeyedID("catalog", organization, SKU)), so adding a
// product whose SKU is taken runs against the existing product's stream:
// the event store's stream lock and expected-version check make exactly
// one of any number of concurrent adds win, and the others are decided
// again on the winner's state and fail with ErrSKUTaken (SKU_TAKEN). See
// docs/architecture.md, "SKU uniqueness".
//
// Lifecycle: ACTIVE --discontinue--> DISCONTINUED; a discontinued product
// takes no more changes (INVALID_STATE_TRANSITION).
package catalog

import (
	"encoding/json"

	"github.com/google/uuid"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/money"
)

// Codes of the catalog's domain errors.
const (
	CodeSKUTaken               apperr.Code = "SKU_TAKEN"
	CodeInvalidStateTransition             = apperr.InvalidStateTransition
)

// Domain errors, wrapped with a precise message; match with errors.Is.
// Malformed prices and currencies are money.ErrMalformedAmount and
// money.ErrUnknownCurrency (BAD_USER_INPUT).
var (
	// ErrInvalidInput (BAD_USER_INPUT): a malformed id, SKU, title,
	// category, description or attributes, a price that is not positive, an
	// update that changes nothing.
	ErrInvalidInput = apperr.New(apperr.BadUserInput, "invalid input")
	// ErrProductNotFound (NOT_FOUND): no such product in the caller's
	// organization.
	ErrProductNotFound = apperr.New(apperr.NotFound, "product not found")
	// ErrSKUTaken (SKU_TAKEN): the organization has a product with this SKU
	// (discontinued ones included).
	ErrSKUTaken = apperr.New(CodeSKUTaken, "SKU already taken")
	// ErrInvalidStateTransition (INVALID_STATE_TRANSITION): a change to a
	// discontinued product.
	ErrInvalidStateTransition = apperr.New(CodeInvalidStateTransition, "invalid state transition")
)

// Status is where a product is in its lifecycle.
type Status string

// Product statuses.
const (
	StatusActive       Status = "ACTIVE"
	StatusDiscontinued Status = "DISCONTINUED"
)

// Product is the state of one product stream. The zero value (Status "")
// is a product that does not exist yet. Price is in minor units of
// Currency; Attributes is the canonical JSON object (keys sorted).
type Product struct {
	ID           string
	Organization string
	SKU          string
	Title        string
	Category     string
	Description  string
	Price        int64
	Currency     money.Currency
	Attributes   json.RawMessage
	Status       Status
}

// Type describes the "product" aggregate to the repository.
var Type = aggregate.Type[Product]{
	StreamType: "product",
	Initial:    func() Product { return Product{} },
	Evolve:     Evolve,
	Events:     events,
}

// Evolve folds one event into the state. It never fails and re-checks
// nothing: events are facts.
func Evolve(p Product, event aggregate.Event) Product {
	switch e := event.(type) {
	case ProductAdded:
		p = Product{
			ID: e.ProductID, Organization: e.Organization, SKU: e.SKU, Title: e.Title, Category: e.Category,
			Description: e.Description, Price: e.Price, Currency: money.StoredCurrency(e.Currency),
			Attributes: e.Attributes, Status: StatusActive,
		}
	case ProductUpdated:
		p.Title, p.Description, p.Attributes = e.Title, e.Description, e.Attributes
	case ProductPriceChanged:
		p.Price, p.Currency = e.Price, money.StoredCurrency(e.Currency)
	case ProductDiscontinued:
		p.Status = StatusDiscontinued
	}
	return p
}

// ParseID validates a product id (a UUID, not the nil one).
// Errors: ErrInvalidInput.
func ParseID(s string) (uuid.UUID, error) {
	return command.ParseUUID(s, "product", ErrInvalidInput)
}

// ProductID is the id of organization's product with SKU sku (in its
// canonical form, see NormalizeSKU).
func ProductID(organization, sku string) uuid.UUID {
	return command.KeyedID(contextName, organization, sku)
}

// contextName names the catalog context (its module, its metrics, and the
// derivation of its product ids).
const contextName = "catalog"
