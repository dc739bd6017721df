package metrics

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// gathered is one collection, by metric name and then by projection label
// ("" for unlabelled metrics).
type gathered map[string]map[string]float64

// gather collects c once through a pedantic registry, which also checks
// that what Collect sends matches Describe.
func gather(t *testing.T, c prometheus.Collector) gathered {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := gathered{}
	for _, f := range families {
		out[f.GetName()] = map[string]float64{}
		for _, m := range f.GetMetric() {
			label := ""
			for _, l := range m.GetLabel() {
				label = l.GetValue()
			}
			out[f.GetName()][label] = value(m)
		}
	}
	return out
}

func value(m *dto.Metric) float64 {
	if m.Gauge != nil {
		return m.Gauge.GetValue()
	}
	return m.Counter.GetValue()
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestDatabaseCollector checks each database metric against checkpoints
// set by hand around five appended events.
func TestDatabaseCollector(t *testing.T) {
	t.Parallel()
	pool, url := pgtest.NewPool(t)
	ctx := testCtx(t)
	c := NewDatabaseCollector(pool, 5*time.Second, slog.New(slog.DiscardHandler))

	g := gather(t, c)
	if g["chronicle_event_store_head_position"][""] != 0 {
		t.Errorf("head of an empty store = %v, want 0", g["chronicle_event_store_head_position"][""])
	}
	if len(g["chronicle_projection_lag_positions"]) != 0 {
		t.Errorf("lag without checkpoints: %v", g["chronicle_projection_lag_positions"])
	}
	if _, ok := g["chronicle_metrics_scrape_errors_total"][""]; !ok {
		t.Error("no chronicle_metrics_scrape_errors_total")
	}

	store := eventstore.New(pool)
	var appended []eventstore.AppendResult
	for i := range 5 {
		res, err := store.Append(ctx, eventstore.AppendRequest{
			StreamID: uuid.New(), StreamType: "test", ExpectedVersion: eventstore.NoStream,
			Events: []eventstore.EventData{{Type: "T", Data: json.RawMessage(`{"i":` + strconv.Itoa(i) + `}`)}},
		})
		if err != nil {
			t.Fatal(err)
		}
		appended = append(appended, res)
	}
	last := appended[4]
	setCheckpoint := func(name string, cp eventstore.Checkpoint) {
		t.Helper()
		_, err := pool.Exec(ctx, `INSERT INTO projection_checkpoints (name, transaction_id, position) VALUES ($1, $2::text::xid8, $3)
			ON CONFLICT (name) DO UPDATE SET transaction_id = EXCLUDED.transaction_id, position = EXCLUDED.position`,
			name, strconv.FormatUint(cp.TransactionID, 10), cp.Position)
		if err != nil {
			t.Fatal(err)
		}
	}
	setCheckpoint("caught", last.Checkpoint())
	setCheckpoint("behind", appended[2].Checkpoint())
	setCheckpoint("zero", eventstore.Checkpoint{})
	time.Sleep(20 * time.Millisecond) // the events get a measurable age

	g = gather(t, c)
	if got := g["chronicle_event_store_head_position"][""]; got != float64(last.LastPosition) {
		t.Errorf("head = %v, want %d", got, last.LastPosition)
	}
	for name, want := range map[string]struct {
		checkpoint int64
		lag        float64
	}{
		"caught": {last.LastPosition, 0},
		"behind": {appended[2].LastPosition, 2},
		"zero":   {0, 5},
	} {
		if got := g["chronicle_projection_checkpoint_position"][name]; got != float64(want.checkpoint) {
			t.Errorf("checkpoint position of %s = %v, want %d", name, got, want.checkpoint)
		}
		if got := g["chronicle_projection_lag_positions"][name]; got != want.lag {
			t.Errorf("lag positions of %s = %v, want %v", name, got, want.lag)
		}
		age := g["chronicle_projection_lag_seconds"][name]
		if want.lag == 0 && age != 0 || want.lag > 0 && (age < 0.02 || age > 30) {
			t.Errorf("lag seconds of %s = %v, want 0 when caught up, else the age of its next event", name, age)
		}
	}

	// Past the counting limit the lag is estimated from positions.
	c.lagLimit = 3
	g = gather(t, c)
	if got := g["chronicle_projection_lag_positions"]["zero"]; got != float64(last.LastPosition) {
		t.Errorf("estimated lag of zero = %v, want head - 0 = %d", got, last.LastPosition)
	}
	if got := g["chronicle_projection_lag_positions"]["behind"]; got != 2 {
		t.Errorf("lag of behind under the limit = %v, want 2", got)
	}
	c.lagLimit = lagCountLimit

	// A transaction holding an id, open in another connection, ages the horizon.
	release := pgtest.HoldTransactionID(t, url)
	time.Sleep(300 * time.Millisecond)
	g = gather(t, c)
	release()
	if got := g["chronicle_transaction_horizon_age_seconds"][""]; got < 0.3 {
		t.Errorf("horizon age with a transaction open for 0.3 s = %v", got)
	}
	if got := g["chronicle_metrics_scrape_errors_total"][""]; got != 0 {
		t.Errorf("scrape errors = %v, want 0", got)
	}
}

// TestDatabaseCollectorScrapeError: when the queries fail, the database
// metrics are left out and the error counter goes up.
func TestDatabaseCollectorScrapeError(t *testing.T) {
	t.Parallel()
	pool, err := pgxpool.New(context.Background(), pgtest.ServerURL()) // connects lazily
	if err != nil {
		t.Fatal(err)
	}
	pool.Close()
	c := NewDatabaseCollector(pool, time.Second, slog.New(slog.DiscardHandler))
	for want := 1.0; want <= 2; want++ {
		g := gather(t, c)
		if got := g["chronicle_metrics_scrape_errors_total"][""]; got != want {
			t.Errorf("scrape errors = %v, want %v", got, want)
		}
		if len(g) != 1 {
			t.Errorf("after a failed scrape: %v, want only the error counter", g)
		}
	}
}
