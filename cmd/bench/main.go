// Command bench measures a Chronicle server built from this checkout, on
// loopback, each number beside a baseline measured in the same run (issue
// 5), and writes what it measured to docs/benchmarks.md:
//
//  1. creditAccount mutations over HTTP at concurrency 1, 16 and 64, beside
//     pgbench appending the same event row in a transaction;
//  2. account(id) queries beside the same server answering { __typename };
//  3. projection lag, commit to projected, under an open-loop 1,000
//     credits per second;
//  4. commit to subscription frame with 1,000 and 5,000 subscriptions, and
//     memory per idle subscription;
//  5. projection rebuild speed over 1,000,000 stored events;
//  6. an ordinary query while 2,000 clients flood the server;
//  7. a command on a stream of 10,000 events with snapshots and without,
//     each beside a command on a fresh stream (snapshots.go).
//
// It starts what it needs (server processes and databases of their own),
// stops them afterwards, and leaves nothing running.
//
//	go run ./cmd/bench                    # the full run
//	go run ./cmd/bench -quick             # a shorter run
//	go run ./cmd/bench -out ''            # print only
//	go run ./cmd/bench -quick -profile credit-64 -out ''
//	                                      # and a 10 s CPU profile of the server
//	go run ./cmd/bench -only snapshots    # item 7 only, printed (not written
//	                                      # unless -out is given)
//	go run ./cmd/bench -only subscriptions -subscription-sizes 5000 -profile subscriptions-fanout-5000
//	                                      # item 4 only, for 5,000 subscriptions, with a CPU
//	                                      # profile of the server during the fan-out
//
// PostgreSQL (DATABASE_URL) must be reachable; REDIS_URL, when set, is
// passed to the server, so the fan-out goes through Redis as in production.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	quick := flag.Bool("quick", false, "shorter windows, fewer subscriptions and events")
	out := flag.String("out", "docs/benchmarks.md", "file to write the report to ('' for none)")
	profile := flag.String("profile", "", "grab a "+fmt.Sprint(profileSeconds)+" s CPU profile of the server during this scenario (heap and goroutine profiles for subscriptions-idle-N): "+strings.Join(scenarioNames(), ", "))
	profileDir := flag.String("profile-dir", os.TempDir(), "where -profile writes bench-<scenario>.cpu.pprof")
	flag.BoolVar(&overloadOnly, "overload-only", false, "run the overload probe only (issue 10, item 7), and print its log lines")
	flag.StringVar(&only, "only", "", "run one part only and print its report (written only with an explicit -out): "+strings.Join(parts, ", "))
	flag.Var(&subscriptionSizes, "subscription-sizes", "comma-separated subscription counts for item 4, instead of the plan's (e.g. 1000,5000)")
	flag.Var(&serverEnv, "server-env", "KEY=VALUE added to every server's environment, for experiments (repeatable; the report says so)")
	flag.Parse()
	if only != "" {
		if !slices.Contains(parts, only) {
			fmt.Fprintf(os.Stderr, "bench: unknown part %q for -only (one of %s)\n", only, strings.Join(parts, ", "))
			os.Exit(2)
		}
		outGiven := false
		flag.Visit(func(f *flag.Flag) { outGiven = outGiven || f.Name == "out" })
		if !outGiven {
			*out = ""
		}
	}
	var prof *profiler
	if *profile != "" {
		if !slices.Contains(scenarioNames(), *profile) {
			fmt.Fprintf(os.Stderr, "bench: unknown scenario %q for -profile (one of %s)\n", *profile, strings.Join(scenarioNames(), ", "))
			os.Exit(2)
		}
		prof = &profiler{scenario: *profile, dir: *profileDir}
	}
	if err := run(*quick, *out, prof); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// overloadOnly is -overload-only.
var overloadOnly bool

// only is -only: the one part to run, one of parts ("" runs everything).
var only string

// parts are the parts -only runs alone.
var parts = []string{"snapshots", "subscriptions"}

// subscriptionSizes is -subscription-sizes.
var subscriptionSizes intList

// intList is a comma-separated list of positive integers.
type intList []int

func (l *intList) String() string { return fmt.Sprint([]int(*l)) }

// Set parses the list.
func (l *intList) Set(v string) error {
	*l = nil
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive integer", f)
		}
		*l = append(*l, n)
	}
	return nil
}

// serverEnv is what -server-env adds to every server's environment.
var serverEnv stringList

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, " ") }

// Set adds one value.
func (l *stringList) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	*l = append(*l, v)
	return nil
}

// plan is how much one run measures.
type plan struct {
	// command and target are how the run was started.
	command, target string
	// accounts is how many accounts the command and query scenarios use.
	accounts int
	// point is the window of each throughput measurement; shortPoint that
	// of the store-only appends and of the long-stream pair.
	point, shortPoint window
	// concurrencies are item 1's; queryConcurrency is item 2's.
	concurrencies    []int
	queryConcurrency int
	// lagRate (credits per second) and lag are item 3's.
	lagRate int
	lag     window
	// subscriptionSizes and subscriptionCredits are item 4's.
	subscriptionSizes   []int
	subscriptionCredits int
	// rebuildEvents is item 5's.
	rebuildEvents int
	// longStream is the length of item 1's long stream, freshAccounts how
	// many fresh accounts it is set beside.
	longStream, freshAccounts int
	// dashboards is item 4's number of connections with
	// dashboardSubscriptions subscriptions each.
	dashboards, dashboardSubscriptions int
	// overloadFlood is how many clients flood the server in the overload
	// probe (issue 10, item 7).
	overloadFlood int
	// snapshotStream is the length of the snapshot item's long stream
	// (issue 12).
	snapshotStream int
}

func newPlan(quick bool) plan {
	p := plan{
		command:  "go run ./cmd/bench",
		target:   "make bench",
		accounts: 1000,
		point:    window{Warmup: time.Second, Measure: 5 * time.Second},
		// The appends need no server warm-up; the long-stream pair runs
		// at concurrency 1.
		shortPoint: window{Warmup: time.Second, Measure: 3 * time.Second},
		// 1, 16 and 64 concurrent clients, as issue 5 asks.
		concurrencies:       []int{1, 16, 64},
		queryConcurrency:    16,
		lagRate:             1000,
		lag:                 window{Warmup: 2 * time.Second, Measure: 10 * time.Second},
		subscriptionSizes:   []int{1000, 5000, 10_000},
		subscriptionCredits: 30,
		rebuildEvents:       1_000_000,
		longStream:          1000,
		freshAccounts:       200,
		dashboards:          1000,
		// A dashboard page: five live panels on one connection.
		dashboardSubscriptions: 5,
		overloadFlood:          2000,
		snapshotStream:         10_000,
	}
	if quick {
		p.command, p.target = p.command+" -quick", p.target+"-quick"
		p.point = window{Warmup: time.Second, Measure: 2 * time.Second}
		p.shortPoint = window{Warmup: 500 * time.Millisecond, Measure: time.Second}
		p.dashboards = 500
		p.lag = window{Warmup: time.Second, Measure: 4 * time.Second}
		p.subscriptionSizes, p.subscriptionCredits = []int{1000}, 10
		p.rebuildEvents = 100_000
	}
	if only != "" {
		// A part alone is not what make runs.
		p.command, p.target = p.command+" -only "+only, ""
	}
	if len(subscriptionSizes) > 0 {
		p.subscriptionSizes = subscriptionSizes
		p.command, p.target = p.command+" -subscription-sizes "+strings.Trim(strings.ReplaceAll(fmt.Sprint([]int(subscriptionSizes)), " ", ","), "[]"), ""
	}
	for _, kv := range serverEnv {
		// Not what make runs: the report names only the command.
		p.command, p.target = p.command+" -server-env "+kv, ""
	}
	return p
}

// scenarioNames are the scenarios -profile accepts.
func scenarioNames() []string {
	var names []string
	for _, c := range newPlan(false).concurrencies {
		names = append(names, fmt.Sprintf("credit-%d", c), fmt.Sprintf("credit-nowait-%d", c))
	}
	q := newPlan(false).queryConcurrency
	names = append(names, fmt.Sprintf("account-%d", q), fmt.Sprintf("constant-%d", q), "credit-fresh-1", "credit-long-1", "lag", "lag-sustainable",
		"snapshots-fresh-1", "snapshots-long-1", "nosnapshots-fresh-1", "nosnapshots-long-1")
	for _, n := range append(newPlan(false).subscriptionSizes, subscriptionSizes...) {
		names = append(names, fmt.Sprintf("subscriptions-idle-%d", n), fmt.Sprintf("subscriptions-fanout-%d", n))
	}
	return names
}

// logf reports progress on stderr.
func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...) }

func run(quick bool, out string, prof *profiler) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	work, err := os.MkdirTemp("", "chronicle-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	p := newPlan(quick)
	rep := newReport(p)
	logf("building the server...")
	bin, err := buildServer(ctx, work, prof != nil)
	if err != nil {
		return err
	}
	if overloadOnly {
		return runOverloadProbe(ctx, p, bin, work, rep)
	}
	switch only {
	case "snapshots":
		if rep.snapshots, err = runSnapshots(ctx, p, bin, work, prof); err != nil {
			return err
		}
		return rep.write(out)
	case "subscriptions":
		if err := runSubscriptionScenarios(ctx, p, bin, work, prof, rep); err != nil {
			return err
		}
		return rep.write(out)
	}
	if err := runServerScenarios(ctx, p, bin, work, prof, rep); err != nil {
		return err
	}
	if err := runOverloadProbe(ctx, p, bin, work, rep); err != nil {
		return err
	}
	if err := runSubscriptionScenarios(ctx, p, bin, work, prof, rep); err != nil {
		return err
	}
	// Item 5: measureRebuild (rebuild.go) seeds and drops a database of
	// its own.
	logf("item 5: projection rebuild over %d events...", p.rebuildEvents)
	admin, err := adminDatabaseURL()
	if err != nil {
		return err
	}
	rebuild, err := measureRebuild(ctx, admin, p.rebuildEvents, logf)
	if err != nil {
		return fmt.Errorf("projection rebuild: %w", err)
	}
	logf("  %.0f events/s (%d events in %.1f s)", rebuild.EventsPerSecond, rebuild.Events, rebuild.Seconds)
	rep.rebuild = &rebuild
	// Item 7 (issue 12) starts servers of its own, one at a time.
	if rep.snapshots, err = runSnapshots(ctx, p, bin, work, prof); err != nil {
		return err
	}
	return rep.write(out)
}

// write prints the report and writes it to out (unless "").
func (r *report) write(out string) error {
	text := r.markdown()
	fmt.Print(text)
	if out != "" {
		if err := os.WriteFile(out, []byte(text), 0o644); err != nil {
			return err
		}
		logf("wrote %s", out)
	}
	return nil
}

// runSubscriptionScenarios runs item 4: each of p.subscriptionSizes on a
// fresh server, then the dashboards on another.
func runSubscriptionScenarios(ctx context.Context, p plan, bin serverBinary, work string, prof *profiler, rep *report) error {
	for _, n := range p.subscriptionSizes {
		// A fresh server per size, so one size's memory does not count in
		// the next.
		srv, err := startServer(ctx, bin, work)
		if err != nil {
			return err
		}
		logf("item 4: %d subscriptions...", n)
		res, err := runSubscriptions(ctx, srv, n, p.subscriptionCredits, prof)
		srv.stop()
		if err != nil {
			return fmt.Errorf("%d subscriptions: %w", n, err)
		}
		rep.subscriptions = append(rep.subscriptions, res)
	}
	if p.dashboards > 0 {
		srv, err := startServer(ctx, bin, work)
		if err != nil {
			return err
		}
		logf("item 4: %d connections with %d subscriptions each...", p.dashboards, p.dashboardSubscriptions)
		res, err := runDashboards(ctx, srv, p.dashboards, p.dashboardSubscriptions)
		srv.stop()
		if err != nil {
			return fmt.Errorf("dashboards: %w", err)
		}
		logf("  %.1f KiB per connection", float64(res.RSSPerConn)/1024)
		rep.dashboard = &res
	}
	return nil
}

// runServerScenarios runs items 1 to 3: two servers (one that waits for
// the projection in every mutation's payload, as shipped, and one that does
// not), the pgbench baseline, then credits, queries and the lag.
func runServerScenarios(ctx context.Context, p plan, bin serverBinary, work string, prof *profiler, rep *report) error {
	logf("starting servers, opening %d accounts on each...", p.accounts)
	srv, err := startServer(ctx, bin, work)
	if err != nil {
		return err
	}
	defer srv.stop()
	noWait, err := startServer(ctx, bin, work, "READ_YOUR_WRITES_TIMEOUT=0s")
	if err != nil {
		return err
	}
	defer noWait.stop()
	cl, noWaitCl := newClient(srv.baseURL), newClient(noWait.baseURL)
	defer cl.close()
	defer noWaitCl.close()
	ids, err := openAccounts(ctx, srv, p.accounts)
	if err != nil {
		return err
	}
	noWaitIDs, err := openAccounts(ctx, noWait, p.accounts)
	if err != nil {
		return err
	}
	for range 10 {
		if err := credit(ctx, cl, ids, true); err != nil {
			return fmt.Errorf("first credits: %w", err)
		}
	}
	row, err := lastCreditRow(ctx, srv)
	if err != nil {
		return err
	}
	base, err := newBaseline(ctx, work, row)
	if err != nil {
		return err
	}
	defer base.drop()
	rep.baselineTool = base.tool

	// Run scenario on srv with c clients, profiling it when asked.
	measureIn := func(w window, name string, target *serverProcess, c int, do func(context.Context) error) (latencyStats, error) {
		h, cpu := scenarioHooks(ctx, name, target, prof)
		st := closedLoop(ctx, c, prof.window(name, w), h, do)
		st.CPU = *cpu
		if err := prof.wait(logf); err != nil {
			return st, err
		}
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		logf("  %-18s %8.0f/s  p50 %s  p99 %s  errors %d %s  [cores: machine %.2f iowait %.2f server %.2f pg %.2f; oldest write tx elsewhere %s; cluster WAL %.1f MB/s]",
			name, st.PerSecond, ms(st.P50), ms(st.P99), st.Errors, st.FirstError, st.CPU.Machine, st.CPU.IOWait, st.CPU.Server, st.CPU.Postgres, ms(st.CPU.OtherXact), st.CPU.WALBytes/1e6)
		return st, nil
	}
	measure := func(name string, target *serverProcess, c int, do func(context.Context) error) (latencyStats, error) {
		return measureIn(p.point, name, target, c, do)
	}
	for _, c := range p.concurrencies {
		logf("item 1: concurrency %d", c)
		pt := commandPoint{Concurrency: c}
		if pt.Baseline, err = base.run(ctx, c, p.point); err != nil && ctx.Err() == nil {
			// Most likely the cluster's max_connections, shared with
			// others: try once more, then report the failure in place.
			logf("  baseline failed, retrying in 3 s: %v", err)
			time.Sleep(3 * time.Second)
			if pt.Baseline, err = base.run(ctx, c, p.point); err != nil {
				pt.Baseline = latencyStats{Errors: 1, FirstError: err.Error()}
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		logf("  %-18s %8.0f/s  p50 %s  p99 %s", base.tool, pt.Baseline.PerSecond, ms(pt.Baseline.P50), ms(pt.Baseline.P99))
		appends, err := base.storeAppends(ctx, c, p.shortPoint)
		if err != nil {
			return fmt.Errorf("store appends: %w", err)
		}
		pt.Append = &appends
		logf("  %-18s %8.0f/s  p50 %s  p99 %s  errors %d %s", "store append", appends.PerSecond, ms(appends.P50), ms(appends.P99), appends.Errors, appends.FirstError)
		if pt.Credits, err = measure(fmt.Sprintf("credit-%d", c), srv, c, func(ctx context.Context) error {
			return credit(ctx, cl, ids, true)
		}); err != nil {
			return err
		}
		nw, err := measure(fmt.Sprintf("credit-nowait-%d", c), noWait, c, func(ctx context.Context) error {
			return credit(ctx, noWaitCl, noWaitIDs, false)
		})
		if err != nil {
			return err
		}
		pt.NoWait = &nw
		rep.commands = append(rep.commands, pt)
	}
	noWait.stop()

	q := queryResult{Concurrency: p.queryConcurrency}
	logf("item 2: queries at concurrency %d", q.Concurrency)
	if q.Account, err = measure(fmt.Sprintf("account-%d", q.Concurrency), srv, q.Concurrency, func(ctx context.Context) error {
		_, err := cl.post(ctx, accountOp.body(ids[rand.IntN(len(ids))]))
		return err
	}); err != nil {
		return err
	}
	if q.Constant, err = measure(fmt.Sprintf("constant-%d", q.Concurrency), srv, q.Concurrency, func(ctx context.Context) error {
		_, err := cl.post(ctx, constantOp.body(""))
		return err
	}); err != nil {
		return err
	}
	rep.queries = &q

	logf("item 1: creditAccount on a stream of %d events beside %d fresh accounts", p.longStream, p.freshAccounts)
	longID, err := seedLongStream(ctx, srv, cl, p.longStream)
	if err != nil {
		return err
	}
	fresh, err := openAccounts(ctx, srv, p.freshAccounts)
	if err != nil {
		return err
	}
	ls := longStreamResult{Events: p.longStream}
	if ls.Fresh, err = measureIn(p.shortPoint, "credit-fresh-1", srv, 1, func(ctx context.Context) error {
		return credit(ctx, cl, fresh, true)
	}); err != nil {
		return err
	}
	if ls.Long, err = measureIn(p.shortPoint, "credit-long-1", srv, 1, func(ctx context.Context) error {
		return credit(ctx, cl, []string{longID}, true)
	}); err != nil {
		return err
	}
	rep.longStream = &ls

	// Item 3 at the aim's rate, and, when the server cannot sustain that,
	// again at a rate it can (60 % of its best closed-loop rate), to tell
	// the projection's own lag from a saturated server's.
	rates := []int{p.lagRate}
	best := 0.0
	for _, c := range rep.commands {
		best = max(best, c.Credits.PerSecond)
	}
	if sustainable := int(0.6*best) / 50 * 50; sustainable >= 50 && sustainable < p.lagRate {
		rates = append(rates, sustainable)
	}
	for i, rate := range rates {
		name := "lag"
		if i > 0 {
			name = "lag-sustainable"
		}
		logf("item 3: projection lag at %d credits/s", rate)
		h, cpu := scenarioHooks(ctx, name, srv, prof)
		lag, err := runLag(ctx, srv, cl, ids, rate, prof.window(name, p.lag), h)
		lag.CPU = *cpu
		if err != nil {
			return fmt.Errorf("projection lag: %w", err)
		}
		if err := prof.wait(logf); err != nil {
			return err
		}
		logf("  achieved %.0f/s, lag p50 %s p99 %s, dropped %d, unprojected %d  [cores: machine %.2f iowait %.2f server %.2f pg %.2f; oldest write tx elsewhere %s; cluster WAL %.1f MB/s]",
			lag.Achieved, ms(lag.P50), ms(lag.P99), lag.Dropped, lag.Unprojected, lag.CPU.Machine, lag.CPU.IOWait, lag.CPU.Server, lag.CPU.Postgres, ms(lag.CPU.OtherXact), lag.CPU.WALBytes/1e6)
		rep.lags = append(rep.lags, lag)
	}
	return nil
}

// runOverloadProbe measures an ordinary query while p.overloadFlood clients
// flood a fresh server with credits (issue 10, item 7).
func runOverloadProbe(ctx context.Context, p plan, bin serverBinary, work string, rep *report) error {
	srv, err := startServer(ctx, bin, work)
	if err != nil {
		return err
	}
	defer srv.stop()
	ids, err := openAccounts(ctx, srv, 100)
	if err != nil {
		return err
	}
	logf("overload: account(id) while %d clients flood creditAccount", p.overloadFlood)
	o := runOverload(ctx, srv.baseURL, ids, p.overloadFlood, p.point)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	logf("  probe p50 %s p99 %s, %d answered, %d refused (503); flood %.0f/s served, %.0f/s refused, %d other errors %s",
		ms(o.Probe.P50), ms(o.Probe.P99), o.ProbeAnswers, o.ProbeRefused, o.FloodServed, o.FloodRefused, o.FloodErrors, o.FloodFirstError)
	rep.overload = &o
	return nil
}

// scenarioHooks measures the CPU over a scenario's measured part (the
// result is filled in when it ends) and starts the server profile if this
// is the scenario to profile.
func scenarioHooks(ctx context.Context, name string, srv *serverProcess, prof *profiler) (hooks, *cpuUse) {
	var (
		meter *cpuMeter
		use   cpuUse
	)
	startProfile := prof.start(ctx, name, srv)
	return hooks{
		begin: func() {
			meter = startCPU(ctx, srv)
			if startProfile != nil {
				startProfile()
			}
		},
		end: func() { use = meter.stop() },
	}, &use
}

// ms formats d in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// machine describes the host: cores, memory, CPU model.
func machine() string {
	mem := "unknown memory"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kb int64
				fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
				mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "model name"); ok {
				model = ", " + strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%d cores, %s%s, %s/%s", runtime.NumCPU(), mem, model, runtime.GOOS, runtime.GOARCH)
}
