package payment

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/readcache"
)

// Bucket is the width of one point of an analytics time series.
type Bucket string

// Buckets, and how many of them one analytics request may span.
const (
	BucketHour Bucket = "HOUR"
	BucketDay  Bucket = "DAY"

	// MaxHourBuckets is 31 days of hours.
	MaxHourBuckets = 31 * 24
	// MaxDayBuckets is a leap year of days.
	MaxDayBuckets = 366
)

func (b Bucket) width() time.Duration {
	if b == BucketDay {
		return 24 * time.Hour
	}
	return time.Hour
}

// AnalyticsRequest asks for the analytics of the payments an organization
// initiated in [From, To), with a time series in Bucket steps. From is
// rounded down and To up to whole buckets (UTC).
type AnalyticsRequest struct {
	Organization string
	From, To     time.Time
	Bucket       Bucket
}

// Analytics describe the payments initiated in [From, To) in their current
// state (a payment refunded today counts as refunded in the hour it was
// initiated: cohort analytics, so a chart's past points move as payments
// move). Amounts are minor units of their currency.
type Analytics struct {
	From, To time.Time
	Bucket   Bucket
	Totals
	// Series has one point per bucket from From to To, empty ones included.
	Series []Point
}

// Point is one bucket of the series, starting at Start.
type Point struct {
	Start time.Time
	Totals
}

// Totals are counts per status and sums per currency.
type Totals struct {
	// Counts has a count for each of AllStatuses.
	Counts map[Status]int64
	// Currencies has one entry per currency that has payments, by code.
	Currencies []CurrencyTotals
}

// CurrencyTotals sums the payments in one currency. Processed payments are
// those in PROCESSED, PARTIALLY_REFUNDED or REFUNDED (all were processed);
// refunded ones those in PARTIALLY_REFUNDED or REFUNDED.
type CurrencyTotals struct {
	Currency        string
	Payments        int64
	Amount          int64
	ProcessedCount  int64
	ProcessedAmount int64
	RefundedCount   int64
	RefundedAmount  int64
}

// Average returns total/count rounded half away from zero, and false when
// count is 0.
func Average(total, count int64) (int64, bool) {
	if count == 0 {
		return 0, false
	}
	q, r := total/count, total%count
	if 2*abs(r) >= count {
		if total < 0 {
			q--
		} else {
			q++
		}
	}
	return q, true
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// StatsRow is one row of payment_stats_hourly (JSON: as PostgreSQL's
// to_jsonb renders it, cached per day).
type StatsRow struct {
	Hour     time.Time `json:"hour"`
	Currency string    `json:"currency"`
	Status   Status    `json:"status"`
	Payments int64     `json:"payments"`
	Amount   int64     `json:"amount"`
	Refunded int64     `json:"refunded"`
}

// Normalize checks r and rounds From down and To up to whole buckets.
// Errors: ErrInvalidInput for an unknown bucket, From not before To, or a
// span of more than MaxHourBuckets hours or MaxDayBuckets days.
func (r AnalyticsRequest) Normalize() (AnalyticsRequest, error) {
	if r.Bucket != BucketHour && r.Bucket != BucketDay {
		return r, fmt.Errorf("%w: unknown bucket %q", ErrInvalidInput, r.Bucket)
	}
	if !r.From.Before(r.To) {
		return r, fmt.Errorf("%w: from must be before to", ErrInvalidInput)
	}
	w := r.Bucket.width()
	r.From = r.From.UTC().Truncate(w)
	if to := r.To.UTC().Truncate(w); to.Before(r.To) {
		r.To = to.Add(w)
	} else {
		r.To = to
	}
	limit := MaxHourBuckets
	if r.Bucket == BucketDay {
		limit = MaxDayBuckets
	}
	if n := int(r.To.Sub(r.From) / w); n > limit {
		return r, fmt.Errorf("%w: %d %s buckets requested, at most %d are allowed", ErrInvalidInput, n, r.Bucket, limit)
	}
	return r, nil
}

// Analytics computes the analytics of req from the hourly statistics,
// which it reads per UTC day through the read cache. Errors: those of
// Normalize.
func (m *ReadModel) Analytics(ctx context.Context, req AnalyticsRequest) (Analytics, error) {
	req, err := req.Normalize()
	if err != nil {
		return Analytics{}, err
	}
	const day = 24 * time.Hour
	var keys []string
	days := map[string]time.Time{}
	for d := req.From.Truncate(day); d.Before(req.To); d = d.Add(day) {
		k := StatsDayKey(req.Organization, d)
		keys = append(keys, k)
		days[k] = d
	}
	values, err := readcache.LoadMany(ctx, m.cache, "payment_analytics", ProjectionName, keys,
		func(ctx context.Context, keys []string) (map[string][]byte, eventstore.Checkpoint, error) {
			starts := make([]time.Time, len(keys))
			for i, k := range keys {
				starts[i] = days[k]
			}
			return m.loadStatsDays(ctx, req.Organization, keys, starts)
		})
	if err != nil {
		return Analytics{}, err
	}
	var rows []StatsRow
	for _, k := range keys {
		var dayRows []StatsRow
		if err := json.Unmarshal(values[k], &dayRows); err != nil {
			return Analytics{}, fmt.Errorf("decode cached payment statistics: %w", err)
		}
		rows = append(rows, dayRows...)
	}
	return Aggregate(req, rows), nil
}

// loadStatsDays reads the statistics rows of the UTC days starting at
// starts (keys[i] is the key of starts[i]), as JSON arrays, with the
// projection's checkpoint in the same statement.
func (m *ReadModel) loadStatsDays(ctx context.Context, organization string, keys []string, starts []time.Time) (map[string][]byte, eventstore.Checkpoint, error) {
	rows, err := m.pool.Query(ctx, `SELECT d.i, `+checkpointColumns+`,
			coalesce(jsonb_agg(to_jsonb(s) - 'organization') FILTER (WHERE s.hour IS NOT NULL), '[]')
		FROM `+checkpointJoin+`
		CROSS JOIN unnest($2::timestamptz[]) WITH ORDINALITY AS d(start, i)
		LEFT JOIN payment_stats_hourly s ON s.organization = $1 AND s.hour >= d.start AND s.hour < d.start + interval '24 hours'
		GROUP BY d.i, c.transaction_id, c.position`, organization, starts)
	if err != nil {
		return nil, eventstore.Checkpoint{}, fmt.Errorf("read payment statistics: %w", err)
	}
	defer rows.Close()
	out := make(map[string][]byte, len(keys))
	var cp eventstore.Checkpoint
	for rows.Next() {
		var (
			i    int64
			txid string
			pos  int64
			data []byte
		)
		if err := rows.Scan(&i, &txid, &pos, &data); err != nil {
			return nil, cp, fmt.Errorf("read payment statistics: %w", err)
		}
		if cp, err = scanCheckpoint(txid, pos); err != nil {
			return nil, cp, err
		}
		out[keys[i-1]] = data
	}
	if err := rows.Err(); err != nil {
		return nil, cp, fmt.Errorf("read payment statistics: %w", err)
	}
	return out, cp, nil
}

// Aggregate turns hourly statistics rows into the analytics of req (which
// must be normalized); rows outside [From, To) are ignored. It is exported
// so that tests can compute the same from the stored events.
func Aggregate(req AnalyticsRequest, rows []StatsRow) Analytics {
	w := req.Bucket.width()
	n := int(req.To.Sub(req.From) / w)
	a := Analytics{From: req.From, To: req.To, Bucket: req.Bucket, Totals: newTotals(), Series: make([]Point, n)}
	for i := range a.Series {
		a.Series[i] = Point{Start: req.From.Add(time.Duration(i) * w), Totals: newTotals()}
	}
	for _, r := range rows {
		h := r.Hour.UTC()
		if h.Before(req.From) || !h.Before(req.To) || r.Payments == 0 {
			continue
		}
		a.Totals.add(r)
		a.Series[int(h.Sub(req.From)/w)].Totals.add(r)
	}
	return a
}

func newTotals() Totals {
	t := Totals{Counts: make(map[Status]int64, len(AllStatuses))}
	for _, s := range AllStatuses {
		t.Counts[s] = 0
	}
	return t
}

func (t *Totals) add(r StatsRow) {
	t.Counts[r.Status] += r.Payments
	i, found := slices.BinarySearchFunc(t.Currencies, r.Currency, func(c CurrencyTotals, code string) int {
		return cmp.Compare(c.Currency, code)
	})
	if !found {
		t.Currencies = slices.Insert(t.Currencies, i, CurrencyTotals{Currency: r.Currency})
	}
	c := &t.Currencies[i]
	c.Payments += r.Payments
	c.Amount += r.Amount
	if r.Status.Processed() {
		c.ProcessedCount += r.Payments
		c.ProcessedAmount += r.Amount
	}
	if r.Status == StatusPartiallyRefunded || r.Status == StatusRefunded {
		c.RefundedCount += r.Payments
	}
	c.RefundedAmount += r.Refunded
}
