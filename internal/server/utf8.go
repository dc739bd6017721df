package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"unicode/utf8"
)

// withValidUTF8 refuses a request body that is not valid UTF-8 with 400 and
// a GraphQL error of code BAD_USER_INPUT. Go's JSON decoder would otherwise
// replace each invalid byte with U+FFFD, and the text would be stored
// silently altered. Bodies are already bounded (withRequestLimits); one that
// cannot be read whole is passed on unchanged, with the same read error, for
// the handler to refuse as before.
func withValidUTF8(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errorReader{err}))
			next.ServeHTTP(w, r)
			return
		}
		if !utf8.Valid(body) {
			writeError(w, http.StatusBadRequest, "BAD_USER_INPUT", "the request body is not valid UTF-8")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// errorReader fails every read with err.
type errorReader struct{ err error }

func (e errorReader) Read([]byte) (int, error) { return 0, e.err }

// writeError answers a request refused before GraphQL ran, in the GraphQL
// response shape: {"errors":[{"message":..,"extensions":{"code":..}}]}.
func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message":    message,
		"extensions": map[string]any{"code": code},
	}}})
}
