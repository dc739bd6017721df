package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// profileSeconds is how long a server CPU profile runs; a profiled scenario
// measures at least this long.
const profileSeconds = 10

// profiler grabs one CPU profile of the server during the scenario named
// by -profile.
type profiler struct {
	scenario string // "" for none
	dir      string // where the profile file goes
	done     chan struct{}
	err      error
	file     string
}

// wants reports whether scenario is the one to profile.
func (p *profiler) wants(scenario string) bool { return p != nil && p.scenario == scenario }

// window returns w, lengthened to cover a whole profile when scenario is
// the one to profile.
func (p *profiler) window(scenario string, w window) window {
	if p.wants(scenario) {
		w.Measure = max(w.Measure, profileSeconds*time.Second)
	}
	return w
}

// start returns a function that, called when scenario's measured part
// begins, starts a CPU profile of srv in the background (nil when scenario
// is not the one to profile).
func (p *profiler) start(ctx context.Context, scenario string, srv *serverProcess) func() {
	if !p.wants(scenario) {
		return nil
	}
	return func() {
		p.done = make(chan struct{})
		p.file = fmt.Sprintf("%s/bench-%s.cpu.pprof", p.dir, scenario)
		go func() {
			defer close(p.done)
			p.err = fetchProfile(ctx, srv, p.file)
		}()
	}
}

// wait waits for a profile started by start and reports where it went.
func (p *profiler) wait(logf func(string, ...any)) error {
	if p == nil || p.done == nil {
		return nil
	}
	<-p.done
	p.done = nil
	if p.err != nil {
		return fmt.Errorf("cpu profile: %w", p.err)
	}
	logf("server CPU profile of %s (%d s) in %s: go tool pprof -top %s", p.scenario, profileSeconds, p.file, p.file)
	return nil
}

// fetchProfile writes a CPU profile of srv, profileSeconds long, to file.
func fetchProfile(ctx context.Context, srv *serverProcess, file string) error {
	return fetchPprof(ctx, srv, fmt.Sprintf("profile?seconds=%d", profileSeconds), file)
}

// heapProfiles writes, when scenario is the one to profile, a heap profile
// (after a GC) and a goroutine profile of srv to the profile directory, and
// says where they went.
func (p *profiler) heapProfiles(ctx context.Context, scenario string, srv *serverProcess) error {
	if !p.wants(scenario) {
		return nil
	}
	for _, kind := range []string{"heap", "goroutine"} {
		file := fmt.Sprintf("%s/bench-%s.%s.pprof", p.dir, scenario, kind)
		if err := fetchPprof(ctx, srv, kind+"?gc=1", file); err != nil {
			return fmt.Errorf("%s profile: %w", kind, err)
		}
		logf("server %s profile of %s in %s: go tool pprof -sample_index=inuse_space -top %s", kind, scenario, file, file)
	}
	return nil
}

// fetchPprof writes srv's /debug/pprof/<path> to file.
func fetchPprof(ctx context.Context, srv *serverProcess, path, file string) error {
	if srv.pprofAddr == "" {
		return fmt.Errorf("server built without pprof")
	}
	ctx, cancel := context.WithTimeout(ctx, (profileSeconds+30)*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/%s", srv.pprofAddr, path), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
