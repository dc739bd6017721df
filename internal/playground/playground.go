// Package playground serves a self-contained GraphQL playground: gqlgen's
// GraphiQL page, with GraphiQL, React and ReactDOM embedded in the binary
// instead of loaded from a CDN, so the page works behind a firewall or
// offline.
//
// The page comes from gqlgen's playground package; only the script and style
// URLs change, to paths under an assets prefix. The assets are the unmodified
// npm files gqlgen pins (see assets/README.md), and their subresource
// integrity hashes are the ones gqlgen uses.
package playground

import (
	"bytes"
	"compress/gzip"
	"embed"
	"net/http"
	"strings"
	"sync"
	"time"

	gqlplayground "github.com/99designs/gqlgen/graphql/playground"
)

// Versions of the embedded npm packages. An asset's path contains its
// package's version, so a cached copy never goes stale.
const (
	GraphiQLVersion = "4.1.2"
	ReactVersion    = "18.2.0"
)

//go:embed assets/graphiql@4.1.2/graphiql.min.js assets/graphiql@4.1.2/graphiql.min.css
//go:embed assets/react@18.2.0/umd/react.production.min.js
//go:embed assets/react-dom@18.2.0/umd/react-dom.production.min.js
var files embed.FS

// asset is one embedded file, addressed by its path under the prefix.
type asset struct {
	path        string // relative to the assets directory and to the prefix
	contentType string
	sri         string // sha256 subresource integrity, as gqlgen pins it
}

// The embedded files. The SRIs are gqlgen v0.17.95's; the tests check that
// the embedded bytes hash to them.
var (
	graphiqlJS = asset{
		path:        "graphiql@" + GraphiQLVersion + "/graphiql.min.js",
		contentType: "text/javascript; charset=utf-8",
		sri:         "sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs=",
	}
	graphiqlCSS = asset{
		path:        "graphiql@" + GraphiQLVersion + "/graphiql.min.css",
		contentType: "text/css; charset=utf-8",
		sri:         "sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU=",
	}
	reactJS = asset{
		path:        "react@" + ReactVersion + "/umd/react.production.min.js",
		contentType: "text/javascript; charset=utf-8",
		sri:         "sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY=",
	}
	reactDOMJS = asset{
		path:        "react-dom@" + ReactVersion + "/umd/react-dom.production.min.js",
		contentType: "text/javascript; charset=utf-8",
		sri:         "sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc=",
	}
	allAssets = []asset{graphiqlJS, graphiqlCSS, reactJS, reactDOMJS}
)

// Handler returns the playground page: gqlgen's GraphiQL page for the GraphQL
// endpoint, titled title, loading its scripts and styles from assetsPrefix
// (for example "/playground/"), where Assets must be mounted. The explorer
// plugin, which is not embedded, is disabled.
func Handler(title, endpoint, assetsPrefix string) http.Handler {
	p := withSlash(assetsPrefix)
	return gqlplayground.Handler(title, endpoint,
		gqlplayground.WithGraphiqlVersion(
			p+graphiqlJS.path, p+graphiqlCSS.path, graphiqlJS.sri, graphiqlCSS.sri),
		gqlplayground.WithGraphiqlReactVersion(
			p+reactJS.path, p+reactDOMJS.path, reactJS.sri, reactDOMJS.sri),
		gqlplayground.WithGraphiqlEnablePluginExplorer(false),
	)
}

// Assets returns a handler serving the embedded files under prefix, for
// example /playground/graphiql@4.1.2/graphiql.min.js for prefix
// "/playground/". Paths are versioned, so responses are cacheable for a year
// and marked immutable; they are gzip-compressed when the client accepts it.
// Any other path under prefix is 404.
func Assets(prefix string) http.Handler {
	p := withSlash(prefix)
	served := make(map[string]*servedAsset, len(allAssets))
	for _, a := range allAssets {
		body, err := files.ReadFile("assets/" + a.path)
		if err != nil {
			panic("playground: embedded asset missing: " + a.path) // caught by the tests
		}
		sa := &servedAsset{asset: a, body: body}
		sa.gzipped = sync.OnceValue(sa.compress)
		served[p+a.path] = sa
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := served[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		a.serve(w, r)
	})
}

// servedAsset is an asset with its contents, and its gzip encoding made on
// first use.
type servedAsset struct {
	asset
	body    []byte
	gzipped func() []byte
}

// noModTime makes ServeContent send no Last-Modified; the ETag, the file's
// hash, does the job.
var noModTime time.Time

func (a *servedAsset) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Accept-Encoding")
	body, etag := a.body, `"`+a.sri+`"`
	if acceptsGzip(r) {
		body, etag = a.gzipped(), `"`+a.sri+`-gzip"`
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, a.path, noModTime, bytes.NewReader(body))
}

func (a *servedAsset) compress() []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // valid level: no error
	_, _ = zw.Write(a.body)                                  // writes to a bytes.Buffer do not fail
	_ = zw.Close()
	return buf.Bytes()
}

// acceptsGzip reports whether the request's Accept-Encoding lists gzip
// (without q=0).
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

func withSlash(prefix string) string {
	if !strings.HasSuffix(prefix, "/") {
		return prefix + "/"
	}
	return prefix
}
