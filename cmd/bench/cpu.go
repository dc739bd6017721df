package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// clockTicks is the kernel's USER_HZ, the unit of the CPU times in /proc
// (100 on every Linux this runs on).
const clockTicks = 100

// cpuUse is where the CPU went during a measured window, in cores busy on
// average (CPU seconds per second of wall time).
type cpuUse struct {
	// Machine is every process on the host, others' included: a noisy
	// neighbour shows here. IOWait is idle time with I/O outstanding (a
	// disk that makes commits wait on their WAL flush).
	Machine, IOWait float64
	// Server is the server process; Postgres the backends serving its
	// database; Generator this load generator.
	Server, Postgres, Generator float64
	// OwnXact and OtherXact are the oldest writing transaction seen open
	// (polled every 50 ms) in the server's database and in every other
	// database of the cluster. A projection reads only below the oldest
	// running transaction id of the whole cluster, so a long OtherXact
	// holds the projection, and every read-your-writes wait, back.
	OwnXact, OtherXact time.Duration
	// WALBytes is the WAL the whole cluster wrote per second
	// (pg_stat_wal): far more than the scenario's own shows a neighbour
	// competing for the WAL flush that every commit waits on.
	WALBytes float64
}

// cpuSample is the CPU seconds used so far, by part.
type cpuSample struct {
	at                                   time.Time
	machine, server, postgres, generator float64
	iowait, wal                          float64
	ok                                   bool
}

// cpuMeter measures the CPU of a server, the PostgreSQL backends of its
// database, this process and the machine over a window.
type cpuMeter struct {
	ctx      context.Context
	srv      *serverProcess
	backends []int
	start    cpuSample
	// stopXacts ends the transaction poller and returns what it saw.
	stopXacts func() (own, other time.Duration)
}

// startCPU samples the CPU counters at the start of a window. srv may be
// nil (only the machine and this process are measured then).
func startCPU(ctx context.Context, srv *serverProcess) *cpuMeter {
	m := &cpuMeter{ctx: ctx, srv: srv}
	if srv != nil {
		m.backends, _ = backendPIDs(ctx, srv.adminURL, srv.database)
		m.stopXacts = pollOpenTransactions(ctx, srv.adminURL, srv.database)
	}
	m.start = m.sample()
	return m
}

// pollOpenTransactions polls, until the returned function is called, the
// age of the oldest transaction holding a transaction id, in database and
// elsewhere on the cluster, and returns the largest ages seen.
func pollOpenTransactions(ctx context.Context, adminURL, database string) func() (own, other time.Duration) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var own, other time.Duration
	go func() {
		defer close(done)
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			var o, x float64
			err := conn.QueryRow(ctx, `
				SELECT coalesce(extract(epoch FROM max(clock_timestamp() - xact_start) FILTER (WHERE datname = $1)), 0)::float8,
				       coalesce(extract(epoch FROM max(clock_timestamp() - xact_start) FILTER (WHERE datname IS DISTINCT FROM $1)), 0)::float8
				FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()`, database).Scan(&o, &x)
			if err == nil {
				own = max(own, time.Duration(o*float64(time.Second)))
				other = max(other, time.Duration(x*float64(time.Second)))
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() (time.Duration, time.Duration) {
		cancel()
		<-done
		return own, other
	}
}

// stop returns the average use since startCPU.
func (m *cpuMeter) stop() cpuUse {
	end := m.sample()
	var u cpuUse
	if m.stopXacts != nil {
		u.OwnXact, u.OtherXact = m.stopXacts()
	}
	wall := end.at.Sub(m.start.at).Seconds()
	if !m.start.ok || !end.ok || wall <= 0 {
		return u
	}
	u.Machine = (end.machine - m.start.machine) / wall
	u.IOWait = (end.iowait - m.start.iowait) / wall
	u.Server = (end.server - m.start.server) / wall
	u.Postgres = (end.postgres - m.start.postgres) / wall
	u.Generator = (end.generator - m.start.generator) / wall
	u.WALBytes = (end.wal - m.start.wal) / wall
	return u
}

func (m *cpuMeter) sample() cpuSample {
	s := cpuSample{at: time.Now(), ok: true}
	var err error
	if s.machine, s.iowait, err = machineSeconds(); err != nil {
		s.ok = false
	}
	s.generator, _ = processSeconds(os.Getpid())
	s.wal = clusterWALBytes(m.ctx)
	if m.srv != nil {
		s.server, _ = processSeconds(m.srv.cmd.Process.Pid)
	}
	for _, pid := range m.backends {
		// A backend that has gone away counts for nothing at both ends.
		if v, err := processSeconds(pid); err == nil {
			s.postgres += v
		}
	}
	return s
}

// backendPIDs lists the PostgreSQL backends connected to database.
func backendPIDs(ctx context.Context, adminURL, database string) ([]int, error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = $1`, database)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int])
}

// clusterWALBytes is the WAL written by the whole cluster since its
// statistics were reset (0 when unknown).
func clusterWALBytes(ctx context.Context) float64 {
	admin, err := adminDatabaseURL()
	if err != nil {
		return 0
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return 0
	}
	defer conn.Close(ctx)
	var b float64
	_ = conn.QueryRow(ctx, `SELECT wal_bytes::float8 FROM pg_stat_wal`).Scan(&b)
	return b
}

// processSeconds is the user and system CPU time of process pid.
func processSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after it are fixed.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	// utime and stime are fields 14 and 15 of the whole line.
	utime, err1 := strconv.ParseFloat(fields[11], 64)
	stime, err2 := strconv.ParseFloat(fields[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	return (utime + stime) / clockTicks, nil
}

// machineSeconds is the CPU time all cores have spent since boot on
// anything but idle and iowait (busy), and in iowait.
func machineSeconds() (busy, iowait float64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	if len(fields) < 8 || fields[0] != "cpu" {
		return 0, 0, fmt.Errorf("unexpected /proc/stat")
	}
	// user nice system idle iowait irq softirq steal guest guest_nice
	for i, f := range fields[1:] {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return 0, 0, err
		}
		switch {
		case i == 4:
			iowait += v
		case i == 3 || i >= 7: // idle; steal, and guest (counted in user)
		default:
			busy += v
		}
	}
	return busy / clockTicks, iowait / clockTicks, nil
}
