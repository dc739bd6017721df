package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/chronicle-es/chronicle/internal/config"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// serverProcess is a Chronicle server built from this checkout and run as a
// child process on loopback, on a database of its own, so that its memory
// can be read apart from the load generator's.
type serverProcess struct {
	cmd      *exec.Cmd
	baseURL  string
	database string
	dbURL    string // the server's own database
	adminURL string
	logFile  *os.File
	stopOnce sync.Once
	// pprofAddr is where the server serves net/http/pprof ("" when the
	// binary was built without it).
	pprofAddr string
}

// serverBinary is a built server and whether it serves pprof.
type serverBinary struct {
	path  string
	pprof bool
}

// pprofOverlay is added to the server's main package (go build -overlay,
// nothing is written into the checkout) when a profile is asked for: it
// serves net/http/pprof's DefaultServeMux on CHRONICLE_BENCH_PPROF. The
// server's API has a mux of its own, so nothing else is exposed.
const pprofOverlay = `package main

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	if addr := os.Getenv("CHRONICLE_BENCH_PPROF"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}
`

// buildServer builds the server from the checkout in the working directory
// into workDir, with pprof when withPprof is set.
func buildServer(ctx context.Context, workDir string, withPprof bool) (serverBinary, error) {
	bin := serverBinary{path: filepath.Join(workDir, "chronicle"), pprof: withPprof}
	args := []string{"build", "-o", bin.path}
	if withPprof {
		root, err := os.Getwd()
		if err != nil {
			return bin, err
		}
		src := filepath.Join(workDir, "bench_pprof.go")
		if err := os.WriteFile(src, []byte(pprofOverlay), 0o644); err != nil {
			return bin, err
		}
		overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(root, "zz_bench_pprof.go"): src}})
		overlayFile := filepath.Join(workDir, "overlay.json")
		if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
			return bin, err
		}
		args = append(args, "-overlay", overlayFile)
	}
	build := exec.CommandContext(ctx, "go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return bin, fmt.Errorf("build server: %w", err)
	}
	return bin, nil
}

// startServer creates a fresh database and starts bin on it, on a free
// port, in dev mode (requests need no token). env adds to the process
// environment.
func startServer(ctx context.Context, bin serverBinary, workDir string, env ...string) (*serverProcess, error) {
	adminURL, err := adminDatabaseURL()
	if err != nil {
		return nil, err
	}
	dbName := fmt.Sprintf("chronicle_bench_%d", time.Now().UnixNano())
	if err := adminExec(ctx, adminURL, "CREATE DATABASE "+dbName); err != nil {
		return nil, err
	}
	dbURL, err := withDatabase(adminURL, dbName)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(workDir, dbName+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin.path)
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+dbURL,
		"PORT="+strconv.Itoa(port),
		"CHRONICLE_DEV=true",
		"LOG_LEVEL=warn",
	)
	s := &serverProcess{cmd: cmd, baseURL: fmt.Sprintf("http://127.0.0.1:%d", port), database: dbName, dbURL: dbURL, adminURL: adminURL, logFile: logFile}
	if bin.pprof {
		pport, err := freePort()
		if err != nil {
			return nil, err
		}
		s.pprofAddr = fmt.Sprintf("127.0.0.1:%d", pport)
		cmd.Env = append(cmd.Env, "CHRONICLE_BENCH_PPROF="+s.pprofAddr)
	}
	cmd.Env = append(append(cmd.Env, serverEnv...), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		_ = adminExec(context.WithoutCancel(ctx), adminURL, "DROP DATABASE IF EXISTS "+dbName+" WITH (FORCE)")
		return nil, fmt.Errorf("start server: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.baseURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop()
			return nil, fmt.Errorf("server not ready after 30s (log: %s)", logFile.Name())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop ends the server (SIGTERM, then SIGKILL after 20 s) and drops its
// database. Calls after the first do nothing.
func (s *serverProcess) stop() { s.stopOnce.Do(s.stopNow) }

func (s *serverProcess) stopNow() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.logFile.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = adminExec(ctx, s.adminURL, "DROP DATABASE IF EXISTS "+s.database+" WITH (FORCE)")
}

// rssBytes returns the server process's resident set size.
func (s *serverProcess) rssBytes() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// graphql posts one operation and decodes its data into out.
func (s *serverProcess) graphql(ctx context.Context, query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.baseURL+"/query", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return fmt.Errorf("decode response (HTTP %d): %w", resp.StatusCode, err)
	}
	if len(r.Errors) > 0 {
		return fmt.Errorf("graphql: %s", r.Errors[0].Message)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(r.Data, out)
}

func adminExec(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

func withDatabase(rawURL, db string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	u.Path = "/" + db
	return u.String(), nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// adminDatabaseURL is DATABASE_URL pointed at the "postgres" maintenance
// database, from where the bench creates and drops databases of its own
// (chronicle_bench_*), whether or not DATABASE_URL's database exists.
func adminDatabaseURL() (string, error) {
	return withDatabase(envOr("DATABASE_URL", config.DefaultDatabaseURL), "postgres")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
