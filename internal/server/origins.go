package server

import (
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
)

// maxLoggedOrigins bounds how many distinct refused origins are logged
// (each once): a page that retries must not flood the log.
const maxLoggedOrigins = 100

// withOriginLog logs, at warn and once per origin, a request whose Origin
// header is neither the server's own nor one of allowed (the patterns of
// ALLOWED_ORIGINS): the browser refuses such a call (CORS, or the
// WebSocket origin check) and tells the page nothing useful, so the log is
// where a developer finds out, and it names the setting to change. It
// refuses nothing itself.
func withOriginLog(logger *slog.Logger, allowed []string, next http.Handler) http.Handler {
	var (
		mu     sync.Mutex
		logged = map[string]bool{}
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && !sameOrigin(origin, r.Host) && !originAllowed(origin, allowed) {
			mu.Lock()
			first := !logged[origin] && len(logged) < maxLoggedOrigins
			if first {
				logged[origin] = true
			}
			mu.Unlock()
			if first {
				logger.Warn("refused a browser request from an origin that is not allowed; add it to ALLOWED_ORIGINS "+
					"(comma-separated scheme://host[:port], * wildcards allowed) to let it call the API",
					"origin", origin, "path", r.URL.Path, "allowed_origins", strings.Join(allowed, ","))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// sameOrigin reports whether origin's host is host (the request's Host):
// the page was served by this server.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, host)
}

// originAllowed matches origin against the patterns as the WebSocket
// origin check does (path.Match on "scheme://host[:port]", case-insensitive).
func originAllowed(origin string, patterns []string) bool {
	origin = strings.ToLower(origin)
	for _, p := range patterns {
		if ok, err := path.Match(strings.ToLower(p), origin); err == nil && ok {
			return true
		}
	}
	return false
}
