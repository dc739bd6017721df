package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/chronicle-es/chronicle/graph"
)

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

// withRequestLimits caps the request body at maxBytes. A body declared
// larger (Content-Length) is refused at once, unread; one that turns out
// larger while it is read (chunked) is refused when gqlgen answers the read
// error: either way HTTP 413 with the code REQUEST_TOO_LARGE.
func withRequestLimits(maxBytes int64, m *edgeMetrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBytes {
			m.refusals.WithLabelValues(graph.CodeRequestTooLarge).Inc()
			refuseEarly(w, r, http.StatusRequestEntityTooLarge, graph.CodeRequestTooLarge, tooLargeMessage(maxBytes))
			return
		}
		body := &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, maxBytes)}
		r.Body = body
		if isLongRequest(r) {
			// An SSE long request's writer must stay an http.Flusher; its body
			// (the operation) is small or refused by Content-Length.
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&tooLargeWriter{ResponseWriter: w, body: body, maxBytes: maxBytes, metrics: m}, r)
	})
}

func tooLargeMessage(maxBytes int64) string {
	return fmt.Sprintf("the request body is too large: more than %d bytes (MAX_REQUEST_BYTES)", maxBytes)
}

// limitedBody notes that a read passed the size limit.
type limitedBody struct {
	io.ReadCloser
	tooLarge bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		b.tooLarge = true
	}
	return n, err
}

// tooLargeWriter replaces the response to a request whose body passed the
// size limit with the 413 refusal, and drops what gqlgen writes.
type tooLargeWriter struct {
	http.ResponseWriter
	body     *limitedBody
	maxBytes int64
	metrics  *edgeMetrics
	refused  bool
}

func (w *tooLargeWriter) refuse() bool {
	if !w.refused && w.body.tooLarge {
		w.refused = true
		w.metrics.refusals.WithLabelValues(graph.CodeRequestTooLarge).Inc()
		w.ResponseWriter.Header().Set("Connection", "close")
		graph.Refuse(w.ResponseWriter, http.StatusRequestEntityTooLarge, graph.CodeRequestTooLarge, tooLargeMessage(w.maxBytes))
	}
	return w.refused
}

func (w *tooLargeWriter) WriteHeader(status int) {
	if !w.refuse() {
		w.ResponseWriter.WriteHeader(status)
	}
}

func (w *tooLargeWriter) Write(p []byte) (int, error) {
	if w.refuse() {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *tooLargeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
