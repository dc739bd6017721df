package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/chronicle-es/chronicle/internal/database"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgbenchPath is Debian's pgbench (package postgresql-15).
const pgbenchPath = "/usr/lib/postgresql/15/bin/pgbench"

// eventRow is one event row as the server stored it for a credit; the
// baseline appends copies of it.
type eventRow struct {
	StreamType, Type string
	SchemaVersion    int
	Data, Metadata   string
}

// baselineInsert appends one event row, with fresh event and stream ids, in
// a transaction of its own. The parameters are the row's stream type, type,
// schema version, data and metadata.
const baselineInsert = `INSERT INTO events (event_id, stream_id, stream_type, version, type, schema_version, data, metadata)
VALUES (gen_random_uuid(), gen_random_uuid(), $1, 1, $2, $3, $4, $5)`

// baseline is PostgreSQL's own ceiling for the write path: a database of
// its own, migrated like the server's, where pgbench (or, without pgbench, a
// pgx loop) appends the same event row in a transaction, at the same
// concurrency as the mutations it is set beside.
type baseline struct {
	adminURL, database, dbURL string
	dir                       string
	row                       eventRow
	// tool names what runs the transactions ("pgbench" or "pgx loop").
	tool string
}

// newBaseline creates and migrates the baseline database.
func newBaseline(ctx context.Context, workDir string, row eventRow) (*baseline, error) {
	adminURL, err := adminDatabaseURL()
	if err != nil {
		return nil, err
	}
	b := &baseline{
		adminURL: adminURL,
		database: fmt.Sprintf("chronicle_bench_baseline_%d", time.Now().UnixNano()),
		dir:      workDir,
		row:      row,
		tool:     "pgbench",
	}
	if _, err := os.Stat(pgbenchPath); err != nil {
		b.tool = "pgx loop"
	}
	if b.dbURL, err = withDatabase(b.adminURL, b.database); err != nil {
		return nil, err
	}
	if err := adminExec(ctx, b.adminURL, "CREATE DATABASE "+b.database); err != nil {
		return nil, err
	}
	pool, err := database.Open(ctx, b.dbURL, 1)
	if err == nil {
		err = database.Migrate(ctx, pool)
		pool.Close()
	}
	if err != nil {
		b.drop()
		return nil, err
	}
	return b, nil
}

// drop drops the baseline database.
func (b *baseline) drop() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = adminExec(ctx, b.adminURL, "DROP DATABASE IF EXISTS "+b.database+" WITH (FORCE)")
}

// run appends rows at concurrency c for w (warm-up, then measured).
func (b *baseline) run(ctx context.Context, c int, w window) (latencyStats, error) {
	if b.tool == "pgbench" {
		return b.pgbench(ctx, c, w)
	}
	return b.pgxLoop(ctx, c, w)
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+)`)

// pgbench runs pgbench with c clients (prepared statements, the row as
// bind parameters), once for the warm-up and once measured with a
// per-transaction log for the percentiles. pgbench counts whole seconds:
// both parts are rounded up.
func (b *baseline) pgbench(ctx context.Context, c int, w window) (latencyStats, error) {
	script := filepath.Join(b.dir, "baseline.sql")
	sql := strings.NewReplacer("$1", ":stype", "$2", ":etype", "$3", ":sv", "$4", ":data", "$5", ":meta").
		Replace(strings.ReplaceAll(baselineInsert, "\n", " "))
	if err := os.WriteFile(script, []byte("BEGIN;\n"+sql+";\nCOMMIT;\n"), 0o644); err != nil {
		return latencyStats{}, err
	}
	logDir, err := os.MkdirTemp(b.dir, "pgbench-log-")
	if err != nil {
		return latencyStats{}, err
	}
	defer os.RemoveAll(logDir)
	seconds := func(d time.Duration) string { return strconv.Itoa(int(math.Ceil(d.Seconds()))) }
	// runOnce runs pgbench for d and returns its output and CPU seconds.
	runOnce := func(d time.Duration, extra ...string) (string, float64, error) {
		args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(c), "-j", strconv.Itoa(min(c, 4)),
			"-T", seconds(d), "-f", script,
			"-D", "stype=" + b.row.StreamType, "-D", "etype=" + b.row.Type,
			"-D", "sv=" + strconv.Itoa(b.row.SchemaVersion), "-D", "data=" + b.row.Data, "-D", "meta=" + b.row.Metadata}
		args = append(append(args, extra...), b.dbURL)
		cmd := exec.CommandContext(ctx, pgbenchPath, args...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", 0, fmt.Errorf("pgbench -c %d: %w: %s", c, err, out)
		}
		return string(out), (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds(), nil
	}
	if _, _, err := runOnce(w.Warmup); err != nil {
		return latencyStats{}, err
	}
	prefix := filepath.Join(logDir, "tx")
	meter := startCPU(ctx, nil)
	out, pgbenchCPU, err := runOnce(w.Measure, "-l", "--log-prefix="+prefix)
	cpu := meter.stop()
	if err != nil {
		return latencyStats{}, err
	}
	samples, err := readPgbenchLogs(prefix)
	if err != nil {
		return latencyStats{}, err
	}
	measured, _ := time.ParseDuration(seconds(w.Measure) + "s")
	st := summarize(samples, 0, "", measured)
	// pgbench's backends come and go with its run: only the machine and
	// pgbench itself (as the load generator) are known.
	st.CPU = cpuUse{Machine: cpu.Machine, Generator: pgbenchCPU / measured.Seconds()}
	if m := tpsLine.FindStringSubmatch(out); m != nil {
		// pgbench's own figure leaves out connection set-up.
		st.PerSecond, _ = strconv.ParseFloat(m[1], 64)
	}
	return st, nil
}

// readPgbenchLogs reads the latencies from pgbench's per-transaction logs
// (one file per thread; the third field is the latency in microseconds).
func readPgbenchLogs(prefix string) ([]time.Duration, error) {
	files, err := filepath.Glob(prefix + ".*")
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no pgbench logs at %s (%v)", prefix, err)
	}
	var out []time.Duration
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 3 {
				continue
			}
			us, err := strconv.ParseInt(fields[2], 10, 64)
			if err != nil {
				continue
			}
			out = append(out, time.Duration(us)*time.Microsecond)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pgxLoop is the baseline without pgbench: c goroutines on c connections,
// each running BEGIN; INSERT; COMMIT back to back.
func (b *baseline) pgxLoop(ctx context.Context, c int, w window) (latencyStats, error) {
	cfg, err := pgxpool.ParseConfig(b.dbURL)
	if err != nil {
		return latencyStats{}, err
	}
	cfg.MaxConns, cfg.MinConns = int32(c), int32(c)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return latencyStats{}, err
	}
	defer pool.Close()
	r := b.row
	var meter *cpuMeter
	h := hooks{begin: func() { meter = startCPU(ctx, nil) }}
	st := closedLoop(ctx, c, w, h, func(ctx context.Context) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, baselineInsert, r.StreamType, r.Type, r.SchemaVersion, r.Data, r.Metadata)
			return err
		})
	})
	st.CPU = meter.stop()
	return st, nil
}
