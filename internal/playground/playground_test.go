package playground

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// newServer mounts the page and the assets as internal/server does.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", Handler("Chronicle", "/query", "/playground/"))
	mux.Handle("GET /playground/", Assets("/playground/"))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// get fetches path without transparent gzip decoding.
func get(t *testing.T, srv *httptest.Server, path string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", "identity")
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func sri(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

func TestPageReferencesOnlyLocalAssets(t *testing.T) {
	srv := newServer(t)
	resp, body := get(t, srv, "/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	page := string(body)
	if strings.Contains(page, "https://") || strings.Contains(page, "http://") || strings.Contains(page, "//cdn") {
		t.Errorf("page references a remote URL:\n%s", page)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1)
	got := map[string]bool{}
	for _, m := range refs {
		got[m[1]] = true
	}
	for _, a := range allAssets {
		url := "/playground/" + a.path
		if !got[url] {
			t.Errorf("page does not reference %s; it references %v", url, got)
		}
		if !strings.Contains(html.UnescapeString(page), `integrity="`+a.sri+`"`) {
			t.Errorf("page lacks the integrity hash of %s", a.path)
		}
	}
	if len(got) != len(allAssets) {
		t.Errorf("page references %d URLs, want %d: %v", len(got), len(allAssets), got)
	}
}

func TestAssetsServed(t *testing.T) {
	srv := newServer(t)
	for _, a := range allAssets {
		t.Run(a.path, func(t *testing.T) {
			resp, body := get(t, srv, "/playground/"+a.path, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			wantType := "text/javascript; charset=utf-8"
			if strings.HasSuffix(a.path, ".css") {
				wantType = "text/css; charset=utf-8"
			}
			if ct := resp.Header.Get("Content-Type"); ct != wantType {
				t.Errorf("Content-Type = %q, want %q", ct, wantType)
			}
			if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
				t.Errorf("Cache-Control = %q", cc)
			}
			if got := sri(body); got != a.sri {
				t.Errorf("served bytes hash to %s, want gqlgen's %s", got, a.sri)
			}

			// gzip, when accepted, decodes to the same bytes.
			resp, gz := get(t, srv, "/playground/"+a.path, http.Header{"Accept-Encoding": {"gzip, deflate"}})
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("gzip: status %d, Content-Encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
			}
			zr, err := gzip.NewReader(strings.NewReader(string(gz)))
			if err != nil {
				t.Fatal(err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if sri(plain) != a.sri {
				t.Error("gzip body does not decode to the asset")
			}

			// Revalidation by ETag.
			resp, _ = get(t, srv, "/playground/"+a.path, http.Header{"If-None-Match": {resp.Header.Get("ETag")}, "Accept-Encoding": {"gzip"}})
			if resp.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match: status %d, want 304", resp.StatusCode)
			}
		})
	}
}

func TestUnknownAssetIsNotFound(t *testing.T) {
	srv := newServer(t)
	for _, p := range []string{"/playground/", "/playground/graphiql@4.1.2/", "/playground/graphiql@4.1.2/index.umd.js.map", "/playground/README.md", "/playground/assets/react@18.2.0/umd/react.production.min.js"} {
		if resp, _ := get(t, srv, p, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, resp.StatusCode)
		}
	}
}

func TestPrefixWithoutSlash(t *testing.T) {
	rec := httptest.NewRecorder()
	Assets("/pg").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/pg/"+reactJS.path, nil))
	if rec.Code != http.StatusOK {
		t.Errorf("status %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	Handler("T", "/query", "/pg").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if !strings.Contains(rec.Body.String(), `src="/pg/`+reactJS.path+`"`) {
		t.Errorf("page does not use the /pg/ prefix:\n%s", rec.Body.String())
	}
}

func TestAcceptsGzip(t *testing.T) {
	for v, want := range map[string]bool{
		"":                   false,
		"gzip":               true,
		"br, gzip;q=0.8":     true,
		"gzip;q=0":           false,
		"GZIP ; q=0.5":       true,
		"deflate, identity":  false,
		"x-gzip":             false,
		"br;q=1, gzip; q=0 ": false,
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if v != "" {
			r.Header.Set("Accept-Encoding", v)
		}
		if got := acceptsGzip(r); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", v, got, want)
		}
	}
}
