package graph

import (
	"context"
	"time"

	"github.com/chronicle-es/chronicle/graph/model"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/payment"
)

// Analytics windows: either absolute (from and to) or relative to now
// (last). A relative window lets a dashboard, or a README example, ask for
// "the last 24 hours" whenever it runs; its subscription moves the window
// forward as the clock passes bucket boundaries.

// analyticsWindow builds the caller's analytics request from the arguments
// of paymentAnalytics(from, to, last, bucket) as of now: [from, to), or
// [now-last, now] when last is given. Either last or both from and to must
// be given (BAD_USER_INPUT otherwise); the request is normalized (whole
// buckets, within the bucket limit).
func analyticsWindow(ctx context.Context, from, to *time.Time, last *time.Duration, bucket model.AnalyticsBucket, now time.Time) (payment.AnalyticsRequest, error) {
	switch {
	case last != nil && (from != nil || to != nil):
		return payment.AnalyticsRequest{}, apperr.New(apperr.BadUserInput, "give either last or from and to, not both")
	case last != nil:
		return analyticsRequest(ctx, now.Add(-*last), now, bucket)
	case from == nil || to == nil:
		return payment.AnalyticsRequest{}, apperr.New(apperr.BadUserInput,
			`give both from and to, or last (a window relative to now, e.g. last: "24h")`)
	}
	return analyticsRequest(ctx, *from, *to, bucket)
}

// followAnalyticsWindow serves paymentAnalyticsUpdated. An absolute window
// is followed as it is; a relative one is followed until the next bucket
// boundary, then recomputed as of then and followed again (live.Renewed),
// which pushes the moved window's analytics, until the client goes.
func (r *Resolver) followAnalyticsWindow(ctx context.Context, from, to *time.Time, last *time.Duration, bucket model.AnalyticsBucket) (<-chan *model.PaymentAnalytics, error) {
	if _, err := analyticsWindow(ctx, from, to, last, bucket, time.Now()); err != nil {
		return nil, err
	}
	if last == nil {
		return r.followAnalytics(ctx, *from, *to, bucket)
	}
	width := bucketWidth(payment.Bucket(bucket))
	open := func(ctx context.Context) (live.Feed[payment.Analytics], error) {
		req, err := analyticsWindow(ctx, nil, nil, last, bucket, time.Now())
		if err != nil {
			return live.Feed[payment.Analytics]{}, err
		}
		return r.payment.Reads.AnalyticsFeed(ctx, req)
	}
	return subscribe(ctx, r, "paymentAnalyticsUpdated", func(ctx context.Context, _ string) (live.Feed[payment.Analytics], error) {
		first, err := open(ctx)
		if err != nil {
			return first, err
		}
		// The window moves when now reaches the end of its last bucket.
		return live.Renewed(first, func() time.Time { return time.Now().Truncate(width).Add(width) }, open), nil
	}, analyticsOf)
}

// bucketWidth is the length of one bucket.
func bucketWidth(b payment.Bucket) time.Duration {
	if b == payment.BucketDay {
		return 24 * time.Hour
	}
	return time.Hour
}
