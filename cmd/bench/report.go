package main

import (
	_ "embed"
	"fmt"
	"runtime"
	"strings"
	"time"
)

// limits is the hand-written analysis of what limits each number, appended
// to every report (edit cmd/bench/limits.md, not docs/benchmarks.md).
//
//go:embed limits.md
var limits string

// report is everything one run measured, and where.
type report struct {
	plan          plan
	date          time.Time
	machine       string
	baselineTool  string
	commands      []commandPoint
	queries       *queryResult
	lags          []lagResult
	subscriptions []subscriptionResult
	dashboard     *dashboardResult
	longStream    *longStreamResult
	rebuild       *RebuildResult
	overload      *overloadResult
	snapshots     *snapshotResult
}

func newReport(p plan) *report {
	return &report{plan: p, date: time.Now().UTC(), machine: machine()}
}

// The aims of shared/design.md ("Numbers to aim for") and issue 14.
const (
	aimRatio          = 0.5
	aimAppendRatio    = 0.8
	aimLongRatio      = 0.9
	aimLagP99         = 50 * time.Millisecond
	aimFrameP99       = 100 * time.Millisecond
	aimFrameSubs      = 5000
	aimFrameP99Large  = 250 * time.Millisecond
	aimFrameSubsLarge = 10_000
	aimMemPerSub      = 24 << 10
	aimMemPerConn5    = 64 << 10
	aimRebuildRate    = 50_000
	aimOverloadP99    = 100 * time.Millisecond
)

func met(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func perSec(v float64) string { return fmt.Sprintf("%.0f/s", v) }

func ratio(v, base float64) float64 {
	if base == 0 {
		return 0
	}
	return v / base
}

// markdown renders the report: the summary against the aims, then each
// item's detail, then what limits each number.
func (r *report) markdown() string {
	var b strings.Builder
	p := r.plan
	fmt.Fprintf(&b, "# Benchmarks\n\n")
	how := "`" + p.command + "`"
	if p.target != "" {
		how += " (`" + p.target + "`)"
	}
	fmt.Fprintf(&b, "Written by %s on %s, on %s. Every number below comes from that one run;\n",
		how, r.date.Format("2006-01-02 15:04 MST"), r.machine)
	b.WriteString("the server, PostgreSQL, pgbench and the load generator share those cores.\n\n")

	b.WriteString("## Summary\n\n")
	b.WriteString("| what | value | baseline | ratio | aim | met? |\n| --- | ---: | ---: | ---: | --- | --- |\n")
	for _, c := range r.commands {
		if c.Baseline.PerSecond == 0 {
			fmt.Fprintf(&b, "| creditAccount mutations, concurrency %d | %s | %s failed (see below) | | ratio ≥ %.1f | — |\n",
				c.Concurrency, perSec(c.Credits.PerSecond), r.baselineTool, aimRatio)
			continue
		}
		fmt.Fprintf(&b, "| creditAccount mutations, concurrency %d | %s | %s %s | %.2f | ratio ≥ %.1f | %s |\n",
			c.Concurrency, perSec(c.Credits.PerSecond), perSec(c.Baseline.PerSecond), r.baselineTool,
			ratio(c.Credits.PerSecond, c.Baseline.PerSecond), aimRatio, met(c.Credits.Errors == 0 && ratio(c.Credits.PerSecond, c.Baseline.PerSecond) >= aimRatio))
	}
	for _, c := range r.commands {
		if a := c.Append; a != nil && c.Baseline.PerSecond > 0 {
			rt := ratio(a.PerSecond, c.Baseline.PerSecond)
			fmt.Fprintf(&b, "| event append (store only), concurrency %d | %s | %s %s | %.2f | ratio ≥ %.1f | %s |\n",
				c.Concurrency, perSec(a.PerSecond), perSec(c.Baseline.PerSecond), r.baselineTool, rt, aimAppendRatio, met(a.Errors == 0 && rt >= aimAppendRatio))
		}
	}
	if l := r.longStream; l != nil {
		rt := ratio(l.Long.PerSecond, l.Fresh.PerSecond)
		fmt.Fprintf(&b, "| creditAccount on a stream of %d events, concurrency 1 | %s | %s on fresh accounts | %.2f | ratio ≥ %.1f | %s |\n",
			l.Events, perSec(l.Long.PerSecond), perSec(l.Fresh.PerSecond), rt, aimLongRatio, met(l.Long.Errors == 0 && rt >= aimLongRatio))
	}
	for _, c := range r.commands {
		if c.NoWait != nil {
			fmt.Fprintf(&b, "| creditAccount, no read-your-writes wait (`READ_YOUR_WRITES_TIMEOUT=0`), concurrency %d | %s | %s %s | %.2f | (for comparison) | |\n",
				c.Concurrency, perSec(c.NoWait.PerSecond), perSec(c.Baseline.PerSecond), r.baselineTool, ratio(c.NoWait.PerSecond, c.Baseline.PerSecond))
		}
	}
	if q := r.queries; q != nil {
		rt := ratio(q.Account.PerSecond, q.Constant.PerSecond)
		fmt.Fprintf(&b, "| account(id) queries, concurrency %d | %s | %s `{ __typename }` | %.2f | ratio ≥ %.1f | %s |\n",
			q.Concurrency, perSec(q.Account.PerSecond), perSec(q.Constant.PerSecond), rt, aimRatio, met(q.Account.Errors == 0 && rt >= aimRatio))
	}
	for i, l := range r.lags {
		ok := met(l.P99 < aimLagP99 && l.Unprojected == 0 && l.Achieved >= 0.95*float64(l.TargetRate))
		if i > 0 {
			ok = "(below the aim's rate)"
		}
		fmt.Fprintf(&b, "| projection lag p99, %d credits/s asked, %.0f/s achieved | %s (p50 %s) | | | p99 < %s at 1,000/s | %s |\n",
			l.TargetRate, l.Achieved, ms(l.P99), ms(l.P50), ms(aimLagP99), ok)
	}
	for _, s := range r.subscriptions {
		aim, ok := fmt.Sprintf("p99 < %s with %d", ms(aimFrameP99), aimFrameSubs), "—"
		switch {
		case s.Subscriptions >= aimFrameSubsLarge:
			aim = fmt.Sprintf("p99 < %s with %d", ms(aimFrameP99Large), aimFrameSubsLarge)
			ok = met(s.P99 < aimFrameP99Large && s.Missing == 0)
		case s.Subscriptions >= aimFrameSubs:
			ok = met(s.P99 < aimFrameP99 && s.Missing == 0)
		}
		fmt.Fprintf(&b, "| commit to subscription frame p99, %d subscriptions | %s (p50 %s) | | | %s | %s |\n",
			s.Subscriptions, ms(s.P99), ms(s.P50), aim, ok)
	}
	for _, s := range r.subscriptions {
		fmt.Fprintf(&b, "| memory per idle subscription (%d open) | %.1f KiB | | | < %d KiB | %s |\n",
			s.Subscriptions, float64(s.RSSPerSub)/1024, aimMemPerSub>>10, met(s.RSSPerSub < aimMemPerSub))
	}
	if d := r.dashboard; d != nil {
		fmt.Fprintf(&b, "| memory per idle connection with %d subscriptions (%d open) | %.1f KiB | | | < %d KiB | %s |\n",
			d.PerConnection, d.Connections, float64(d.RSSPerConn)/1024, aimMemPerConn5>>10, met(d.RSSPerConn < aimMemPerConn5))
	}
	if o := r.overload; o != nil {
		fmt.Fprintf(&b, "| account(id) p99 while %d clients flood creditAccount (%d answered, %d refused 503) | %s (p50 %s) | | | p99 < %s | %s |\n",
			o.Flood, o.ProbeAnswers, o.ProbeRefused, ms(o.Probe.P99), ms(o.Probe.P50), ms(aimOverloadP99),
			met(o.Probe.P99 < aimOverloadP99 && o.ProbeAnswers > 0))
	}
	if rb := r.rebuild; rb != nil {
		fmt.Fprintf(&b, "| projection rebuild, %d events | %.0f events/s | | | ≥ %d events/s | %s |\n",
			rb.Events, rb.EventsPerSecond, aimRebuildRate, met(rb.EventsPerSecond >= aimRebuildRate))
	}
	if s := r.snapshots; s != nil {
		w, wo := s.With, s.Without
		rt := ratio(w.Long.PerSecond, w.Fresh.PerSecond)
		fmt.Fprintf(&b, "| creditAccount on a stream of %d events with snapshots (every %d), concurrency 1 | %s | %s on fresh accounts | %.2f | ratio ≥ %.1f | %s |\n",
			s.Events, s.Every, perSec(w.Long.PerSecond), perSec(w.Fresh.PerSecond), rt, aimLongRatio, met(w.Long.Errors == 0 && rt >= aimLongRatio))
		fmt.Fprintf(&b, "| creditAccount on a stream of %d events without snapshots (`SNAPSHOT_EVERY=0`), concurrency 1 | %s | %s on fresh accounts | %.2f | (for comparison) | |\n",
			s.Events, perSec(wo.Long.PerSecond), perSec(wo.Fresh.PerSecond), ratio(wo.Long.PerSecond, wo.Fresh.PerSecond))
		fmt.Fprintf(&b, "| the same stream: with snapshots beside without | %s | %s without | %.1f | (for comparison) | |\n",
			perSec(w.Long.PerSecond), perSec(wo.Long.PerSecond), ratio(w.Long.PerSecond, wo.Long.PerSecond))
	}

	if len(r.commands) > 0 {
		b.WriteString("\n## 1. Commands: creditAccount beside pgbench\n\n")
		fmt.Fprintf(&b, "`creditAccount` of 0.01 to one of %d accounts picked at random, over HTTP/1.1 keep-alive on loopback,\n", p.accounts)
		b.WriteString("N clients each sending the next request when the last one is answered (closed loop). The mutation\n")
		b.WriteString("asks for `position upToDate account { balance { amount } version }`, so its payload waits until\n")
		b.WriteString("the accounts projection has applied the credit (read-your-writes), as a front end would use it;\n")
		b.WriteString("a payload that is not up to date counts as an error. The baseline is ")
		if r.baselineTool == "pgbench" {
			b.WriteString("pgbench (`-M prepared`, N clients) running\n")
		} else {
			b.WriteString("a pgx loop (N connections) running\n")
		}
		b.WriteString("`BEGIN; INSERT INTO events ...; COMMIT` on a database migrated like the server's, with the data and metadata of\n")
		b.WriteString("a credit event the server stored in this run (fresh event and stream ids). The no-wait rows are a second\n")
		b.WriteString("server started with `READ_YOUR_WRITES_TIMEOUT=0`: the payload holds the latest projected state instead.\n")
		fmt.Fprintf(&b, "Each point: %s warm-up, then %s measured; throughput counts the requests completed in the measured part.\n\n",
			p.point.Warmup, p.point.Measure)
		b.WriteString("| concurrency | what | per second | p50 | p95 | p99 | max | errors | ratio to baseline |\n")
		b.WriteString("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, c := range r.commands {
			row := func(what string, s latencyStats, rt string) {
				fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %d | %s |\n",
					c.Concurrency, what, perSec(s.PerSecond), ms(s.P50), ms(s.P95), ms(s.P99), ms(s.Max), s.Errors, rt)
			}
			row(r.baselineTool+" INSERT transaction", c.Baseline, "")
			if c.Append != nil {
				row("event append (store only)", *c.Append, fmt.Sprintf("%.2f", ratio(c.Append.PerSecond, c.Baseline.PerSecond)))
			}
			row("creditAccount", c.Credits, fmt.Sprintf("%.2f", ratio(c.Credits.PerSecond, c.Baseline.PerSecond)))
			if c.NoWait != nil {
				row("creditAccount, no wait", *c.NoWait, fmt.Sprintf("%.2f", ratio(c.NoWait.PerSecond, c.Baseline.PerSecond)))
			}
		}
		writeErrors(&b, r.commands)
		fmt.Fprintf(&b, appendProse, p.shortPoint.Warmup, p.shortPoint.Measure)
	}
	if l := r.longStream; l != nil {
		b.WriteString("\n### A long stream\n\n")
		fmt.Fprintf(&b, "`creditAccount`"+` as above, one client, %s warm-up and %s measured, first on %d accounts opened just before (a credit picks one at random,
so their streams stay short: a few events each), then on one account whose stream holds %d events (seeded
untimed: one credit, then copies of its event in SQL). Without a cached state the command loads the aggregate by reading its
newest snapshot and the events after it (or its whole stream); with the server's aggregate-state cache (AGGREGATE_CACHE_SIZE, on by
default) the first credit finds its cached state stale (the SQL copies), decides again on the stored stream, and the later ones start
from the state the previous credit left, reading nothing.

`, p.shortPoint.Warmup, p.shortPoint.Measure, r.plan.freshAccounts, l.Events)
		b.WriteString("| stream | per second | p50 | p95 | p99 | max | errors | ratio |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		fmt.Fprintf(&b, "| fresh | %s | %s | %s | %s | %s | %d | |\n", perSec(l.Fresh.PerSecond), ms(l.Fresh.P50), ms(l.Fresh.P95), ms(l.Fresh.P99), ms(l.Fresh.Max), l.Fresh.Errors)
		fmt.Fprintf(&b, "| %d events | %s | %s | %s | %s | %s | %d | %.2f |\n", l.Events, perSec(l.Long.PerSecond), ms(l.Long.P50), ms(l.Long.P95), ms(l.Long.P99), ms(l.Long.Max), l.Long.Errors, ratio(l.Long.PerSecond, l.Fresh.PerSecond))
	}

	if q := r.queries; q != nil {
		b.WriteString("\n## 2. Queries: account(id) beside a constant\n\n")
		fmt.Fprintf(&b, "`account(id)` for one of %d accounts picked at random (`id owner status balance { amount currency } version updatedAt`),\n", p.accounts)
		fmt.Fprintf(&b, "then `{ __typename }` on the same server, %d clients each, closed loop, %s warm-up and %s measured.\n\n",
			q.Concurrency, p.point.Warmup, p.point.Measure)
		b.WriteString("| query | per second | p50 | p95 | p99 | max | errors |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, x := range []struct {
			what string
			s    latencyStats
		}{{"account(id)", q.Account}, {"{ __typename }", q.Constant}} {
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %d |\n", x.what, perSec(x.s.PerSecond), ms(x.s.P50), ms(x.s.P95), ms(x.s.P99), ms(x.s.Max), x.s.Errors)
		}
		fmt.Fprintf(&b, "\nRatio %.2f (aim ≥ %.1f).\n", ratio(q.Account.PerSecond, q.Constant.PerSecond), aimRatio)
	}

	if len(r.lags) > 0 {
		b.WriteString("\n## 3. Projection lag\n\n")
		fmt.Fprintf(&b, `Credits sent open loop at the asked rate (each at its scheduled time, whatever the earlier ones are
doing; at most %d in flight, further ticks dropped and counted), %s warm-up, %s measured. One
connection of the bench LISTENs to the store's `+"`chronicle_events`"+` (sent right after the commits it announces,
coalesced: at most one per 2 ms, its payload the highest last position among them) and the projection's
`+"`chronicle_checkpoints`"+` (`+"`accounts:txid:position`"+`). Lag is the time from a commit notification to the
first checkpoint notification that covers its (transaction id, position); "achieved" counts the credits
completed. Both notifications leave the server a little after what they announce, so the lag is that of
another instance's read-your-writes wait. When the server cannot
sustain the aim's 1,000/s, a second row asks for 60 %% of its best closed-loop rate in item 1.

`, maxInFlight, p.lag.Warmup, p.lag.Measure)
		b.WriteString("| asked | achieved | dropped ticks | commits measured | not projected | lag p50 | lag p99 | lag max | mutation p50 | mutation p99 | errors |\n")
		b.WriteString("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, l := range r.lags {
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %s | %s | %s | %s | %s | %d |\n",
				perSec(float64(l.TargetRate)), perSec(l.Achieved), l.Dropped, l.Events, l.Unprojected,
				ms(l.P50), ms(l.P99), ms(l.Max), ms(l.Mutations.P50), ms(l.Mutations.P99), l.Mutations.Errors)
		}
	}

	r.writeCPU(&b)

	if len(r.subscriptions) > 0 {
		b.WriteString("\n## 4. Commit to subscription frame\n\n")
		b.WriteString(subscriptionsProse)
		b.WriteString("| subscriptions | credits | frames | missing | p50 | p99 | max | memory per idle subscription | cores busy: machine, server, load generator |\n")
		b.WriteString("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, s := range r.subscriptions {
			fmt.Fprintf(&b, "| %d | %d | %d | %d | %s | %s | %s | %.1f KiB | %.2f, %.2f, %.2f |\n",
				s.Subscriptions, s.Mutations, s.Frames, s.Missing, ms(s.P50), ms(s.P99), ms(s.Max), float64(s.RSSPerSub)/1024,
				s.CPU.Machine, s.CPU.Server, s.CPU.Generator)
		}
		if d := r.dashboard; d != nil {
			fmt.Fprintf(&b, "\nDashboards: %d connections with %d `accountUpdated` subscriptions each (to %d accounts), each subscription\n", d.Connections, d.PerConnection, d.PerConnection)
			fmt.Fprintf(&b, "proven live by one frame, then idle: %.1f KiB of server memory per connection (%.1f KiB per subscription).\n",
				float64(d.RSSPerConn)/1024, float64(d.RSSPerConn)/1024/float64(d.PerConnection))
		}
		b.WriteString("\nAims (shared/design.md, issue 14): p99 under 100 ms with 5,000 open subscriptions and under 250 ms with 10,000;\n")
		b.WriteString("under 24 KiB per idle subscription; under 64 KiB per connection with 5 subscriptions.\n")
	}

	if rb := r.rebuild; rb != nil {
		b.WriteString("\n## 5. Projection rebuild\n\n")
		b.WriteString("A database of its own, seeded (untimed) with account histories: accounts opened, then credited and\n")
		b.WriteString("debited with other accounts' operations in between. Timed: the accounts projection rebuilt from zero into\n")
		b.WriteString("fresh tables, indexed, caught up and swapped in.\n\n")
		b.WriteString("| events | seconds | events per second |\n| ---: | ---: | ---: |\n")
		fmt.Fprintf(&b, "| %d | %.1f | %.0f |\n", rb.Events, rb.Seconds, rb.EventsPerSecond)
		fmt.Fprintf(&b, "\nAim (shared/design.md): at least %d events per second.\n", aimRebuildRate)
	}

	if o := r.overload; o != nil {
		b.WriteString("\n## 6. An ordinary query under a flood (issue 10, item 7)\n\n")
		fmt.Fprintf(&b, "A fresh server with its defaults (MAX_CONCURRENT_REQUESTS, REQUEST_TIMEOUT); %d clients, one connection each,\n", o.Flood)
		b.WriteString("send `creditAccount` in a closed loop; one more client sends `account(id)` one at a time. Requests beyond the\n")
		b.WriteString("concurrency bound are refused at once with 503 OVERLOADED: the probe's refusals are counted apart, and its\n")
		b.WriteString("latency is that of the answered queries.\n\n")
		b.WriteString("| probe answered | probe refused (503) | probe p50 | probe p99 | probe max | flood served/s | flood refused/s | flood other errors |\n")
		b.WriteString("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		fmt.Fprintf(&b, "| %d | %d | %s | %s | %s | %.0f | %.0f | %d %s |\n", o.ProbeAnswers, o.ProbeRefused, ms(o.Probe.P50), ms(o.Probe.P99),
			ms(o.Probe.Max), o.FloodServed, o.FloodRefused, o.FloodErrors, o.FloodFirstError)
		fmt.Fprintf(&b, "\nAim (shared/design.md): p99 under %s while 2,000 requests flood the server.\n", ms(aimOverloadP99))
	}

	if s := r.snapshots; s != nil {
		writeSnapshots(&b, p, s)
	}

	b.WriteString("\n")
	b.WriteString(limits)
	return b.String()
}

// writeSnapshots writes item 7's section.
func writeSnapshots(b *strings.Builder, p plan, s *snapshotResult) {
	b.WriteString("\n## 7. Snapshots: a command on a long stream (issue 12)\n\n")
	fmt.Fprintf(b, "`creditAccount`"+` as in item 1, one client, %s warm-up and %s measured, on two servers started one after the
other: one with `+"`SNAPSHOT_EVERY=%d`"+` (the default), one with `+"`SNAPSHOT_EVERY=0`"+` (snapshots off). On each, first on %d
accounts opened just before (fresh streams of a few events), then on one account whose stream holds %d events (seeded
untimed: one credit, then copies of its event in SQL; the measure starts once the projection has caught up and, with
snapshots, once the stream's snapshot is written). Both servers run with the aggregate-state cache off
(`+"`AGGREGATE_CACHE_SIZE=0`"+`), so that every command loads its aggregate: without snapshots it reads and folds the whole
stream; with them it reads the latest snapshot and the events after it.
`, p.shortPoint.Warmup, p.shortPoint.Measure, s.Every, p.freshAccounts, s.Events)
	b.WriteString("\nThe ratios are the long stream's rate beside the fresh accounts' on the same server, and the fresh accounts'\n")
	b.WriteString("median latency beside the long stream's (less moved by a neighbour's stall than the rate).\n\n")
	b.WriteString("| server | stream | per second | p50 | p95 | p99 | max | errors | ratio to fresh | p50 ratio |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, side := range []struct {
		name string
		s    snapshotSide
	}{{fmt.Sprintf("snapshots every %d", s.Every), s.With}, {"no snapshots", s.Without}} {
		row := func(stream string, st latencyStats, rt ...string) {
			rt = append(rt, "", "")
			fmt.Fprintf(b, "| %s | %s | %.1f/s | %s | %s | %s | %s | %d | %s | %s |\n",
				side.name, stream, st.PerSecond, ms(st.P50), ms(st.P95), ms(st.P99), ms(st.Max), st.Errors, rt[0], rt[1])
		}
		row("fresh", side.s.Fresh)
		row(fmt.Sprintf("%d events", s.Events), side.s.Long, fmt.Sprintf("%.2f", ratio(side.s.Long.PerSecond, side.s.Fresh.PerSecond)),
			fmt.Sprintf("%.2f", ratio(float64(side.s.Fresh.P50), float64(side.s.Long.P50))))
	}
	fmt.Fprintf(b, "\nWith snapshots the long stream's commands run %.1f times as fast as without.\n", ratio(s.With.Long.PerSecond, s.Without.Long.PerSecond))
}

// appendProse says how item 1's store-only rows are measured.
const appendProse = `
The event append rows run no server: N goroutines of the bench append, through ` + "`eventstore.Store`" + ` on a pool of N
connections, the baseline's event row to a fresh stream each (expected version: no stream), in the baseline's
database: the store's statement (stream lock, stream row, event row) in autocommit, beside pgbench's INSERT
transaction at the same concurrency; %s warm-up, %s measured (no server to warm up). The store groups its appends as
the server's does (group commit, ` + "`APPEND_GROUPS`" + ` 2): while two statements are in flight, the appends that arrive go out
together in the next one, so one pgbench transaction carries one event row and one of the store's may carry up to 64.
`

// subscriptionsProse says how item 4 is measured.
const subscriptionsProse = `One server process; N websocket connections (graphql-transport-ws), each with one
` + "`accountUpdated`" + ` subscription to the same account; credits one after another, 100 ms apart.
Latency runs from the appending transaction's ` + "`recorded_at`" + ` (the account's ` + "`updatedAt`" + `, taken at
transaction start, so the commit itself is included) to the frame's arrival at the client.
Memory is the growth of the server's resident set with the subscriptions idle, per subscription
(a connection each, so it includes the websocket's buffers and goroutines). Cores busy are those of
the credits and their frames: the whole machine, the server, and this load generator (whose readers
decode every frame).

`

// writeCPU tells where the CPU went in each scenario of items 1 to 3.
func (r *report) writeCPU(b *strings.Builder) {
	if len(r.commands) == 0 {
		return
	}
	b.WriteString("\n## Where the CPU went (items 1 to 3)\n\n")
	fmt.Fprintf(b, "Cores busy on average over each measured window (of %d): the whole machine (other work on it included; in\n", runtime.NumCPU())
	b.WriteString("brackets the cores idle waiting for I/O), the server process, the PostgreSQL backends connected to the\n")
	b.WriteString("server's database, and this load generator; then CPU time per request. For pgbench the machine and pgbench itself (in the load generator column) are known; on a quiet machine\n")
	b.WriteString("the rest is PostgreSQL. The last two columns are the oldest writing transaction seen open (polled every 50 ms)\n")
	b.WriteString("in the server's database and in the cluster's other databases: projections read only below the oldest running\n")
	b.WriteString("transaction id of the whole cluster, so a long one elsewhere holds every read-your-writes wait back. Cluster WAL is\n")
	b.WriteString("what the whole PostgreSQL cluster wrote (pg_stat_wal), to see a neighbour competing for the WAL flush every commit waits on.\n\n")
	b.WriteString("| scenario | machine (iowait) | server | postgres backends | load generator | server per request | postgres per request | oldest write tx, own db | oldest write tx, other dbs | cluster WAL |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	row := func(what string, u cpuUse, perSecond float64) {
		if u.Server == 0 && u.Postgres == 0 {
			fmt.Fprintf(b, "| %s | %.2f (%.2f) | | | %.2f | | | | | |\n", what, u.Machine, u.IOWait, u.Generator)
			return
		}
		per := func(cores float64) string {
			if perSecond == 0 {
				return ""
			}
			return fmt.Sprintf("%.0f µs", cores/perSecond*1e6)
		}
		fmt.Fprintf(b, "| %s | %.2f (%.2f) | %.2f | %.2f | %.2f | %s | %s | %s | %s | %.1f MB/s |\n",
			what, u.Machine, u.IOWait, u.Server, u.Postgres, u.Generator, per(u.Server), per(u.Postgres), ms(u.OwnXact), ms(u.OtherXact), u.WALBytes/1e6)
	}
	for _, c := range r.commands {
		row(fmt.Sprintf("%s, concurrency %d", r.baselineTool, c.Concurrency), c.Baseline.CPU, c.Baseline.PerSecond)
		row(fmt.Sprintf("creditAccount, concurrency %d", c.Concurrency), c.Credits.CPU, c.Credits.PerSecond)
		if c.NoWait != nil {
			row(fmt.Sprintf("creditAccount no wait, concurrency %d", c.Concurrency), c.NoWait.CPU, c.NoWait.PerSecond)
		}
	}
	if q := r.queries; q != nil {
		row(fmt.Sprintf("account(id), concurrency %d", q.Concurrency), q.Account.CPU, q.Account.PerSecond)
		row(fmt.Sprintf("{ __typename }, concurrency %d", q.Concurrency), q.Constant.CPU, q.Constant.PerSecond)
	}
	for _, l := range r.lags {
		row(fmt.Sprintf("credits open loop, %d/s asked", l.TargetRate), l.CPU, l.Achieved)
	}
}

// writeErrors lists the first error of each command point that had any.
func writeErrors(b *strings.Builder, points []commandPoint) {
	for _, c := range points {
		rows := []struct {
			what string
			s    *latencyStats
		}{{"baseline", &c.Baseline}, {"creditAccount", &c.Credits}, {"creditAccount, no wait", c.NoWait}}
		for _, row := range rows {
			if row.s != nil && row.s.Errors > 0 {
				fmt.Fprintf(b, "\nConcurrency %d, %s: %d errors, the first: `%s`\n", c.Concurrency, row.what, row.s.Errors, row.s.FirstError)
			}
		}
	}
}
