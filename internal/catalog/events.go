package catalog

import (
	"encoding/json"

	"github.com/chronicle-es/chronicle/internal/aggregate"
)

// Stored event type names: part of the stored contract, never change them.
const (
	EventProductAdded        = "ProductAdded"
	EventProductUpdated      = "ProductUpdated"
	EventProductPriceChanged = "ProductPriceChanged"
	EventProductDiscontinued = "ProductDiscontinued"
)

// ProductAdded records a new product. Stored as {"productId",
// "organization","sku","title","category","description","price",
// "currency","attributes","addedBy"}; Price is a positive count of minor
// units of Currency, Attributes a JSON object.
type ProductAdded struct {
	ProductID    string          `json:"productId"`
	Organization string          `json:"organization"`
	SKU          string          `json:"sku"`
	Title        string          `json:"title"`
	Category     string          `json:"category"`
	Description  string          `json:"description"`
	Price        int64           `json:"price"`
	Currency     string          `json:"currency"`
	Attributes   json.RawMessage `json:"attributes"`
	AddedBy      string          `json:"addedBy"`
}

// EventType returns "ProductAdded".
func (ProductAdded) EventType() string { return EventProductAdded }

// ProductUpdated records the product's new title, description and
// attributes (all three, changed or not). Stored as {"productId","title",
// "description","attributes","updatedBy"}.
type ProductUpdated struct {
	ProductID   string          `json:"productId"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Attributes  json.RawMessage `json:"attributes"`
	UpdatedBy   string          `json:"updatedBy"`
}

// EventType returns "ProductUpdated".
func (ProductUpdated) EventType() string { return EventProductUpdated }

// ProductPriceChanged records a new price. Stored as {"productId","price",
// "currency","changedBy"}.
type ProductPriceChanged struct {
	ProductID string `json:"productId"`
	Price     int64  `json:"price"`
	Currency  string `json:"currency"`
	ChangedBy string `json:"changedBy"`
}

// EventType returns "ProductPriceChanged".
func (ProductPriceChanged) EventType() string { return EventProductPriceChanged }

// ProductDiscontinued records that the product is no longer sold. Stored as
// {"productId","reason","discontinuedBy"}.
type ProductDiscontinued struct {
	ProductID      string `json:"productId"`
	Reason         string `json:"reason"`
	DiscontinuedBy string `json:"discontinuedBy"`
}

// EventType returns "ProductDiscontinued".
func (ProductDiscontinued) EventType() string { return EventProductDiscontinued }

// events declares the catalog events and their current schema versions.
var events = func() *aggregate.Events {
	r := aggregate.NewEvents("catalog")
	aggregate.Register[ProductAdded](r, 1)
	aggregate.Register[ProductUpdated](r, 1)
	aggregate.Register[ProductPriceChanged](r, 1)
	aggregate.Register[ProductDiscontinued](r, 1)
	return r
}()
