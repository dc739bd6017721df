package graph

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/chronicle-es/chronicle/internal/apperr"
)

// Codes of the refusals made before (or instead of) GraphQL execution.
const (
	CodeMethodNotAllowed     = "METHOD_NOT_ALLOWED"
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
	CodeRequestTooLarge      = "REQUEST_TOO_LARGE"
	CodeBadRequest           = "BAD_REQUEST"
)

// Refuse answers a request refused at the HTTP edge with status and the
// one error shape of every refusal, a GraphQL response:
//
//	{"errors":[{"message":message,"extensions":{"code":code}}]}
//
// It is not cached (Cache-Control: no-store).
func Refuse(w http.ResponseWriter, status int, code, message string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	w.WriteHeader(status)
	type gqlError struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	}
	_ = json.NewEncoder(w).Encode(struct {
		Errors []gqlError `json:"errors"`
	}{[]gqlError{{Message: message, Extensions: map[string]any{"code": code}}}})
}

// unsupportedTransport comes last: it answers every request that no
// transport took, in the error shape of the others (gqlgen's own answer is
// a code-less "transport not supported").
type unsupportedTransport struct{}

func (unsupportedTransport) Supports(*http.Request) bool { return true }

func (unsupportedTransport) Do(w http.ResponseWriter, r *http.Request, _ graphql.GraphExecutor) {
	switch r.Method {
	case http.MethodPost:
		Refuse(w, http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
			"a GraphQL request is sent as Content-Type: application/json (or over WebSocket, or SSE with Accept: text/event-stream)")
	case http.MethodGet:
		Refuse(w, http.StatusBadRequest, CodeBadRequest, "this request is not a GraphQL request this server supports")
	default:
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		Refuse(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "GraphQL requests use GET (queries) or POST")
	}
}

// queriesOnlyGET is gqlgen's GET transport, whose refusal of a mutation or
// subscription (a code-less 406) becomes a 405 with the code
// METHOD_NOT_ALLOWED, as GraphQL over HTTP asks.
type queriesOnlyGET struct{ transport.GET }

func (t queriesOnlyGET) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	t.GET.Do(&notAcceptableWriter{ResponseWriter: w}, r, exec)
}

// notAcceptableWriter replaces a 406 response with the refusal of a
// non-query operation over GET, and drops what gqlgen writes after it.
type notAcceptableWriter struct {
	http.ResponseWriter
	refused bool
}

func (w *notAcceptableWriter) WriteHeader(status int) {
	if status == http.StatusNotAcceptable {
		w.refused = true
		w.Header().Set("Allow", "POST")
		Refuse(w.ResponseWriter, http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			"GET requests may only carry queries: send mutations with POST")
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *notAcceptableWriter) Write(p []byte) (int, error) {
	if w.refused {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *notAcceptableWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// upgradeWriter is the writer the WebSocket library gets while it accepts
// an upgrade: when it refuses one (a plain-text http.Error), the refusal is
// answered once, in the shared error shape, and what the library and
// gqlgen write after it is dropped (gqlgen's own error would be a second
// WriteHeader).
type upgradeWriter struct {
	http.ResponseWriter
	// refused is set once the library has written a status; frozen once
	// Accept has returned its error.
	refused, frozen, answered bool
	status                    int
	msg                       strings.Builder
}

func (w *upgradeWriter) freeze() { w.frozen = true }

func (w *upgradeWriter) WriteHeader(status int) {
	if status == http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(status) // the upgrade accepted
		return
	}
	if !w.refused {
		w.refused, w.status = true, status
	}
}

func (w *upgradeWriter) Write(p []byte) (int, error) {
	if !w.refused {
		w.WriteHeader(http.StatusOK)
	}
	if !w.frozen && w.msg.Len() < 512 {
		w.msg.Write(p)
	}
	return len(p), nil
}

// Hijack hands the connection over for an accepted upgrade.
func (w *upgradeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *upgradeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// answer writes the refusal the library made, if any.
func (w *upgradeWriter) answer() {
	if !w.refused || w.answered {
		return
	}
	w.answered = true
	code := CodeBadRequest
	if w.status == http.StatusForbidden {
		code = string(apperr.Forbidden)
	}
	msg := strings.TrimSpace(w.msg.String())
	if msg == "" {
		msg = http.StatusText(w.status)
	}
	// The library set headers for the upgrade it refused.
	for _, k := range []string{"Connection", "Upgrade", "Sec-Websocket-Version", "X-Content-Type-Options"} {
		w.ResponseWriter.Header().Del(k)
	}
	Refuse(w.ResponseWriter, w.status, code, "WebSocket upgrade refused: "+msg)
}
