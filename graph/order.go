package graph

import (
	"context"

	"github.com/chronicle-es/chronicle/graph/model"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/order"
)

// The orders context's resolver part: conversions of its read model and
// results into GraphQL types, its mutations, queries and subscription.

func orderOf(v order.View) *model.Order {
	o := &model.Order{
		ID:            v.ID.String(),
		CustomerName:  v.CustomerName,
		CustomerEmail: v.CustomerEmail,
		Lines:         make([]*model.OrderLine, len(v.Lines)),
		Total:         moneyOf(v.Total, v.Currency.Code),
		Status:        model.OrderStatus(v.Status),
		Version:       int(v.Version),
		PlacedAt:      v.PlacedAt,
		UpdatedAt:     v.UpdatedAt,
	}
	for i, l := range v.Lines {
		o.Lines[i] = &model.OrderLine{
			ProductID: l.ProductID, Quantity: int(l.Quantity),
			UnitPrice: moneyOf(l.UnitPrice, v.Currency.Code), Amount: moneyOf(l.UnitPrice*l.Quantity, v.Currency.Code),
		}
	}
	if v.Reason != "" {
		r := model.OrderReason(v.Reason)
		o.Reason = &r
	}
	if v.PaymentID != "" {
		o.PaymentID = &v.PaymentID
	}
	return o
}

func orderPayloadOf(res order.Result) *model.OrderPayload {
	p := &model.OrderPayload{
		OrderID:   res.ID.String(),
		Position:  res.Position,
		Version:   int(res.Version),
		UpToDate:  res.UpToDate,
		Duplicate: res.Duplicate,
	}
	if res.View != nil {
		p.Order = orderOf(*res.View)
	}
	return p
}

func (r *Resolver) placeOrder(ctx context.Context, in model.PlaceOrderInput) (*model.OrderPayload, error) {
	cmd := order.PlaceOrder{CustomerName: in.CustomerName, CustomerEmail: in.CustomerEmail, Lines: make([]order.LineInput, len(in.Lines))}
	for i, l := range in.Lines {
		cmd.Lines[i] = order.LineInput{ProductID: l.ProductID, Quantity: int64(l.Quantity)}
	}
	res, err := r.order.Place(ctx, cmd, commandOptions(ctx, nil, in.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	return orderPayloadOf(res), nil
}

func (r *Resolver) cancelOrder(ctx context.Context, in model.CancelOrderInput) (*model.OrderPayload, error) {
	return handle(ctx, r.order.Commands, order.CancelOrder{ID: in.ID, Reason: order.ReasonCustomer, Note: deref(in.Reason)},
		in.ExpectedVersion, in.IdempotencyKey, orderPayloadOf)
}

func (r *Resolver) shipOrder(ctx context.Context, in model.ShipOrderInput) (*model.OrderPayload, error) {
	return handle(ctx, r.order.Commands, order.ShipOrder{ID: in.ID}, in.ExpectedVersion, in.IdempotencyKey, orderPayloadOf)
}

func (r *Resolver) orders(ctx context.Context, status *model.OrderStatus, first *int, after *string) (*model.OrderConnection, error) {
	org, err := organization(ctx)
	if err != nil {
		return nil, err
	}
	var st *order.Status
	if status != nil {
		s := order.Status(*status)
		st = &s
	}
	p, err := r.order.Reads.List(ctx, org, st, first, deref(after))
	if err != nil {
		return nil, err
	}
	return &model.OrderConnection{
		Edges: edgesOf(p, func(c string, v order.View) *model.OrderEdge {
			return &model.OrderEdge{Cursor: c, Node: orderOf(v)}
		}),
		PageInfo: pageInfoOf(p, after),
	}, nil
}

// followOrder serves the orderUpdated subscription.
func (r *Resolver) followOrder(ctx context.Context, rawID string) (<-chan *model.Order, error) {
	id, err := order.ParseID(rawID)
	if err != nil {
		return nil, err
	}
	return subscribe(ctx, r, "orderUpdated", func(ctx context.Context, org string) (live.Feed[order.View], error) {
		return r.order.Reads.OrderFeed(ctx, org, id, 0)
	}, orderOf)
}
