package server

import "net/http"

// Request headers read at the edge.
const (
	headerCorrelationID = "X-Correlation-ID"
	// headerActor and headerOrganization name the caller of a request
	// without a token, in development mode only.
	headerActor        = "X-Actor"
	headerOrganization = "X-Organization"
)

// validHeaderValue accepts 1..128 printable ASCII characters.
func validHeaderValue(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// withRequestLimits caps the request body at maxBytes; gqlgen answers a
// larger body with a request error.
func withRequestLimits(maxBytes int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBytes)
		next.ServeHTTP(w, r)
	})
}
