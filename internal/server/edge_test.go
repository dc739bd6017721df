package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
)

// refusal is what every refusal at the edge must be: a JSON GraphQL
// response with one error that has a message and extensions.code.
type refusal struct {
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// mustRefuse checks that resp is a refusal with status and code.
func mustRefuse(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Errorf("HTTP %d, want %d: %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json: %s", ct, body)
	}
	var r refusal
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&r); err != nil || dec.More() {
		t.Fatalf("body is not one JSON object (%v): %q", err, body)
	}
	if len(r.Errors) != 1 || r.Errors[0].Message == "" || r.Errors[0].Extensions["code"] != code {
		t.Errorf("body %s, want one error with a message and code %s", body, code)
	}
}

// Every refusal at the edge has the one error shape, and the status that
// says why. Before, a wrong content type got a code-less "transport not
// supported", a GET mutation a code-less 406, an oversized body 200, and a
// WebSocket from a foreign origin plain text followed by JSON.
func TestRefusalsHaveOneShape(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) { c.MaxRequestBytes = 4096 })
	client := srv.Client()
	auth := "Bearer " + client.Token
	send := func(t *testing.T, method, target, contentType string, body io.Reader, header http.Header) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), method, target, body)
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		req.Header.Set("Authorization", auth)
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := client.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	query := srv.URL + "/query"

	t.Run("wrong content type", func(t *testing.T) {
		mustRefuse(t, send(t, http.MethodPost, query, "text/plain", strings.NewReader(`{"query":"{ __typename }"}`), nil),
			http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE")
	})
	t.Run("wrong method", func(t *testing.T) {
		mustRefuse(t, send(t, http.MethodPut, query, "application/json", strings.NewReader(`{"query":"{ __typename }"}`), nil),
			http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
	})
	t.Run("GET mutation", func(t *testing.T) {
		q := url.Values{"query": {`mutation { openAccount(input: {owner: "a", currency: "EUR"}) { position } }`}}
		mustRefuse(t, send(t, http.MethodGet, query+"?"+q.Encode(), "", nil, nil),
			http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
	})
	t.Run("declared oversized body", func(t *testing.T) {
		big := `{"query":"{ __typename }","variables":{"pad":"` + strings.Repeat("x", 8192) + `"}}`
		mustRefuse(t, send(t, http.MethodPost, query, "application/json", strings.NewReader(big), nil),
			http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE")
	})
	t.Run("chunked oversized body", func(t *testing.T) {
		big := `{"query":"{ __typename }","variables":{"pad":"` + strings.Repeat("x", 8192) + `"}}`
		// io.MultiReader hides the length: the body is sent chunked.
		mustRefuse(t, send(t, http.MethodPost, query, "application/json", io.MultiReader(strings.NewReader(big)), nil),
			http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE")
	})
	t.Run("WebSocket from a foreign origin", func(t *testing.T) {
		header := http.Header{
			"Connection":             {"Upgrade"},
			"Upgrade":                {"websocket"},
			"Sec-Websocket-Version":  {"13"},
			"Sec-Websocket-Key":      {"dGhlIHNhbXBsZSBub25jZQ=="},
			"Sec-Websocket-Protocol": {"graphql-transport-ws"},
			"Origin":                 {"https://evil.example"},
		}
		mustRefuse(t, send(t, http.MethodGet, query, "", nil, header), http.StatusForbidden, "FORBIDDEN")
		if log := srv.Log(); strings.Contains(log, "superfluous") {
			t.Errorf("the refusal wrote its header twice:\n%s", log)
		}
	})
	t.Run("no token", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, query, strings.NewReader(`{"query":"{ __typename }"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		mustRefuse(t, resp, http.StatusUnauthorized, "UNAUTHENTICATED")
	})
}
