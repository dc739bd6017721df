package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Vars are a GraphQL request's variables.
type Vars = map[string]any

// Client posts GraphQL requests as JSON, as a browser client would.
type Client struct {
	// URL is the GraphQL endpoint.
	URL string
	// HTTP sends the requests.
	HTTP *http.Client
	// Header is added to every request (e.g. X-Correlation-ID).
	Header http.Header
	// Token, when not empty, is sent as "Authorization: Bearer <Token>"
	// (unless a request sets Authorization itself) and in the
	// connection_init of the WebSockets the client dials.
	Token string
}

// setHeaders adds the client's headers, the request's, and the token.
func (c *Client) setHeaders(hr *http.Request, header http.Header) {
	for k, vs := range c.Header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	for k, vs := range header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	if c.Token != "" && hr.Header.Get("Authorization") == "" {
		hr.Header.Set("Authorization", "Bearer "+c.Token)
	}
}

// Request is one GraphQL request.
type Request struct {
	Query         string `json:"query"`
	Variables     Vars   `json:"variables,omitempty"`
	OperationName string `json:"operationName,omitempty"`
	// Header is added to this request only.
	Header http.Header `json:"-"`
}

// Error is one GraphQL error of a response.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code returns extensions.code, or "" when there is none.
func (e Error) Code() string {
	c, _ := e.Extensions["code"].(string)
	return c
}

// Response is a decoded GraphQL response with its HTTP status and headers.
type Response struct {
	Status int
	Header http.Header
	// Data is the raw "data" member (null or absent: empty or "null").
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
	// Body is the raw response body.
	Body []byte `json:"-"`
}

// Codes returns the extensions.code of every error, in order.
func (r *Response) Codes() []string {
	out := make([]string, len(r.Errors))
	for i, e := range r.Errors {
		out[i] = e.Code()
	}
	return out
}

// Decode unmarshals Data into v.
func (r *Response) Decode(v any) error {
	if len(r.Data) == 0 {
		return fmt.Errorf("response has no data: %s", r.Body)
	}
	return json.Unmarshal(r.Data, v)
}

// Do sends req and decodes the answer. It fails only on transport errors and
// bodies that are not a JSON object; GraphQL errors are in Response.Errors.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return c.Post(ctx, "application/json", body, req.Header)
}

// Post sends body to the endpoint as is and decodes the answer as a GraphQL
// response.
func (c *Client) Post(ctx context.Context, contentType string, body []byte, header http.Header) (*Response, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", contentType)
	hr.Header.Set("Accept", "application/json")
	c.setHeaders(hr, header)
	httpResp, err := c.HTTP.Do(hr)
	if err != nil {
		return nil, err
	}
	defer httpResp.Body.Close()
	raw, err := io.ReadAll(httpResp.Body)
	if err != nil {
		return nil, fmt.Errorf("read response (status %d): %w", httpResp.StatusCode, err)
	}
	resp := &Response{Status: httpResp.StatusCode, Header: httpResp.Header, Body: raw}
	if err := json.Unmarshal(raw, resp); err != nil {
		return resp, fmt.Errorf("status %d, body is not a GraphQL response: %w: %q", httpResp.StatusCode, err, truncate(raw))
	}
	return resp, nil
}

// MustDo sends query with vars and fails the test on a transport error or
// an undecodable body. GraphQL errors are left to the caller.
func (c *Client) MustDo(t testing.TB, query string, vars Vars) *Response {
	t.Helper()
	resp, err := c.Do(context.Background(), Request{Query: query, Variables: vars})
	if err != nil {
		t.Fatalf("graphql: %v", err)
	}
	if resp.Status >= 500 {
		t.Fatalf("graphql: HTTP %d: %s", resp.Status, truncate(resp.Body))
	}
	return resp
}

// MustSucceed sends query with vars, fails the test unless the answer is
// HTTP 200 without errors, and decodes its data into out (when not nil).
func (c *Client) MustSucceed(t testing.TB, query string, vars Vars, out any) *Response {
	t.Helper()
	resp := c.MustDo(t, query, vars)
	if resp.Status != http.StatusOK || len(resp.Errors) > 0 {
		t.Fatalf("graphql: HTTP %d, errors %+v\nquery: %s\nvariables: %v", resp.Status, resp.Errors, oneLine(query), vars)
	}
	if out != nil {
		if err := resp.Decode(out); err != nil {
			t.Fatalf("graphql: decode data: %v", err)
		}
	}
	return resp
}

// MustFail sends query with vars and fails the test unless the answer is
// HTTP 200 with exactly one error whose extensions.code is code. It returns
// that error.
func (c *Client) MustFail(t testing.TB, code, query string, vars Vars) Error {
	t.Helper()
	resp := c.MustDo(t, query, vars)
	if resp.Status != http.StatusOK {
		t.Fatalf("graphql: HTTP %d, want 200 (errors %+v)", resp.Status, resp.Errors)
	}
	if len(resp.Errors) != 1 || resp.Errors[0].Code() != code {
		t.Fatalf("graphql: errors %+v, want one with code %s\nvariables: %v", resp.Errors, code, vars)
	}
	return resp.Errors[0]
}

func truncate(b []byte) string {
	const n = 500
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
