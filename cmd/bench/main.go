// Command bench measures a Chronicle server built from this checkout, on
// loopback, and writes what it measured to docs/benchmarks.md. It starts
// what it needs (the server, on a fresh database), stops it afterwards, and
// leaves nothing running.
//
//	go run ./cmd/bench                    # the full run
//	go run ./cmd/bench -quick             # a shorter run
//	go run ./cmd/bench -out ''            # print only
//
// PostgreSQL (DATABASE_URL) must be reachable; REDIS_URL, when set, is
// passed to the server, so the fan-out goes through Redis as in production.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	quick := flag.Bool("quick", false, "fewer subscriptions and mutations")
	out := flag.String("out", "docs/benchmarks.md", "file to write the report to ('' for none)")
	flag.Parse()
	if err := run(*quick, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(quick bool, out string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	work, err := os.MkdirTemp("", "chronicle-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	command := "go run ./cmd/bench"
	sizes, mutations := []int{1000, 5000}, 30
	if quick {
		command += " -quick"
		sizes, mutations = []int{1000}, 10
	}
	rep := newReport(command)
	for _, n := range sizes {
		// A fresh server per size, so one size's memory does not count in
		// the next.
		srv, err := startServer(ctx, work)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "bench: %d subscriptions...\n", n)
		res, err := runSubscriptions(ctx, srv, n, mutations)
		srv.stop()
		if err != nil {
			return fmt.Errorf("%d subscriptions: %w", n, err)
		}
		rep.subscriptions = append(rep.subscriptions, res)
	}
	text := rep.markdown()
	fmt.Print(text)
	if out != "" {
		if err := os.WriteFile(out, []byte(text), 0o644); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "bench: wrote", out)
	}
	return nil
}

// report is everything one run measured, and where.
type report struct {
	command       string
	date          time.Time
	machine       string
	subscriptions []subscriptionResult
}

func newReport(command string) *report {
	return &report{command: command, date: time.Now().UTC(), machine: machine()}
}

func (r *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\n")
	fmt.Fprintf(&b, "Written by `%s` on %s, on %s. Every number below comes from that one run.\n\n",
		r.command, r.date.Format("2006-01-02 15:04 MST"), r.machine)
	if len(r.subscriptions) > 0 {
		b.WriteString("## Commit to subscription frame\n\n")
		b.WriteString("One server process; N websocket connections (graphql-transport-ws), each with one\n")
		b.WriteString("`accountUpdated` subscription to the same account; credits one after another, 100 ms apart.\n")
		b.WriteString("Latency runs from the appending transaction's `recorded_at` (the account's `updatedAt`, taken at\n")
		b.WriteString("transaction start, so the commit itself is included) to the frame's arrival at the client.\n")
		b.WriteString("Memory is the growth of the server's resident set with the subscriptions idle, per subscription\n")
		b.WriteString("(a connection each, so it includes the websocket's buffers and goroutines).\n\n")
		b.WriteString("| subscriptions | credits | frames | missing | p50 | p99 | max | memory per idle subscription |\n")
		b.WriteString("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, s := range r.subscriptions {
			fmt.Fprintf(&b, "| %d | %d | %d | %d | %s | %s | %s | %.1f KiB |\n",
				s.Subscriptions, s.Mutations, s.Frames, s.Missing, ms(s.P50), ms(s.P99), ms(s.Max), float64(s.RSSPerSub)/1024)
		}
		b.WriteString("\nAims (shared/design.md): p99 under 100 ms with 5,000 open subscriptions; under 32 KiB per idle subscription.\n")
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// percentile returns the q-quantile (0..1) of ds by the nearest-rank method.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

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
