// Package faultproxy is a TCP proxy for tests that inject network faults
// between a client and a real server (PostgreSQL, Redis): it forwards
// connections until told to blackhole them (keep every connection open but
// carry nothing: a silently dead network path) or to cut them.
package faultproxy

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy forwards TCP connections to a target. Its methods are safe for
// concurrent use.
type Proxy struct {
	ln     net.Listener
	target string
	frozen atomic.Bool
	down   atomic.Bool

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// Start listens on a free loopback port and forwards every connection to
// target (host:port). It stops, closing every connection, when t ends.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("faultproxy: %v", err)
	}
	p := &Proxy{ln: ln, target: target, conns: make(map[net.Conn]struct{})}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		_ = ln.Close()
		p.Cut()
		p.mu.Lock()
		p.conns = nil // track refuses connections accepted from now on
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// Addr is the proxy's host:port, to connect to instead of the target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Freeze stops (true) or resumes (false) carrying data. While frozen,
// connections stay open and new ones are accepted, but every byte is
// dropped: calls through it hang until their own timeouts. Resuming closes
// the connections that were frozen, whose streams are now broken (the
// target keeps its state, as after a healed partition).
func (p *Proxy) Freeze(on bool) {
	p.frozen.Store(on)
	if !on {
		p.Cut()
	}
}

// Down makes the target unreachable (true) or reachable again (false):
// while down, open connections are cut and new ones are closed at once, as
// when the server is stopped (calls fail fast rather than hang).
func (p *Proxy) Down(on bool) {
	p.down.Store(on)
	if on {
		p.Cut()
	}
}

// Cut closes every open connection (a reset path); new ones are accepted.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
		delete(p.conns, c)
	}
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.down.Load() {
			_ = client.Close()
			continue
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		if !p.track(client) || !p.track(server) {
			_ = client.Close()
			_ = server.Close()
			continue
		}
		p.wg.Go(func() { p.pipe(server, client) })
		p.wg.Go(func() { p.pipe(client, server) })
	}
}

// pipe copies from src to dst, dropping what it reads while frozen, until
// either side fails; then it closes both.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.frozen.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
