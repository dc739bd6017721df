package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/auth"
	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

const secret = "unit-test-secret-unit-test-secret-0123"

var alice = auth.Identity{Subject: "alice", Organization: "acme"}

// claims returns valid claims for alice, issued now and valid for an hour.
func claims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{"sub": "alice", "org": "acme", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

func signHS(t *testing.T, c jwt.MapClaims, key string) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func signRS(t *testing.T, c jwt.MapClaims, key *rsa.PrivateKey, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newHS(t *testing.T, cfg auth.Config) *auth.Verifier {
	t.Helper()
	if cfg.HS256Secret == nil {
		cfg.HS256Secret = []byte(secret)
	}
	v, err := auth.NewVerifier(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// wantErr checks that err wraps sentinel and is an UNAUTHENTICATED
// *apperr.Error.
func wantErr(t *testing.T, name string, err, sentinel error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Errorf("%s: error %v, want %v", name, err, sentinel)
		return
	}
	if code, ok := apperr.CodeOf(err); !ok || code != apperr.Unauthenticated {
		t.Errorf("%s: code %q, want UNAUTHENTICATED", name, code)
	}
}

func TestVerifyHS256(t *testing.T) {
	now := time.Now()
	v := newHS(t, auth.Config{Leeway: 30 * time.Second})
	good := signHS(t, claims(now), secret)
	c, err := v.Verify(context.Background(), good)
	if err != nil {
		t.Fatalf("valid token: %v", err)
	}
	if !reflect.DeepEqual(c.Identity, alice) || c.ExpiresAt.Unix() != now.Add(time.Hour).Unix() || !c.ValidUntil.Equal(c.ExpiresAt.Add(30*time.Second)) {
		t.Errorf("claims = %+v, want alice of acme, expiring in an hour", c)
	}

	with := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := claims(now)
		mod(c)
		return c
	}
	noneToken, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims(now)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	hs384, err := jwt.NewWithClaims(jwt.SigningMethodHS384, claims(now)).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	for _, tc := range []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", auth.ErrMissingToken},
		{"not a JWT", "not-a-jwt", auth.ErrMalformedToken},
		{"bad base64", "a.b.c", auth.ErrMalformedToken},
		{"too long", good + strings.Repeat("A", auth.MaxTokenBytes), auth.ErrMalformedToken},
		{"wrong secret", signHS(t, claims(now), secret+"x"), auth.ErrBadSignature},
		{"tampered payload", parts[0] + "." + strings.Split(signHS(t, with(func(c jwt.MapClaims) { c["org"] = "evil" }), "other"), ".")[1] + "." + parts[2], auth.ErrBadSignature},
		{"alg none", noneToken, auth.ErrAlgorithm},
		{"alg none, no signature", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + ".", auth.ErrAlgorithm},
		{"HS384", hs384, auth.ErrAlgorithm},
		{"expired", signHS(t, with(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }), secret), auth.ErrExpiredToken},
		{"no exp", signHS(t, with(func(c jwt.MapClaims) { delete(c, "exp") }), secret), auth.ErrNoExpiry},
		{"exp not a number", signHS(t, with(func(c jwt.MapClaims) { c["exp"] = "tomorrow" }), secret), auth.ErrMalformedToken},
		{"not yet valid", signHS(t, with(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Minute).Unix() }), secret), auth.ErrTokenNotYetValid},
		{"issued in the future", signHS(t, with(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Minute).Unix() }), secret), auth.ErrTokenNotYetValid},
		{"no sub", signHS(t, with(func(c jwt.MapClaims) { delete(c, "sub") }), secret), auth.ErrMissingSubject},
		{"empty sub", signHS(t, with(func(c jwt.MapClaims) { c["sub"] = "" }), secret), auth.ErrMissingSubject},
		{"sub not a string", signHS(t, with(func(c jwt.MapClaims) { c["sub"] = 42 }), secret), auth.ErrMissingSubject},
		{"control character in sub", signHS(t, with(func(c jwt.MapClaims) { c["sub"] = "al\nice" }), secret), auth.ErrMissingSubject},
		{"sub too long", signHS(t, with(func(c jwt.MapClaims) { c["sub"] = strings.Repeat("a", auth.MaxIdentityBytes+1) }), secret), auth.ErrMissingSubject},
		{"no org", signHS(t, with(func(c jwt.MapClaims) { delete(c, "org") }), secret), auth.ErrMissingOrganization},
		{"org not a string", signHS(t, with(func(c jwt.MapClaims) { c["org"] = []string{"acme"} }), secret), auth.ErrMissingOrganization},
	} {
		_, err := v.Verify(context.Background(), tc.token)
		wantErr(t, tc.name, err, tc.want)
	}

	// The leeway: a token expired 10 s ago passes with 30 s, not with 0.
	justExpired := signHS(t, with(func(c jwt.MapClaims) { c["exp"] = now.Add(-10 * time.Second).Unix() }), secret)
	if _, err := v.Verify(context.Background(), justExpired); err != nil {
		t.Errorf("expired 10 s ago, leeway 30 s: %v", err)
	}
	if _, err := newHS(t, auth.Config{}).Verify(context.Background(), justExpired); !errors.Is(err, auth.ErrExpiredToken) {
		t.Errorf("expired 10 s ago, no leeway: %v, want expired", err)
	}
}

func TestVerifyIssuerAudienceAndClaimName(t *testing.T) {
	now := time.Now()
	v := newHS(t, auth.Config{Issuer: "https://id.example", Audience: "chronicle", OrganizationClaim: "https://chronicle.example/org"})
	base := func() jwt.MapClaims {
		c := claims(now)
		delete(c, "org")
		c["https://chronicle.example/org"] = "acme"
		c["iss"] = "https://id.example"
		c["aud"] = []string{"other", "chronicle"}
		return c
	}
	if c, err := v.Verify(context.Background(), signHS(t, base(), secret)); err != nil || !reflect.DeepEqual(c.Identity, alice) {
		t.Fatalf("valid token: %+v, %v", c, err)
	}
	for _, tc := range []struct {
		name string
		mod  func(jwt.MapClaims)
		want error
	}{
		{"wrong issuer", func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }, auth.ErrWrongIssuer},
		{"no issuer", func(c jwt.MapClaims) { delete(c, "iss") }, auth.ErrWrongIssuer},
		{"wrong audience", func(c jwt.MapClaims) { c["aud"] = "other" }, auth.ErrWrongAudience},
		{"no audience", func(c jwt.MapClaims) { delete(c, "aud") }, auth.ErrWrongAudience},
		{"org in the default claim only", func(c jwt.MapClaims) {
			delete(c, "https://chronicle.example/org")
			c["org"] = "acme"
		}, auth.ErrMissingOrganization},
	} {
		c := base()
		tc.mod(c)
		_, err := v.Verify(context.Background(), signHS(t, c, secret))
		wantErr(t, tc.name, err, tc.want)
	}
}

func TestMint(t *testing.T) {
	v := newHS(t, auth.Config{Issuer: "dev", Audience: "chronicle"})
	tok, err := auth.MintWith([]byte(secret), alice, time.Minute, auth.MintOptions{Issuer: "dev", Audience: "chronicle"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), tok)
	if err != nil || !reflect.DeepEqual(c.Identity, alice) {
		t.Fatalf("minted token: %+v, %v", c, err)
	}
	if d := time.Until(c.ExpiresAt); d <= 0 || d > time.Minute {
		t.Errorf("minted token expires in %s, want within a minute", d)
	}
	if _, err := v.Verify(context.Background(), mustMint(t, alice)); !errors.Is(err, auth.ErrWrongIssuer) {
		t.Errorf("token without iss: %v, want wrong issuer", err)
	}
	for _, bad := range []struct {
		secret string
		id     auth.Identity
		ttl    time.Duration
	}{{"", alice, time.Minute}, {secret, alice, 0}, {secret, auth.Identity{Subject: "alice"}, time.Minute}, {secret, auth.Identity{Organization: "acme"}, time.Minute}} {
		if _, err := auth.Mint([]byte(bad.secret), bad.id, bad.ttl); err == nil {
			t.Errorf("Mint(%q, %+v, %s) succeeded", bad.secret, bad.id, bad.ttl)
		}
	}
}

// TestRolesClaim: the roles claim is an array of strings (or one string);
// anything else is refused as malformed, and a token without it has none.
func TestRolesClaim(t *testing.T) {
	v := newHS(t, auth.Config{})
	now := time.Now()
	for _, tc := range []struct {
		roles any
		want  []string
	}{{nil, nil}, {[]any{"admin", "auditor"}, []string{"admin", "auditor"}}, {"admin", []string{"admin"}}, {[]any{}, []string{}}} {
		c := claims(now)
		if tc.roles != nil {
			c[auth.RolesClaim] = tc.roles
		}
		got, err := v.Verify(context.Background(), signHS(t, c, secret))
		if err != nil || !reflect.DeepEqual(got.Roles, tc.want) {
			t.Errorf("roles %v: got %#v, %v; want %#v", tc.roles, got.Roles, err, tc.want)
		}
		if got.HasRole(auth.RoleAdmin) != slices.Contains(tc.want, auth.RoleAdmin) {
			t.Errorf("roles %v: HasRole(admin) = %v", tc.roles, got.HasRole(auth.RoleAdmin))
		}
	}
	for _, bad := range []any{42, []any{"admin", 7}, []any{""}, []any{"ad\nmin"}, make([]any, auth.MaxRoles+1)} {
		c := claims(now)
		c[auth.RolesClaim] = bad
		_, err := v.Verify(context.Background(), signHS(t, c, secret))
		wantErr(t, fmt.Sprintf("roles %v", bad), err, auth.ErrMalformedRoles)
	}
}

func mustMint(t *testing.T, id auth.Identity) string {
	t.Helper()
	tok, err := auth.Mint([]byte(secret), id, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		header, token string
		want          error
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi", nil},
		{"bearer  abc.def.ghi ", "abc.def.ghi", nil},
		{"", "", auth.ErrMissingToken},
		{"Bearer", "", auth.ErrMissingToken},
		{"Bearer ", "", auth.ErrMissingToken},
		{"Basic YWxpY2U6c2VjcmV0", "", auth.ErrMalformedToken},
		{"abc.def.ghi", "", auth.ErrMalformedToken},
	} {
		tok, err := auth.BearerToken(tc.header)
		if tok != tc.token || !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tc.header, tok, err, tc.token, tc.want)
		}
	}
}

func TestNewVerifierConfig(t *testing.T) {
	ctx := context.Background()
	for name, cfg := range map[string]auth.Config{
		"nothing":        {},
		"two methods":    {HS256Secret: []byte(secret), JWKSFile: "keys.json"},
		"negative skew":  {HS256Secret: []byte(secret), Leeway: -time.Second},
		"huge skew":      {HS256Secret: []byte(secret), Leeway: time.Hour},
		"missing file":   {JWKSFile: filepath.Join(t.TempDir(), "none.json")},
		"not http":       {JWKSURL: "file:///etc/passwd"},
		"unreachable":    {JWKSURL: "http://127.0.0.1:1/jwks.json"},
		"relative URL":   {JWKSURL: "/jwks.json"},
		"file, no RSA":   {JWKSFile: writeFile(t, `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`)},
		"file, not JSON": {JWKSFile: writeFile(t, `keys`)},
	} {
		if _, err := auth.NewVerifier(ctx, cfg); err == nil {
			t.Errorf("%s: NewVerifier succeeded", name)
		}
	}
}

// rsaKeys makes n RSA keys (2048 bits: smaller ones are refused).
func rsaKeys(t *testing.T, n int) []*rsa.PrivateKey {
	t.Helper()
	keys := make([]*rsa.PrivateKey, n)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				t.Error(err)
				return
			}
			keys[i] = k
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return keys
}

// jwks returns the public JWKS of keys, named by kids.
func jwks(t *testing.T, keys map[string]*rsa.PrivateKey) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for kid, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerifyRS256FromFile(t *testing.T) {
	keys := rsaKeys(t, 2)
	k1, other := keys[0], keys[1]
	now := time.Now()
	v, err := auth.NewVerifier(context.Background(), auth.Config{JWKSFile: writeFile(t, string(jwks(t, map[string]*rsa.PrivateKey{"k1": k1})))})
	if err != nil {
		t.Fatal(err)
	}
	if v.Algorithm() != "RS256" {
		t.Errorf("algorithm %s, want RS256", v.Algorithm())
	}
	if c, err := v.Verify(context.Background(), signRS(t, claims(now), k1, "k1")); err != nil || !reflect.DeepEqual(c.Identity, alice) {
		t.Fatalf("valid RS256 token: %+v, %v", c, err)
	}
	// One key in the set: a token without kid may use it.
	if _, err := v.Verify(context.Background(), signRS(t, claims(now), k1, "")); err != nil {
		t.Errorf("RS256 token without kid: %v", err)
	}
	// HS256 signed with the public key's bytes (the classic confusion).
	pubJSON := jwks(t, map[string]*rsa.PrivateKey{"k1": k1})
	confused := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(now))
	confused.Header["kid"] = "k1"
	confusedTok, err := confused.SignedString(pubJSON)
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(context.Background(), confusedTok)
	wantErr(t, "HS256 against an RS256 verifier", err, auth.ErrAlgorithm)
	_, err = v.Verify(context.Background(), signRS(t, claims(now), other, "k1"))
	wantErr(t, "signed by another key under a known kid", err, auth.ErrBadSignature)
	_, err = v.Verify(context.Background(), signRS(t, claims(now), other, "k2"))
	wantErr(t, "unknown kid", err, auth.ErrUnknownKey)

	// An HS256 verifier refuses RS256 tokens.
	_, err = newHS(t, auth.Config{}).Verify(context.Background(), signRS(t, claims(now), k1, "k1"))
	wantErr(t, "RS256 against an HS256 verifier", err, auth.ErrAlgorithm)
}

// TestVerifyRS256FromURL rotates the keys of a JWKS endpoint: a token
// signed by a new key is accepted after a refetch, refetches prompted by
// unknown keys happen at most once per refresh interval, and a failing
// endpoint keeps the keys held.
func TestVerifyRS256FromURL(t *testing.T) {
	keys := rsaKeys(t, 3)
	k1, k2, k3 := keys[0], keys[1], keys[2]
	var (
		mu      sync.Mutex
		current = map[string]*rsa.PrivateKey{"k1": k1}
		failing bool
		fetches atomic.Int64
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		mu.Lock()
		defer mu.Unlock()
		if failing {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks(t, current))
	}))
	defer srv.Close()
	set := func(keys map[string]*rsa.PrivateKey, fail bool) {
		mu.Lock()
		current, failing = keys, fail
		mu.Unlock()
	}

	var clock atomic.Int64
	start := time.Now()
	clock.Store(start.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	advance := func(d time.Duration) { clock.Add(int64(d)) }
	v, err := auth.NewVerifier(context.Background(), auth.Config{
		JWKSURL: srv.URL, RefreshInterval: 30 * time.Second, MaxKeyAge: 10 * time.Minute, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	verify := func(key *rsa.PrivateKey, kid string) error {
		_, err := v.Verify(context.Background(), signRS(t, claims(now()), key, kid))
		return err
	}
	if err := verify(k1, "k1"); err != nil || fetches.Load() != 1 {
		t.Fatalf("k1: %v after %d fetches, want valid after 1", err, fetches.Load())
	}

	// Rotation: k2 appears. The first token signed by it prompts a refetch
	// (the last fetch is 31 s old) and is accepted.
	set(map[string]*rsa.PrivateKey{"k1": k1, "k2": k2}, false)
	advance(31 * time.Second)
	if err := verify(k2, "k2"); err != nil || fetches.Load() != 2 {
		t.Fatalf("k2 after rotation: %v after %d fetches, want valid after 2", err, fetches.Load())
	}
	// Unknown kids do not hammer the endpoint: within 30 s of the last
	// fetch, no refetch.
	advance(29 * time.Second)
	for range 5 {
		if err := verify(k3, "k3"); !errors.Is(err, auth.ErrUnknownKey) {
			t.Fatalf("k3 not published: %v, want unknown key", err)
		}
	}
	if n := fetches.Load(); n != 2 {
		t.Errorf("%d fetches after five tokens of an unknown key, want still 2", n)
	}
	// After the interval, k3 (published meanwhile) is fetched.
	set(map[string]*rsa.PrivateKey{"k2": k2, "k3": k3}, false)
	advance(2 * time.Second)
	if err := verify(k3, "k3"); err != nil {
		t.Errorf("k3 after publication: %v", err)
	}
	// k1 was withdrawn: refused now (a refetch is not due).
	if err := verify(k1, "k1"); !errors.Is(err, auth.ErrUnknownKey) {
		t.Errorf("withdrawn k1: %v, want unknown key", err)
	}

	// The endpoint fails: the keys held keep working, also once old.
	set(nil, true)
	advance(11 * time.Minute)
	before := fetches.Load()
	if err := verify(k2, "k2"); err != nil {
		t.Errorf("k2 while the endpoint fails: %v", err)
	}
	if fetches.Load() != before+1 {
		t.Errorf("old keys were not refetched (%d fetches, want %d)", fetches.Load(), before+1)
	}
	advance(31 * time.Second)
	err = verify(k1, "k1")
	wantErr(t, "unknown key while the endpoint fails", err, auth.ErrUnknownKey)
	if err != nil && !strings.Contains(err.Error(), "503") {
		t.Errorf("error %q does not say why the key set could not be loaded", err)
	}
}
