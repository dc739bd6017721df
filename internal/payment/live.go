package payment

import (
	"context"
	"reflect"
	"strconv"
	"time"

	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/google/uuid"
)

// FollowPayment calls emit with the payment each time its version grows
// (the current state first), until ctx ends, emit returns false or a read
// fails. sub must be a Subscription to (ProjectionName, id) taken before the
// call. A payment not projected yet, or of another organization, is waited
// for silently (the resolver has checked it exists).
func (m *ReadModel) FollowPayment(ctx context.Context, sub *live.Subscription, organization string, id uuid.UUID, emit func(View) bool) error {
	key := "payment:" + strconv.Quote(organization) + ":" + id.String()
	return live.FollowVersions(ctx, sub, key, 0,
		func(ctx context.Context) (View, error) { return m.Get(ctx, organization, id) },
		func(v View) int64 { return v.Version }, ErrPaymentNotFound, emit)
}

// FollowAnalytics calls emit with the analytics of req (normalized) at once,
// then again after each projected change in req.Organization that changes
// them, until ctx ends, emit returns false or a read fails. sub must be a
// Subscription to (ProjectionName, OrganizationKey(req.Organization)) taken
// before the call. Subscribers of the same request share one read.
func (m *ReadModel) FollowAnalytics(ctx context.Context, sub *live.Subscription, req AnalyticsRequest, emit func(Analytics) bool) error {
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
