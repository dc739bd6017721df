package graph

import (
	"context"
	"time"

	"github.com/chronicle-es/chronicle/graph/model"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/payment"
	"github.com/google/uuid"
)

// The payments context's resolver part: conversions of its read models and
// results into GraphQL types, and its subscriptions.

func paymentPayloadOf(res payment.Result) *model.PaymentPayload {
	p := &model.PaymentPayload{
		PaymentID: res.ID.String(),
		Position:  res.Position,
		Version:   int(res.Version),
		UpToDate:  res.UpToDate,
		Duplicate: res.Duplicate,
	}
	if res.View != nil {
		p.Payment = paymentOf(*res.View)
	}
	return p
}

func paymentOf(v payment.View) *model.Payment {
	return &model.Payment{
		ID:            v.ID.String(),
		CustomerName:  v.CustomerName,
		CustomerEmail: v.CustomerEmail,
		Amount:        moneyOf(v.Amount, v.Currency),
		Refunded:      moneyOf(v.Refunded, v.Currency),
		Refundable:    moneyOf(v.Refundable(), v.Currency),
		Status:        model.PaymentStatus(v.Status),
		FailureReason: v.FailureReason,
		InitiatedBy:   v.InitiatedBy,
		ProcessedBy:   v.ProcessedBy,
		FailedBy:      v.FailedBy,
		RefundedBy:    v.RefundedBy,
		InitiatedAt:   v.InitiatedAt,
		ProcessedAt:   v.ProcessedAt,
		FailedAt:      v.FailedAt,
		RefundedAt:    v.RefundedAt,
		UpdatedAt:     v.UpdatedAt,
		Version:       int(v.Version),
		OrderID:       uuidString(v.OrderID),
	}
}

// uuidString is an optional reference as GraphQL shows it.
func uuidString(id *uuid.UUID) *string {
	if id == nil {
		return nil
	}
	s := id.String()
	return &s
}

func analyticsOf(a payment.Analytics) *model.PaymentAnalytics {
	out := &model.PaymentAnalytics{
		From:   a.From,
		To:     a.To,
		Bucket: model.AnalyticsBucket(a.Bucket),
		Totals: totalsOf(a.Totals),
		Series: make([]*model.AnalyticsPoint, len(a.Series)),
	}
	for i, p := range a.Series {
		out.Series[i] = &model.AnalyticsPoint{Start: p.Start, Totals: totalsOf(p.Totals)}
	}
	return out
}

func totalsOf(t payment.Totals) *model.PaymentTotals {
	out := &model.PaymentTotals{
		ByStatus:   make([]*model.StatusCount, len(payment.AllStatuses)),
		ByCurrency: make([]*model.CurrencyTotals, len(t.Currencies)),
	}
	for i, s := range payment.AllStatuses {
		out.ByStatus[i] = &model.StatusCount{Status: model.PaymentStatus(s), Count: int(t.Counts[s])}
		out.Payments += int(t.Counts[s])
	}
	for i, c := range t.Currencies {
		out.ByCurrency[i] = &model.CurrencyTotals{
			Currency:         c.Currency,
			Payments:         int(c.Payments),
			ProcessedCount:   int(c.ProcessedCount),
			ProcessedTotal:   moneyOf(c.ProcessedAmount, c.Currency),
			ProcessedAverage: averageOf(c.ProcessedAmount, c.ProcessedCount, c.Currency),
			RefundedCount:    int(c.RefundedCount),
			RefundedTotal:    moneyOf(c.RefundedAmount, c.Currency),
			RefundedAverage:  averageOf(c.RefundedAmount, c.RefundedCount, c.Currency),
		}
	}
	return out
}

func averageOf(total, count int64, currency string) *model.Money {
	avg, ok := payment.Average(total, count)
	if !ok {
		return nil
	}
	return moneyOf(avg, currency)
}

// analyticsRequest builds the caller's analytics request.
func analyticsRequest(ctx context.Context, from, to time.Time, bucket model.AnalyticsBucket) (payment.AnalyticsRequest, error) {
	org, err := organization(ctx)
	if err != nil {
		return payment.AnalyticsRequest{}, err
	}
	return payment.AnalyticsRequest{Organization: org, From: from, To: to, Bucket: payment.Bucket(bucket)}.Normalize()
}

// followPayment serves the paymentUpdated subscription.
func (r *Resolver) followPayment(ctx context.Context, rawID string) (<-chan *model.Payment, error) {
	id, err := payment.ParseID(rawID)
	if err != nil {
		return nil, err
	}
	return subscribe(ctx, r, "paymentUpdated", func(ctx context.Context, org string) (live.Feed[payment.View], error) {
		return r.payment.Reads.PaymentFeed(ctx, org, id)
	}, paymentOf)
}

// followAnalytics serves the paymentAnalyticsUpdated subscription.
func (r *Resolver) followAnalytics(ctx context.Context, from, to time.Time, bucket model.AnalyticsBucket) (<-chan *model.PaymentAnalytics, error) {
	return subscribe(ctx, r, "paymentAnalyticsUpdated", func(ctx context.Context, org string) (live.Feed[payment.Analytics], error) {
		return r.payment.Reads.AnalyticsFeed(ctx, payment.AnalyticsRequest{Organization: org, From: from, To: to, Bucket: payment.Bucket(bucket)})
	}, analyticsOf)
}
