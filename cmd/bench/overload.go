package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// overloadResult is the overload probe's: an ordinary query's latency,
// one at a time, while flood clients send creditAccount in a closed loop.
type overloadResult struct {
	// Flood is how many clients flooded; FloodServed and FloodRefused are
	// their answered and refused (503 OVERLOADED) requests per second.
	Flood                      int
	FloodServed, FloodRefused  float64
	FloodErrors                int
	FloodFirstError            string
	Probe                      latencyStats
	ProbeRefused, ProbeAnswers int
}

// errOverloaded is a 503 answer: the server refused the request at once.
var errOverloaded = errors.New("HTTP 503 (overloaded)")

// runOverload floods the server with flood closed-loop clients sending
// creditAccount (a client refused with 503 waits its Retry-After, a second,
// as a well-behaved client does), and meanwhile measures account(id) from
// one more client.
// A probe refused with 503 counts apart (ProbeRefused): refusing fast is
// the server's answer to overload, not a slow answer.
func runOverload(ctx context.Context, baseURL string, ids []string, flood int, w window) overloadResult {
	res := overloadResult{Flood: flood}
	floodCl, probeCl := newClient(baseURL), newClient(baseURL)
	// One connection per flood client, as 2,000 separate clients would have.
	floodCl.http.Transport.(*http.Transport).MaxIdleConnsPerHost = flood
	floodCl.http.Transport.(*http.Transport).MaxIdleConns = flood
	defer floodCl.close()
	defer probeCl.close()

	floodCtx, stopFlood := context.WithCancel(ctx)
	var served, refused, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	measuring := atomic.Bool{}
	for i := range flood {
		wg.Go(func() {
			for floodCtx.Err() == nil {
				err := classify(floodCl.post(floodCtx, creditOp.body(ids[i%len(ids)])))
				if errors.Is(err, errOverloaded) {
					// As a well-behaved client does (Retry-After: 1).
					select {
					case <-time.After(time.Second):
					case <-floodCtx.Done():
					}
				}
				if !measuring.Load() || floodCtx.Err() != nil {
					continue
				}
				switch {
				case err == nil:
					served.Add(1)
				case errors.Is(err, errOverloaded):
					refused.Add(1)
				default:
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}
	var probeRefused atomic.Int64
	start := time.Now()
	res.Probe = closedLoop(ctx, 1, w, hooks{begin: func() { measuring.Store(true) }}, func(ctx context.Context) error {
		err := classify(probeCl.post(ctx, accountOp.body(ids[0])))
		if errors.Is(err, errOverloaded) && time.Since(start) > w.Warmup {
			probeRefused.Add(1)
		}
		return err
	})
	measuring.Store(false)
	stopFlood()
	wg.Wait()
	secs := w.Measure.Seconds()
	res.FloodServed, res.FloodRefused = float64(served.Load())/secs, float64(refused.Load())/secs
	res.FloodErrors = int(failed.Load())
	if s, ok := firstErr.Load().(string); ok {
		res.FloodFirstError = s
	}
	res.ProbeRefused, res.ProbeAnswers = int(probeRefused.Load()), res.Probe.Count
	return res
}

// classify tells a 503 refusal from other errors.
func classify(_ []byte, err error) error {
	if err != nil && strings.HasPrefix(err.Error(), "HTTP 503") {
		return fmt.Errorf("%w: %w", errOverloaded, err)
	}
	return err
}
