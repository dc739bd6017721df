package graph

import (
	"context"
	"encoding/json"
	"time"

	"github.com/chronicle-es/chronicle/graph/model"
	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/chronicle-es/chronicle/internal/catalog"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/stock"
	"github.com/google/uuid"
)

// The catalog and stock contexts' resolver part: conversions of their read
// models and results into GraphQL types, their mutations, queries and
// subscriptions.

func productOf(v catalog.View) *model.Product {
	return &model.Product{
		ID:          v.ID.String(),
		Sku:         v.SKU,
		Title:       v.Title,
		Category:    v.Category,
		Description: v.Description,
		Price:       moneyOf(v.Price, v.Currency),
		Attributes:  model.JSON(v.Attributes),
		Status:      model.ProductStatus(v.Status),
		Version:     int(v.Version),
		AddedAt:     v.AddedAt,
		UpdatedAt:   v.UpdatedAt,
		Stock: stockOf(stock.View{ProductID: v.ID, OnHand: v.Stock.OnHand, Reserved: v.Stock.Reserved,
			Version: v.Stock.Version, UpdatedAt: v.Stock.UpdatedAt}),
	}
}

func productPayloadOf(res catalog.Result) *model.ProductPayload {
	p := &model.ProductPayload{
		ProductID: res.ID.String(),
		Position:  res.Position,
		Version:   int(res.Version),
		UpToDate:  res.UpToDate,
		Duplicate: res.Duplicate,
	}
	if res.View != nil {
		p.Product = productOf(*res.View)
	}
	return p
}

func stockOf(v stock.View) *model.Stock {
	s := &model.Stock{
		ProductID: v.ProductID.String(),
		OnHand:    int(v.OnHand),
		Reserved:  int(v.Reserved),
		Available: int(v.Available()),
		Version:   int(v.Version),
	}
	if !v.UpdatedAt.IsZero() {
		s.UpdatedAt = &v.UpdatedAt
	}
	return s
}

// stockPayload returns the payload maker of a stock command on productID
// (the result's ID is the stock stream's, not the product's).
func stockPayload(productID string) func(stock.Result) *model.StockPayload {
	return func(res stock.Result) *model.StockPayload {
		p := &model.StockPayload{
			ProductID: productID,
			Position:  res.Position,
			Version:   int(res.Version),
			UpToDate:  res.UpToDate,
			Duplicate: res.Duplicate,
		}
		if res.View != nil {
			p.ProductID = res.View.ProductID.String()
			p.Stock = stockOf(*res.View)
		}
		return p
	}
}

// rawJSON is a JSON input as the domain takes it: nil when absent.
func rawJSON(j model.JSON) json.RawMessage {
	if j == nil {
		return nil
	}
	return json.RawMessage(j)
}

func (r *Resolver) addProduct(ctx context.Context, in model.AddProductInput) (*model.ProductPayload, error) {
	return handle(ctx, r.catalog.Commands, catalog.AddProduct{
		SKU: in.Sku, Title: in.Title, Category: in.Category, Description: deref(in.Description),
		Price: in.Price, Currency: in.Currency, Attributes: rawJSON(in.Attributes),
	}, nil, in.IdempotencyKey, productPayloadOf)
}

func (r *Resolver) updateProduct(ctx context.Context, in model.UpdateProductInput) (*model.ProductPayload, error) {
	return handle(ctx, r.catalog.Commands, catalog.UpdateProduct{
		ID: in.ID, Title: in.Title, Description: in.Description, Attributes: rawJSON(in.Attributes),
	}, in.ExpectedVersion, in.IdempotencyKey, productPayloadOf)
}

func (r *Resolver) restockProduct(ctx context.Context, in model.RestockProductInput) (*model.StockPayload, error) {
	return handle(ctx, r.stock.Commands, stock.RestockProduct{ProductID: in.ID, Quantity: int64(in.Quantity)},
		in.ExpectedVersion, in.IdempotencyKey, stockPayload(in.ID))
}

func (r *Resolver) products(ctx context.Context, f catalog.ListFilter) (*model.ProductConnection, error) {
	org, err := organization(ctx)
	if err != nil {
		return nil, err
	}
	f.Organization = org
	p, err := r.catalog.Reads.List(ctx, f)
	if err != nil {
		return nil, err
	}
	after := f.After
	return &model.ProductConnection{
		Edges: edgesOf(p, func(c string, v catalog.View) *model.ProductEdge {
			return &model.ProductEdge{Cursor: c, Node: productOf(v)}
		}),
		PageInfo: pageInfoOf(p, &after),
	}, nil
}

func (r *Resolver) categories(ctx context.Context) ([]*model.Category, error) {
	org, err := organization(ctx)
	if err != nil {
		return nil, err
	}
	cs, err := r.catalog.Reads.Categories(ctx, org)
	if err != nil {
		return nil, err
	}
	out := make([]*model.Category, len(cs))
	for i, c := range cs {
		out[i] = &model.Category{Name: c.Name, ProductCount: c.Products}
	}
	return out, nil
}

// followAdded serves the productAdded subscription.
func (r *Resolver) followAdded(ctx context.Context, category *string) (<-chan *model.Product, error) {
	return subscribe(ctx, r, "productAdded", func(ctx context.Context, org string) (live.Feed[catalog.View], error) {
		return r.catalog.Reads.AddedFeed(ctx, org, deref(category))
	}, productOf)
}

// followProduct serves the productUpdated subscription.
func (r *Resolver) followProduct(ctx context.Context, rawID string) (<-chan *model.Product, error) {
	id, err := catalog.ParseID(rawID)
	if err != nil {
		return nil, err
	}
	return subscribe(ctx, r, "productUpdated", func(ctx context.Context, org string) (live.Feed[catalog.View], error) {
		return r.catalog.Reads.ProductFeed(ctx, org, id)
	}, productOf)
}

// followStock serves the stockChanged subscription.
func (r *Resolver) followStock(ctx context.Context, rawProductID string) (<-chan *model.Stock, error) {
	id, err := stock.ParseProductID(rawProductID)
	if err != nil {
		return nil, err
	}
	return subscribe(ctx, r, "stockChanged", func(ctx context.Context, org string) (live.Feed[stock.View], error) {
		return r.stock.Reads.StockFeed(ctx, org, id)
	}, stockOf)
}

// productAt answers product(id, asOf, atVersion): the product folded up to
// the point, with its stock as it stood at the same moment, asOf or the
// time of the product's event at atVersion (the stock is a stream of its
// own, so the product's version does not reach into it).
func (r *Resolver) productAt(ctx context.Context, org string, id uuid.UUID, asOf *time.Time, atVersion *int64) (catalog.View, error) {
	v, err := r.catalog.At(ctx, org, id, asOf, atVersion)
	if err != nil {
		return catalog.View{}, err
	}
	at := v.UpdatedAt
	if asOf != nil {
		at = *asOf
	}
	s, err := r.stock.At(ctx, org, id, at)
	if err != nil {
		return catalog.View{}, err
	}
	v.Stock = catalog.Stock{OnHand: s.OnHand, Reserved: s.Reserved, Version: s.Version, UpdatedAt: s.UpdatedAt}
	return v, nil
}

// stockStream parses a product id (BAD_USER_INPUT when malformed) into the
// id of the caller's stock stream of that product.
func stockStream(ctx context.Context) func(string) (uuid.UUID, error) {
	org := caller.From(ctx).Organization
	return func(raw string) (uuid.UUID, error) {
		id, err := stock.ParseProductID(raw)
		if err != nil {
			return uuid.Nil, err
		}
		return stock.StreamID(org, id), nil
	}
}

func derefOrder(o *model.ProductOrder) string {
	if o == nil {
		return ""
	}
	return string(*o)
}
