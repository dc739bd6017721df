package server

import (
	"net/http"

	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/google/uuid"
)

// Request headers read at the edge.
const (
	headerCorrelationID = "X-Correlation-ID"
	// headerActor names the caller in development mode only, until
	// authentication replaces it.
	headerActor = "X-Actor"
)

// withCaller puts the request's caller.Caller in its context and echoes the
// correlation id in the response.
func withCaller(dev bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := caller.Caller{Actor: "anonymous", CorrelationID: r.Header.Get(headerCorrelationID)}
		if !validHeaderValue(c.CorrelationID) {
			c.CorrelationID = uuid.Must(uuid.NewV7()).String()
		}
		if a := r.Header.Get(headerActor); dev && validHeaderValue(a) {
			c.Actor = a
		}
		w.Header().Set(headerCorrelationID, c.CorrelationID)
		next.ServeHTTP(w, r.WithContext(caller.With(r.Context(), c)))
	})
}

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
