// Package webapp serves Chronicle's web app (web/, a React single-page
// app) from the bundle that `make web` builds into dist/ and that is
// embedded in the binary, so a server built with Go alone serves it.
//
// Under its prefix (/app/): files Vite emitted under assets/ have content
// hashes in their names and are cached for a year as immutable; every other
// path that names no file is the app's own route and gets index.html (the
// SPA fallback), which is never cached, so a new build is picked up on the
// next load. Compressible files are sent gzipped to clients that accept it.
package webapp

import (
	"bytes"
	"compress/gzip"
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed all:dist
var dist embed.FS

// file is one embedded file, with its gzipped bytes when compressing pays.
type file struct {
	name        string
	body        []byte
	gzipped     []byte
	contentType string
	immutable   bool
}

// Handler serves the app under prefix (e.g. "/app/"; a trailing slash is
// added when missing). A request for the prefix without its slash is
// redirected to it. Only GET and HEAD are served (405 otherwise).
func Handler(prefix string) http.Handler {
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		panic("webapp: " + err.Error()) // dist is embedded: a programming error
	}
	var (
		once  sync.Once
		files map[string]*file
	)
	load := func() { files = loadFiles(root) }
	bare := strings.TrimSuffix(prefix, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == bare {
			http.Redirect(w, r, prefix, http.StatusMovedPermanently)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok {
			http.NotFound(w, r)
			return
		}
		once.Do(load)
		f := files[path.Clean("/" + name)[1:]]
		switch {
		case f != nil && f.name != "index.html":
		case strings.HasPrefix(name, "assets/"):
			// A hashed asset of another build: index.html would be a
			// confusing answer to a script tag.
			http.NotFound(w, r)
			return
		default:
			f = files["index.html"]
			if f == nil {
				http.Error(w, "the web app is not built into this binary (run make web)", http.StatusNotFound)
				return
			}
		}
		f.serve(w, r)
	})
}

// loadFiles reads every embedded file and gzips the compressible ones.
func loadFiles(root fs.FS) map[string]*file {
	files := map[string]*file{}
	_ = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = http.DetectContentType(body)
		}
		f := &file{name: name, body: body, contentType: ct, immutable: strings.HasPrefix(name, "assets/")}
		if compressible(ct) && len(body) > 1024 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			_, _ = zw.Write(body)
			_ = zw.Close()
			if buf.Len() < len(body) {
				f.gzipped = buf.Bytes()
			}
		}
		files[name] = f
		return nil
	})
	return files
}

func compressible(contentType string) bool {
	for _, t := range []string{"text/", "application/javascript", "text/javascript", "application/json", "image/svg+xml"} {
		if strings.HasPrefix(contentType, t) {
			return true
		}
	}
	return false
}

func (f *file) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	if f.immutable {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	body := f.body
	if f.gzipped != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			body = f.gzipped
		}
	}
	// ServeContent answers ranges and conditional requests; the embedded
	// files have no modification time, so the ETag-less answer is a 200
	// (index.html revalidates cheaply: it is small).
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether the request accepts a gzip encoding (and does
// not refuse it with q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			return strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0"
		}
	}
	return false
}
