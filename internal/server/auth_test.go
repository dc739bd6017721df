package server_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/auth"
	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/server"
	"github.com/chronicle-es/chronicle/internal/server/servertest"
	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
)

const accountsProbe = `{ accounts(first: 1) { edges { cursor } } }`

// badTokens are tokens every server refuses, with a word of the message
// each must give.
func badTokens(t *testing.T, srv *servertest.Server) []struct{ name, token, says string } {
	t.Helper()
	id := servertest.DefaultIdentity
	expired, err := auth.MintWith([]byte(servertest.TestSecret), id, time.Hour, auth.MintOptions{Now: time.Now().Add(-2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	otherSecret, err := auth.Mint([]byte(servertest.TestSecret+"-not-this-one"), id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{
		"sub": "tester", "org": "test-org", "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	noOrg, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "tester", "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte(servertest.TestSecret))
	if err != nil {
		t.Fatal(err)
	}
	return []struct{ name, token, says string }{
		{"malformed", "not.a.jwt", "malformed"},
		{"expired", expired, "expired"},
		{"bad signature", otherSecret, "signature"},
		{"alg none", none, "algorithm"},
		{"no organization", noOrg, "organization"},
	}
}

// checkRefused checks an HTTP refusal: 401, a Bearer challenge and one
// UNAUTHENTICATED error whose message says says.
func checkRefused(t *testing.T, what string, resp *servertest.Response, err error, says string) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if resp.Status != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("%s: HTTP %d, WWW-Authenticate %q; want 401 with a Bearer challenge", what, resp.Status, resp.Header.Get("WWW-Authenticate"))
	}
	if len(resp.Errors) != 1 || resp.Errors[0].Code() != "UNAUTHENTICATED" || !strings.Contains(resp.Errors[0].Message, says) {
		t.Errorf("%s: errors %+v, want one UNAUTHENTICATED saying %q", what, resp.Errors, says)
	}
	if string(resp.Data) != "" && string(resp.Data) != "null" {
		t.Errorf("%s: data %s, want none", what, resp.Data)
	}
}

// TestAuthenticationHTTP: outside development mode, POST, GET and SSE
// requests without a valid token are refused with 401 UNAUTHENTICATED,
// and the actor of a command is the token's subject whatever the request
// says.
func TestAuthenticationHTTP(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	ctx := ctxTimeout(t, 30*time.Second)

	get := func(c *servertest.Client) (*servertest.Response, error) {
		hr, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+"?query="+url.QueryEscape(accountsProbe), nil)
		if c.Token != "" {
			hr.Header.Set("Authorization", "Bearer "+c.Token)
		}
		return servertestDo(hr)
	}
	cases := append([]struct{ name, token, says string }{{"missing", "", "missing"}}, badTokens(t, srv)...)
	for _, tc := range cases {
		c := srv.ClientWithToken(tc.token)
		resp, err := c.Do(ctx, servertest.Request{Query: accountsProbe})
		checkRefused(t, tc.name+" token, POST", resp, err, tc.says)
		resp, err = get(c)
		checkRefused(t, tc.name+" token, GET", resp, err, tc.says)
		if _, err := c.SubscribeSSE(ctx, servertest.Request{Query: accountUpdatedSub, Variables: servertest.Vars{"id": randomUUID()}}); err == nil ||
			!strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), "UNAUTHENTICATED") || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s token, SSE: %v, want HTTP 401 UNAUTHENTICATED", tc.name, err)
		}
	}
	// Not a bearer token, and a token with missing claims, and a minted
	// token of the wrong organization claim: all refused.
	basic := srv.ClientWithToken("")
	basic.Header.Set("Authorization", "Basic dGVzdGVyOnNlY3JldA==")
	resp, err := basic.Do(ctx, servertest.Request{Query: accountsProbe})
	checkRefused(t, "Basic credentials", resp, err, "malformed")

	// A valid token: the actor is its subject; the X-Actor and
	// X-Organization headers (development mode only) change nothing.
	alice := srv.ClientAs("alice", "acme")
	alice.Header.Set("X-Actor", "mallory")
	alice.Header.Set("X-Organization", "evil")
	id := open(t, alice, servertest.Vars{"owner": "Alice " + randomSuffix(), "currency": "EUR", "initialBalance": "10.00"}).Account.ID
	credit(t, alice, servertest.Vars{"id": id, "amount": "1.00"})
	for i, ev := range allHistory(t, alice, id) {
		if got := actors([]storedEvent{ev}); got[0] != "alice" {
			t.Errorf("event %d: actor %q, want alice (the token's subject)", i, got[0])
		}
	}
	// The correlation id is echoed on refusals too.
	anon := srv.ClientWithToken("")
	anon.Header.Set("X-Correlation-ID", "corr-401")
	if resp, err := anon.Do(ctx, servertest.Request{Query: accountsProbe}); err != nil || resp.Header.Get("X-Correlation-ID") != "corr-401" {
		t.Errorf("refusal: correlation id %q, %v; want corr-401", resp.Header.Get("X-Correlation-ID"), err)
	}
}

// servertestDo sends hr and decodes the answer as a GraphQL response.
func servertestDo(hr *http.Request) (*servertest.Response, error) {
	httpResp, err := http.DefaultClient.Do(hr)
	if err != nil {
		return nil, err
	}
	defer httpResp.Body.Close()
	resp := &servertest.Response{Status: httpResp.StatusCode, Header: httpResp.Header}
	if resp.Body, err = io.ReadAll(httpResp.Body); err != nil {
		return nil, err
	}
	return resp, json.Unmarshal(resp.Body, resp)
}

// wsRefusal dials srv, sends connection_init with payload and returns how
// the connection ended: the messages before the close, and the close.
func wsRefusal(t *testing.T, srv *servertest.Server, proto string, payload any) ([]servertest.WSMessage, websocket.CloseError) {
	t.Helper()
	c, _, err := srv.ClientWithToken("").DialWS(ctxTimeout(t, 5*time.Second), proto, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Abort()
	ctx := ctxTimeout(t, 10*time.Second)
	m := servertest.WSMessage{Type: "connection_init"}
	if payload != nil {
		m.Payload = mustJSON(t, payload)
	}
	if err := c.Send(ctx, m); err != nil {
		t.Fatalf("send connection_init: %v", err)
	}
	return untilClosed(t, c, "refused connection_init")
}

// TestAuthenticationWebSocket: on both subprotocols the token comes in
// connection_init; a missing or bad one closes the connection with 4403
// and a reason starting UNAUTHENTICATED (graphql-ws also gets a
// connection_error saying so). An upgrade with a bad Authorization header
// is refused with 401; one with a valid header needs no token in
// connection_init.
func TestAuthenticationWebSocket(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, nil)
	good := srv.Token(auth.Identity{Subject: "wsuser", Organization: "test-org"}, time.Hour)

	cases := append([]struct{ name, token, says string }{{"missing", "", "missing"}}, badTokens(t, srv)...)
	for _, proto := range []string{servertest.GraphQLTransportWS, servertest.GraphQLWS} {
		for _, tc := range cases {
			var payload any
			if tc.token != "" {
				payload = map[string]any{"Authorization": "Bearer " + tc.token}
			}
			msgs, ce := wsRefusal(t, srv, proto, payload)
			what := proto + ", " + tc.name + " token"
			if ce.Code != 4403 || !strings.HasPrefix(ce.Reason, "UNAUTHENTICATED: ") || !strings.Contains(ce.Reason, tc.says) {
				t.Errorf("%s: closed with %d %q, want 4403 UNAUTHENTICATED saying %q", what, ce.Code, ce.Reason, tc.says)
			}
			switch {
			case proto == servertest.GraphQLWS && (len(msgs) != 1 || msgs[0].Type != "connection_error" ||
				!strings.Contains(string(msgs[0].Payload), "UNAUTHENTICATED: ")):
				t.Errorf("%s: messages %+v, want one connection_error saying UNAUTHENTICATED", what, msgs)
			case proto == servertest.GraphQLTransportWS && len(msgs) != 0:
				t.Errorf("%s: messages %+v before the close, want none", what, msgs)
			}
		}
		// Every key that may carry the token, bare or as a bearer value.
		for _, payload := range []map[string]any{
			{"Authorization": "Bearer " + good}, {"authorization": "bearer " + good},
			{"token": good}, {"authToken": good}, {"token": "Bearer " + good},
		} {
			ws, _, err := srv.ClientWithToken("").DialWS(ctxTimeout(t, 5*time.Second), proto, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := ws.Init(ctxTimeout(t, 5*time.Second), payload); err != nil {
				t.Errorf("%s, payload keys %v: %v", proto, keys(payload), err)
			}
			ws.Abort()
		}
	}

	// The upgrade request: a bad Authorization header is refused at once,
	// a good one stands in for a token in connection_init, and a token in
	// connection_init takes precedence over it.
	for _, tc := range badTokens(t, srv) {
		h := http.Header{"Authorization": {"Bearer " + tc.token}}
		_, resp, err := srv.ClientWithToken("").DialWS(ctxTimeout(t, 5*time.Second), servertest.GraphQLTransportWS, h)
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("upgrade with a %s token: %v, %v; want HTTP 401", tc.name, resp, err)
		}
	}
	id := open(t, srv.Client(), servertest.Vars{"owner": "WS auth " + randomSuffix(), "currency": "EUR", "initialBalance": "1.00"}).Account.ID
	actorOverSocket := func(header http.Header, initPayload any) string {
		t.Helper()
		ws, _, err := srv.ClientWithToken("").DialWS(ctxTimeout(t, 5*time.Second), servertest.GraphQLTransportWS, header)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Abort()
		mustInit(t, ws, initPayload)
		s := newSubs(t, ws)
		s.subscribe("credit", creditMutation, servertest.Vars{"input": servertest.Vars{"id": id, "amount": "1.00"}})
		var out struct {
			CreditAccount payload `json:"creditAccount"`
		}
		s.data("credit", &out)
		events := allHistory(t, srv.Client(), id)
		return *events[len(events)-1].Metadata.Actor
	}
	header := http.Header{"Authorization": {"Bearer " + srv.Token(auth.Identity{Subject: "from-header", Organization: "test-org"}, time.Hour)}}
	if a := actorOverSocket(header, nil); a != "from-header" {
		t.Errorf("token in the upgrade only: actor %q, want from-header", a)
	}
	if a := actorOverSocket(header, map[string]any{"Authorization": "Bearer " + good, "actor": "mallory"}); a != "wsuser" {
		t.Errorf("tokens in both: actor %q, want wsuser (connection_init wins)", a)
	}
}

// TestAuthenticationDevMode: in development mode a request without a token
// acts as DEV_ACTOR of DEV_ORGANIZATION, or as the X-Actor header says; a
// token still names the caller, and a bad one is still refused.
func TestAuthenticationDevMode(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) {
		c.Dev = true
		c.DevActor = "dana"
	})
	anon := srv.ClientWithToken("")
	id := open(t, anon, servertest.Vars{"owner": "Dev " + randomSuffix(), "currency": "EUR", "initialBalance": "1.00"}).Account.ID
	bob := srv.ClientWithToken("")
	bob.Header.Set("X-Actor", "bob")
	credit(t, bob, servertest.Vars{"id": id, "amount": "1.00"})
	if got := actors(allHistory(t, anon, id)); !slices.Equal(got, []string{"dana", "bob"}) {
		t.Errorf("actors %q, want dana (DEV_ACTOR) then bob (X-Actor)", got)
	}
	// The development organization is DEV_ORGANIZATION ("dev"): a WebSocket
	// without a token, of the same organization, sees the account.
	ws, _, err := srv.ClientWithToken("").DialWS(ctxTimeout(t, 5*time.Second), servertest.GraphQLWS, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Abort()
	mustInit(t, ws, map[string]any{"actor": "carol"})
	s := newSubs(t, ws)
	s.subscribe("acc", accountUpdatedSub, servertest.Vars{"id": id})
	if a := s.updated("acc"); a.ID != id {
		t.Errorf("accountUpdated over a token-less socket = %+v", a)
	}

	for _, tc := range badTokens(t, srv) {
		resp, err := srv.ClientWithToken(tc.token).Do(ctxTimeout(t, 5*time.Second), servertest.Request{Query: accountsProbe})
		checkRefused(t, "dev mode, "+tc.name+" token", resp, err, tc.says)
		if _, ce := wsRefusal(t, srv, servertest.GraphQLTransportWS, map[string]any{"token": tc.token}); ce.Code != 4403 {
			t.Errorf("dev mode, %s token over a WebSocket: closed with %d %q, want 4403", tc.name, ce.Code, ce.Reason)
		}
	}
	basic := srv.ClientWithToken("")
	basic.Header.Set("Authorization", "Basic dGVzdGVyOnNlY3JldA==")
	resp, err := basic.Do(ctxTimeout(t, 5*time.Second), servertest.Request{Query: accountsProbe})
	checkRefused(t, "dev mode, Basic credentials", resp, err, "malformed")

	// With a token, the token names the caller, not X-Actor.
	tok := srv.ClientAs("erin", "dev")
	tok.Header.Set("X-Actor", "mallory")
	credit(t, tok, servertest.Vars{"id": id, "amount": "1.00"})
	if got := actors(allHistory(t, anon, id)); !slices.Equal(got, []string{"dana", "bob", "erin"}) {
		t.Errorf("actors %q, want erin last (the token's subject)", got)
	}

	// Without any JWT setting, development mode needs no token, and
	// refuses every token (there is nothing to verify it with).
	bare := servertest.Start(t, func(c *config.Config) {
		c.Dev = true
		c.JWTHS256Secret = ""
	})
	bare.ClientWithToken("").MustSucceed(t, accountsProbe, nil, nil)
	resp, err = bare.ClientWithToken(srv.Token(servertest.DefaultIdentity, time.Hour)).Do(ctxTimeout(t, 5*time.Second), servertest.Request{Query: accountsProbe})
	checkRefused(t, "token without verification configured", resp, err, "")
}

func actors(events []storedEvent) []string {
	var out []string
	for _, e := range events {
		actor := "<none>"
		if e.Metadata.Actor != nil {
			actor = *e.Metadata.Actor
		}
		out = append(out, actor)
	}
	return out
}

// TestSubscriptionsEndWhenTheTokenExpires: a WebSocket connection (either
// subprotocol) and an SSE stream end when the token that opened them
// expires, without the client doing anything.
func TestSubscriptionsEndWhenTheTokenExpires(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, func(c *config.Config) { c.JWTLeeway = 0 })
	id := open(t, srv.Client(), servertest.Vars{"owner": "Expiry " + randomSuffix(), "currency": "EUR", "initialBalance": "1.00"}).Account.ID

	// exp is in whole seconds: these tokens expire 2 to 3 seconds from now.
	short := srv.ClientWithToken(srv.Token(servertest.DefaultIdentity, 3*time.Second))
	expiresBy := time.Now().Add(3 * time.Second)
	long := srv.Client()

	var conns []*servertest.WSConn
	for _, proto := range []string{servertest.GraphQLTransportWS, servertest.GraphQLWS} {
		for _, c := range []*servertest.Client{short, long} {
			ws, _, err := c.DialWS(ctxTimeout(t, 5*time.Second), proto, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(ws.Abort)
			mustInit(t, ws, nil)
			s := newSubs(t, ws)
			s.subscribe("acc", accountUpdatedSub, servertest.Vars{"id": id})
			if a := s.updated("acc"); a.ID != id {
				t.Fatalf("first accountUpdated = %+v", a)
			}
			conns = append(conns, ws)
		}
	}
	sse, err := short.SubscribeSSE(ctxTimeout(t, 30*time.Second), servertest.Request{Query: accountUpdatedSub, Variables: servertest.Vars{"id": id}})
	if err != nil {
		t.Fatal(err)
	}
	defer sse.Close()
	if ev := nextSSE(t, sse); ev.Event != "next" {
		t.Fatalf("first SSE event %+v", ev)
	}

	deadline := expiresBy.Add(5 * time.Second)
	for i, ws := range conns {
		expiring := i%2 == 0
		// Once the deadline has passed (waiting on an earlier connection),
		// the timer is ready at once: look at Done again rather than let
		// select pick one of two ready cases at random.
		ended := false
		select {
		case <-ws.Done():
			ended = true
		case <-time.After(time.Until(deadline)):
			select {
			case <-ws.Done():
				ended = true
			default:
			}
		}
		switch {
		case ended && !expiring:
			t.Errorf("%s connection with a valid token ended: %v", ws.Subprotocol, ws.Err())
		case ended && time.Now().Before(expiresBy.Add(-time.Second)):
			t.Errorf("%s connection ended before its token expired: %v", ws.Subprotocol, ws.Err())
		case ended && websocket.CloseStatus(ws.Err()) != websocket.StatusNormalClosure:
			t.Errorf("%s connection ended with %v, want a normal closure", ws.Subprotocol, ws.Err())
		case !ended && expiring:
			t.Errorf("%s connection still open after its token expired", ws.Subprotocol)
		}
	}
	select {
	case <-sse.Done():
	case <-time.After(5 * time.Second):
		t.Errorf("SSE stream still open after its token expired")
	}
	// The connections with valid tokens still get updates.
	credit(t, long, servertest.Vars{"id": id, "amount": "1.00"})
	for _, ws := range []*servertest.WSConn{conns[1], conns[3]} {
		m, err := ws.Next(ctxTimeout(t, 10*time.Second))
		if err != nil || !m.IsNext() {
			t.Errorf("%s connection with a valid token: %+v, %v; want the update", ws.Subprotocol, m, err)
		}
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// mustJSON marshals v.
func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVerificationSettings: outside development mode exactly one way to
// verify tokens must be configured, with a long enough secret; server.New
// refuses anything else before touching the database.
func TestVerificationSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		tune func(*config.Config)
		says string // "" means accepted
	}{
		{"test config", func(*config.Config) {}, ""},
		{"none outside dev mode", func(c *config.Config) { c.JWTHS256Secret = "" }, "no token verification configured"},
		{"none in dev mode", func(c *config.Config) { c.JWTHS256Secret, c.Dev = "", true }, ""},
		{"short secret", func(c *config.Config) { c.JWTHS256Secret = "short" }, "at least 32 bytes"},
		{"short secret in dev mode", func(c *config.Config) { c.JWTHS256Secret, c.Dev = "short", true }, ""},
		{"secret and JWKS file", func(c *config.Config) { c.JWTJWKSFile = "/etc/jwks.json" }, "only one of"},
		{"JWKS file and URL in dev mode", func(c *config.Config) {
			c.JWTHS256Secret, c.JWTJWKSFile, c.JWTJWKSURL, c.Dev = "", "/etc/jwks.json", "https://id.example/jwks.json", true
		}, "only one of"},
		{"leeway", func(c *config.Config) { c.JWTLeeway = time.Hour }, "JWT_LEEWAY"},
	} {
		cfg := servertest.Config()
		tc.tune(&cfg)
		err := cfg.Validate()
		if tc.says == "" && err != nil {
			t.Errorf("%s: %v, want accepted", tc.name, err)
		}
		if tc.says != "" && (err == nil || !strings.Contains(err.Error(), tc.says)) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.says)
		}
	}
	// server.New checks the same, and loads the key set before anything.
	cfg := servertest.Config()
	cfg.JWTHS256Secret = ""
	if _, err := server.New(ctxTimeout(t, 5*time.Second), cfg, slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "no token verification configured") {
		t.Errorf("server.New without verification: %v", err)
	}
	cfg.JWTJWKSFile = filepath.Join(t.TempDir(), "missing.json")
	if _, err := server.New(ctxTimeout(t, 5*time.Second), cfg, slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "missing.json") {
		t.Errorf("server.New with a missing JWKS file: %v", err)
	}
}
