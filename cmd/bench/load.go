package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// latencyStats summarises one measured window of requests.
type latencyStats struct {
	// Count is how many requests completed without error in the window.
	Count int
	// Errors is how many failed in the window; FirstError is one of them.
	Errors     int
	FirstError string
	// PerSecond is Count divided by the window's length.
	PerSecond          float64
	P50, P95, P99, Max time.Duration
	// CPU is where the CPU went during the window.
	CPU cpuUse
}

// summarize computes the throughput and percentiles of samples (latencies of
// the requests that completed in a window of length window).
func summarize(samples []time.Duration, errs int, firstErr string, window time.Duration) latencyStats {
	s := slices.Clone(samples)
	slices.Sort(s)
	return latencyStats{
		Count: len(s), Errors: errs, FirstError: firstErr,
		PerSecond: float64(len(s)) / window.Seconds(),
		P50:       sortedPercentile(s, 0.50), P95: sortedPercentile(s, 0.95),
		P99: sortedPercentile(s, 0.99), Max: sortedPercentile(s, 1),
	}
}

// percentile returns the q-quantile (0..1) of ds by the nearest-rank method.
func percentile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return sortedPercentile(s, q)
}

// sortedPercentile is percentile for an already sorted slice.
func sortedPercentile(s []time.Duration, q float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// window is a load phase: warm-up first (not recorded), then the measured
// part.
type window struct {
	Warmup, Measure time.Duration
}

// hooks are called as the measured part of a window begins and ends (either
// may be nil).
type hooks struct {
	begin, end func()
}

func (h hooks) callBegin() {
	if h.begin != nil {
		h.begin()
	}
}

func (h hooks) callEnd() {
	if h.end != nil {
		h.end()
	}
}

// closedLoop runs c workers that each call do back to back: for w.Warmup
// without recording, then for w.Measure. It records every call that
// completes inside the measured part (so throughput counts completions, with
// no bias from calls in flight at either edge).
func closedLoop(ctx context.Context, c int, w window, h hooks, do func(ctx context.Context) error) latencyStats {
	start := time.Now()
	from, to := start.Add(w.Warmup), start.Add(w.Warmup+w.Measure)
	type workerResult struct {
		samples  []time.Duration
		errs     int
		firstErr string
	}
	results := make([]workerResult, c)
	var wg sync.WaitGroup
	for i := range results {
		r := &results[i]
		wg.Go(func() {
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(to) {
					return
				}
				err := do(ctx)
				t1 := time.Now()
				if t1.Before(from) || t1.After(to) {
					continue
				}
				if err != nil {
					if r.errs == 0 {
						r.firstErr = err.Error()
					}
					r.errs++
					continue
				}
				r.samples = append(r.samples, t1.Sub(t0))
			}
		})
	}
	time.Sleep(time.Until(from))
	h.callBegin()
	wg.Wait()
	h.callEnd()
	var (
		all      []time.Duration
		errs     int
		firstErr string
	)
	for _, r := range results {
		all = append(all, r.samples...)
		if r.errs > 0 && firstErr == "" {
			firstErr = r.firstErr
		}
		errs += r.errs
	}
	return summarize(all, errs, firstErr, w.Measure)
}

// client is the load generator's HTTP client: keep-alive connections, enough
// idle ones per host for every worker, no compression.
type client struct {
	http  *http.Client
	query string // the server's /query URL
}

func newClient(baseURL string) *client {
	return &client{
		http: &http.Client{
			Timeout: 30 * time.Second,
			Transport: &http.Transport{
				MaxIdleConns:        1024,
				MaxIdleConnsPerHost: 1024,
				IdleConnTimeout:     time.Minute,
				DisableCompression:  true,
			},
		},
		query: baseURL + "/query",
	}
}

// close drops the client's idle connections.
func (c *client) close() { c.http.CloseIdleConnections() }

// operation is a GraphQL document with one string variable, encoded once so
// that building a request body is two appends.
type operation struct {
	prefix, suffix []byte
}

// newOperation prepares query; varName is its one variable ("" for none).
func newOperation(query, varName string) operation {
	q, _ := json.Marshal(query)
	if varName == "" {
		return operation{prefix: fmt.Appendf(nil, `{"query":%s}`, q)}
	}
	name, _ := json.Marshal(varName)
	return operation{
		prefix: fmt.Appendf(nil, `{"query":%s,"variables":{%s:"`, q, name),
		suffix: []byte(`"}}`),
	}
}

// body returns the request body with the variable set to value (a string
// that needs no JSON escaping, such as a UUID).
func (o operation) body(value string) []byte {
	b := make([]byte, 0, len(o.prefix)+len(value)+len(o.suffix))
	return append(append(append(b, o.prefix...), value...), o.suffix...)
}

var errorsKey = []byte(`"errors"`)

// post sends one GraphQL request and returns the response body; a non-200
// status or a response with errors is an error.
func (c *client) post(ctx context.Context, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.query, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		return nil, err
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, b)
	case bytes.Contains(b, errorsKey):
		return nil, fmt.Errorf("graphql: %.200s", b)
	}
	return b, nil
}
