package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
)

// get sends a GET with the given headers and returns the response and its
// (raw, not decompressed) body.
func get(t *testing.T, url string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxTimeout(t, 10*time.Second), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if header != nil {
		req.Header = header.Clone()
	}
	client := &http.Client{
		// Raw bodies: the test looks at the encoding itself.
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// TestWebAppServed: the embedded app at /app/, with the SPA fallback,
// content types, caching and gzip a browser needs.
func TestWebAppServed(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)

	resp, index := get(t, srv.URL+"/app/", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		resp.Header.Get("Cache-Control") != "no-cache" || !bytes.Contains(index, []byte(`<div id="root">`)) {
		t.Fatalf("GET /app/: %d %v\n%s", resp.StatusCode, resp.Header, index)
	}
	// The app's own routes get index.html (the SPA fallback).
	for _, path := range []string{"/app/accounts", "/app/payments?window=7d", "/app/deep/link"} {
		if resp, body := get(t, srv.URL+path, nil); resp.StatusCode != http.StatusOK || !bytes.Equal(body, index) {
			t.Errorf("GET %s: %d, not index.html", path, resp.StatusCode)
		}
	}
	if resp, _ := get(t, srv.URL+"/app", nil); resp.StatusCode/100 != 3 || resp.Header.Get("Location") != "/app/" {
		t.Errorf("GET /app: %d to %q, want a redirect to /app/", resp.StatusCode, resp.Header.Get("Location"))
	}

	script := regexp.MustCompile(`src="(/app/assets/[^"]+\.js)"`).FindSubmatch(index)
	if script == nil {
		t.Fatalf("no script in index.html:\n%s", index)
	}
	resp, plain := get(t, srv.URL+string(script[1]), nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") ||
		resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("GET %s: %d %v", script[1], resp.StatusCode, resp.Header)
	}
	resp, zipped := get(t, srv.URL+string(script[1]), http.Header{"Accept-Encoding": {"br, gzip"}})
	if resp.Header.Get("Content-Encoding") != "gzip" || len(zipped) >= len(plain) {
		t.Fatalf("gzip: %v, %d bytes of %d", resp.Header, len(zipped), len(plain))
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	if err != nil {
		t.Fatal(err)
	}
	if unzipped, err := io.ReadAll(zr); err != nil || !bytes.Equal(unzipped, plain) {
		t.Fatalf("gzipped body differs from the plain one (%v)", err)
	}
	// An asset of another build is a 404, not index.html.
	if resp, _ := get(t, srv.URL+"/app/assets/index-0ld8uild.js", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing asset: %d, want 404", resp.StatusCode)
	}
}

// preflightFrom sends a CORS preflight for a POST to /query with the given
// request headers from origin and returns the response's headers.
func preflightFrom(t *testing.T, s *servertest.Server, origin, headers string) http.Header {
	t.Helper()
	return preflightTo(t, s, "/query", origin, headers)
}

// preflightTo is preflightFrom for another path.
func preflightTo(t *testing.T, s *servertest.Server, path, origin, headers string) http.Header {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctxTimeout(t, 5*time.Second), http.MethodOptions, s.URL+path, nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", headers)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Errorf("preflight from %s: HTTP %d", origin, resp.StatusCode)
	}
	return resp.Header
}

// mintDev posts to /dev/token and returns the status and decoded body.
func mintDev(t *testing.T, srv *servertest.Server, body string) (int, map[string]string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctxTimeout(t, 10*time.Second), http.MethodPost, srv.URL+"/dev/token", strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]string{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestDevToken: in development mode POST /dev/token mints a token that the
// server accepts as the named caller; outside it there is no such endpoint.
func TestDevToken(t *testing.T) {
	t.Parallel()
	dev := servertest.Start(t, func(c *config.Config) { c.Dev = true })
	status, out := mintDev(t, dev, `{"actor":"alice","organization":"acme-`+randomSuffix()+`"}`)
	if status != http.StatusOK || out["token"] == "" || out["expiresAt"] == "" {
		t.Fatalf("POST /dev/token: %d %v", status, out)
	}
	alice := dev.ClientWithToken(out["token"])
	p := initiate(t, alice, "5.00", "EUR")
	if p.InitiatedBy != "alice" {
		t.Errorf("initiatedBy = %q, want alice (the minted token's subject)", p.InitiatedBy)
	}
	// Another organization's token does not see it.
	_, other := mintDev(t, dev, `{"actor":"bob","organization":"globex-`+randomSuffix()+`"}`)
	dev.ClientWithToken(other["token"]).MustFail(t, "NOT_FOUND", paymentQuery, servertest.Vars{"id": p.ID})

	for _, bad := range []string{`{"actor":"","organization":"x"}`, `{"actor":"a","organization":"x","ttl":"48h"}`, `not json`, `{"actor":"a","organization":"x","admin":true}`} {
		if status, out := mintDev(t, dev, bad); status != http.StatusBadRequest || out["error"] == "" {
			t.Errorf("POST /dev/token %s: %d %v, want 400 with an error", bad, status, out)
		}
	}

	// The app on Vite's dev server signs in cross-origin.
	if got := preflightTo(t, dev, "/dev/token", "http://localhost:5173", "content-type").Get("Access-Control-Allow-Origin"); got != "http://localhost:5173" {
		t.Errorf("preflight of /dev/token from Vite's dev server: Access-Control-Allow-Origin %q", got)
	}

	prod := servertest.Start(t, nil)
	if status, out := mintDev(t, prod, `{"actor":"alice","organization":"acme"}`); status != http.StatusNotFound {
		t.Errorf("outside development mode POST /dev/token: %d %v, want 404", status, out)
	}
}

// TestDevModeAllowsLocalOrigins: a development-mode server lets pages on
// any localhost port (Vite's dev server) call it, over CORS and WebSocket.
func TestDevModeAllowsLocalOrigins(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) { c.Dev = true })
	for _, origin := range []string{"http://localhost:5173", "http://127.0.0.1:4173"} {
		if got := preflightFrom(t, srv, origin, "authorization,content-type").Get("Access-Control-Allow-Origin"); got != origin {
			t.Errorf("preflight from %s: Access-Control-Allow-Origin %q", origin, got)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ws, _, err := srv.DialWS(ctx, servertest.GraphQLTransportWS, http.Header{"Origin": {origin}})
		cancel()
		if err != nil {
			t.Errorf("WebSocket from %s: %v", origin, err)
		} else {
			ws.Abort()
		}
	}
	if strings.Contains(srv.Log(), "ALLOWED_ORIGINS") {
		t.Errorf("an allowed origin was logged as refused:\n%s", srv.Log())
	}
}

// TestRefusedOriginLogged: outside development mode a page on another
// origin is refused by the browser's rules; the server says so in its log,
// at warn, naming the setting that would allow it.
func TestRefusedOriginLogged(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if ws, _, err := srv.DialWS(ctx, servertest.GraphQLTransportWS, http.Header{"Origin": {"http://localhost:5173"}}); err == nil {
		ws.Abort()
		t.Fatal("a WebSocket from another origin was accepted outside development mode")
	}
	log := srv.Log()
	if !regexp.MustCompile(`level=WARN[^\n]*ALLOWED_ORIGINS[^\n]*origin=http://localhost:5173`).MatchString(log) {
		t.Fatalf("no warning naming ALLOWED_ORIGINS and the origin:\n%s", log)
	}
	// A same-origin request is not warned about.
	before := strings.Count(log, "ALLOWED_ORIGINS")
	c := srv.Client()
	c.Header.Set("Origin", srv.URL)
	c.MustSucceed(t, `{ __typename }`, nil, nil)
	if after := strings.Count(srv.Log(), "ALLOWED_ORIGINS"); after != before {
		t.Errorf("a same-origin request was logged as refused:\n%s", srv.Log())
	}
}

const (
	recentAnalyticsQuery = `query($last: Duration, $from: Time, $to: Time, $bucket: AnalyticsBucket!) {
		paymentAnalytics(last: $last, from: $from, to: $to, bucket: $bucket) { ` + analyticsFields + ` } }`
	recentAnalyticsSub = `subscription($last: Duration!) {
		paymentAnalyticsUpdated(last: $last, bucket: HOUR) { ` + analyticsFields + ` } }`
)

// TestAnalyticsRelativeToNow: paymentAnalytics(last:) reports the window
// ending now, whenever it runs; its subscription pushes like the absolute
// one; a window given both ways, or half, or a bad duration is refused.
func TestAnalyticsRelativeToNow(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	c := srv.ClientAs("alice", "acme-"+randomSuffix())
	initiate(t, c, "10.00", "EUR")

	var out struct {
		PaymentAnalytics analytics `json:"paymentAnalytics"`
	}
	c.MustSucceed(t, recentAnalyticsQuery, servertest.Vars{"last": "24h", "bucket": "HOUR"}, &out)
	a := out.PaymentAnalytics
	from, _ := time.Parse(time.RFC3339, a.From)
	to, _ := time.Parse(time.RFC3339, a.To)
	now := time.Now()
	if a.Totals.Payments != 1 || len(a.Series) != 25 || !to.After(now) || to.Sub(now) > time.Hour || now.Sub(from) < 24*time.Hour {
		t.Fatalf("last 24h at %s: from %s to %s, %d buckets, %d payments", now, a.From, a.To, len(a.Series), a.Totals.Payments)
	}
	c.MustSucceed(t, recentAnalyticsQuery, servertest.Vars{"last": "7d", "bucket": "DAY"}, &out)
	if out.PaymentAnalytics.Totals.Payments != 1 || len(out.PaymentAnalytics.Series) != 8 {
		t.Errorf("last 7d by day: %d buckets, %d payments", len(out.PaymentAnalytics.Series), out.PaymentAnalytics.Totals.Payments)
	}

	for name, vars := range map[string]servertest.Vars{
		"last and from":    {"last": "24h", "from": now.Add(-time.Hour), "bucket": "HOUR"},
		"from without to":  {"from": now.Add(-time.Hour), "bucket": "HOUR"},
		"nothing":          {"bucket": "HOUR"},
		"not a duration":   {"last": "yesterday", "bucket": "HOUR"},
		"negative":         {"last": "-1h", "bucket": "HOUR"},
		"a number":         {"last": 3600, "bucket": "HOUR"},
		"too many buckets": {"last": "40d", "bucket": "HOUR"},
	} {
		if e := c.MustFail(t, "BAD_USER_INPUT", recentAnalyticsQuery, vars); e.Message == "" {
			t.Errorf("%s: an error without a message", name)
		}
	}

	ws := srv.MustDialWS(t, servertest.GraphQLTransportWS, nil)
	ws.Token = c.Token
	mustInit(t, ws, nil)
	s := newSubs(t, ws)
	s.subscribe("dash", recentAnalyticsSub, servertest.Vars{"last": "24h"})
	var pushed struct {
		PaymentAnalyticsUpdated analytics `json:"paymentAnalyticsUpdated"`
	}
	s.data("dash", &pushed)
	if pushed.PaymentAnalyticsUpdated.Totals.Payments != 1 {
		t.Fatalf("first push: %+v", pushed.PaymentAnalyticsUpdated.Totals)
	}
	initiate(t, c, "20.00", "EUR")
	s.data("dash", &pushed)
	if pushed.PaymentAnalyticsUpdated.Totals.Payments != 2 {
		t.Fatalf("push after a new payment: %+v", pushed.PaymentAnalyticsUpdated.Totals)
	}
}
