package payment

import (
	"context"
	"reflect"
	"strconv"
	"time"

	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/google/uuid"
)

// PaymentFeed is the live feed of organization's payment id: the projected
// payment at once, then each time its version grows. Errors:
// ErrPaymentNotFound when it is not in the read model of organization
// (yet); read errors.
func (m *ReadModel) PaymentFeed(ctx context.Context, organization string, id uuid.UUID) (live.Feed[View], error) {
	return live.EntityFeed(ctx, m.hub, ProjectionName, "payment", organization, id, 0,
		func(ctx context.Context) (View, error) { return m.Get(ctx, organization, id) },
		func(v View) int64 { return v.Version }, ErrPaymentNotFound)
}

// AnalyticsFeed is the live feed of the analytics of req: at once, then
// again after each projected change in req.Organization that changes them.
// Subscribers of the same request share one read. Errors: those of
// AnalyticsRequest.Normalize (BAD_USER_INPUT).
func (m *ReadModel) AnalyticsFeed(ctx context.Context, req AnalyticsRequest) (live.Feed[Analytics], error) {
	req, err := req.Normalize()
	if err != nil {
		return live.Feed[Analytics]{}, err
	}
	return live.Watch(ctx, m.hub, ProjectionName, []string{OrganizationKey(req.Organization)}, nil,
		func(ctx context.Context, sub *live.Subscription, emit func(Analytics) bool) error {
			return m.followAnalytics(ctx, sub, req, emit)
		})
}

func (m *ReadModel) followAnalytics(ctx context.Context, sub *live.Subscription, req AnalyticsRequest, emit func(Analytics) bool) error {
	var (
		last *Analytics
		key  = "analytics:" + strconv.Quote(req.Organization) + ":" + req.From.Format(time.RFC3339) + ":" +
			req.To.Format(time.RFC3339) + ":" + string(req.Bucket)
	)
	return live.Follow(ctx, sub, func(ctx context.Context) error {
		a, err := live.Load(ctx, sub, key, func(ctx context.Context) (Analytics, error) {
			return m.Analytics(ctx, req)
		})
		if err != nil {
			return err
		}
		if last != nil && reflect.DeepEqual(*last, a) {
			return nil
		}
		last = &a
		if !emit(a) {
			return live.ErrStopFollowing
		}
		return nil
	})
}
