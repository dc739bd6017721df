package auth

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Defaults of the key-set refresh.
const (
	defaultRefreshInterval = 30 * time.Second
	defaultMaxKeyAge       = 10 * time.Minute
	defaultFetchTimeout    = 5 * time.Second
	// maxJWKSBytes caps a fetched key set.
	maxJWKSBytes = 1 << 20
)

// keySet holds the RS256 keys of a JSON Web Key Set, by key id, and loads
// the set again when a token names a key it does not hold (at most every
// refresh) or when the keys are older than maxAge. One load runs at a
// time; verifications of tokens signed by known keys never wait for it.
type keySet struct {
	source  string // the file or URL, for messages
	load    func(ctx context.Context) ([]byte, error)
	now     func() time.Time
	refresh time.Duration
	maxAge  time.Duration

	loading sync.Mutex // held while loading
	state   atomic.Pointer[keyState]
}

// keyState is one loaded set; it is never modified once stored.
type keyState struct {
	keys     map[string]*rsa.PublicKey
	loadedAt time.Time // of the keys
	tried    time.Time // of the last attempt, successful or not
	err      error     // of the last attempt
}

func newKeySet(ctx context.Context, cfg Config, now func() time.Time) (*keySet, error) {
	ks := &keySet{now: now, refresh: cfg.RefreshInterval, maxAge: cfg.MaxKeyAge}
	if ks.refresh <= 0 {
		ks.refresh = defaultRefreshInterval
	}
	if ks.maxAge <= 0 {
		ks.maxAge = defaultMaxKeyAge
	}
	if cfg.JWKSFile != "" {
		ks.source = cfg.JWKSFile
		ks.load = func(context.Context) ([]byte, error) { return os.ReadFile(cfg.JWKSFile) }
	} else {
		u, err := url.Parse(cfg.JWKSURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("auth: JWKS URL %q is not an http(s) URL", cfg.JWKSURL)
		}
		client := cfg.HTTPClient
		if client == nil {
			client = &http.Client{Timeout: defaultFetchTimeout}
		}
		ks.source = cfg.JWKSURL
		ks.load = func(ctx context.Context) ([]byte, error) { return fetch(ctx, client, cfg.JWKSURL) }
	}
	keys, err := ks.fetchKeys(ctx)
	if err != nil {
		return nil, err
	}
	t := now()
	ks.state.Store(&keyState{keys: keys, loadedAt: t, tried: t})
	return ks, nil
}

// key returns the key named kid (any key id when the set has one key and
// the token names none). It fails with ErrUnknownKey, wrapping why the
// last load failed, if it did.
func (ks *keySet) key(ctx context.Context, kid string) (any, error) {
	st := ks.state.Load()
	k, ok := st.lookup(kid)
	if ok && ks.now().Sub(st.loadedAt) < ks.maxAge {
		return k, nil
	}
	if ok {
		// Known but old: one caller reloads, the others go on with it.
		if !ks.loading.TryLock() {
			return k, nil
		}
	} else {
		ks.loading.Lock()
	}
	defer ks.loading.Unlock()
	st = ks.reload(ctx)
	if k, ok := st.lookup(kid); ok {
		return k, nil
	}
	if st.err != nil {
		return nil, fmt.Errorf("%w %q (loading the key set failed: %w)", ErrUnknownKey, kid, st.err)
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownKey, kid)
}

// reload loads the set again unless the last attempt is recent, and
// returns the current state. The caller holds ks.loading.
func (ks *keySet) reload(ctx context.Context) *keyState {
	st := ks.state.Load()
	now := ks.now()
	if now.Sub(st.tried) < ks.refresh {
		return st
	}
	// A client that gives up must not spoil the load for the others.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), defaultFetchTimeout)
	defer cancel()
	keys, err := ks.fetchKeys(ctx)
	next := &keyState{keys: keys, loadedAt: now, tried: now}
	if err != nil {
		// Keep the keys held: an unreachable key server must not lock out
		// every caller.
		next = &keyState{keys: st.keys, loadedAt: st.loadedAt, tried: now, err: err}
	}
	ks.state.Store(next)
	return next
}

func (st *keyState) lookup(kid string) (*rsa.PublicKey, bool) {
	if kid == "" && len(st.keys) == 1 {
		for _, k := range st.keys {
			return k, true
		}
	}
	k, ok := st.keys[kid]
	return k, ok
}

// fetchKeys loads and parses the set. Keys that cannot verify RS256
// signatures (other types, encryption keys, other algorithms, private
// parts, RSA under MinRSABits) are left out; a set without any fails.
func (ks *keySet) fetchKeys(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	raw, err := ks.load(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth: load JWKS %s: %w", ks.source, err)
	}
	keys, err := ParseJWKS(raw)
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS %s: %w", ks.source, err)
	}
	return keys, nil
}

// ParseJWKS parses a JSON Web Key Set and returns its RSA public keys that
// may verify RS256 signatures, by key id ("" for a key without one). It
// fails on invalid JSON and on a set without any such key.
func ParseJWKS(raw []byte) (map[string]*rsa.PublicKey, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("not a JSON Web Key Set: %w", err)
	}
	keys := make(map[string]*rsa.PublicKey, len(set.Keys))
	for _, k := range set.Keys {
		pub, ok := k.Key.(*rsa.PublicKey)
		if !ok || !k.IsPublic() || (k.Use != "" && k.Use != "sig") ||
			(k.Algorithm != "" && k.Algorithm != "RS256") || pub.N.BitLen() < MinRSABits {
			continue
		}
		keys[k.KeyID] = pub
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no RSA signing key of at least %d bits for RS256 among %d keys", MinRSABits, len(set.Keys))
	}
	return keys, nil
}

// fetch GETs a key set.
func fetch(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxJWKSBytes))
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxJWKSBytes {
		return nil, fmt.Errorf("larger than %d bytes", maxJWKSBytes)
	}
	return raw, nil
}
