package server

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/chronicle-es/chronicle/internal/auth"
	"github.com/chronicle-es/chronicle/internal/config"
)

// Bounds of a development token's lifetime.
const (
	devTokenDefaultTTL = time.Hour
	devTokenMaxTTL     = 24 * time.Hour
)

// devTokenRequest is the body of POST /dev/token.
type devTokenRequest struct {
	// Actor and Organization name the caller the token is for.
	Actor        string `json:"actor"`
	Organization string `json:"organization"`
	// TTL is the token's lifetime as a Go duration ("1h"); empty: 1h.
	TTL string `json:"ttl"`
}

// devTokenResponse is the answer of POST /dev/token.
type devTokenResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// devTokenHandler answers POST /dev/token with an HS256 token for the
// actor and organization of the JSON body, signed with JWT_HS256_SECRET as
// `make token` would (issuer, audience and organization claim from the
// config). It exists so that the web app's development sign-in can pick an
// actor and organization; New mounts it only in development mode with an
// HS256 secret, behind the same CORS rules as /query (the app may be served
// by Vite's dev server). Errors: 405 for another method, 400 with a JSON {"error": "..."} for a bad body or
// identity.
func devTokenHandler(cfg config.Config, logger *slog.Logger) http.Handler {
	secret := []byte(cfg.JWTHS256Secret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "POST a JSON body {\"actor\", \"organization\"}"})
			return
		}
		var req devTokenRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body: " + err.Error()})
			return
		}
		ttl := devTokenDefaultTTL
		if req.TTL != "" {
			d, err := time.ParseDuration(req.TTL)
			if err != nil || d <= 0 || d > devTokenMaxTTL {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "ttl must be a duration between 1s and 24h, e.g. \"1h\""})
				return
			}
			ttl = d
		}
		now := time.Now()
		token, err := auth.MintWith(secret, auth.Identity{Subject: req.Actor, Organization: req.Organization}, ttl, auth.MintOptions{
			Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, OrganizationClaim: cfg.JWTOrganizationClaim, Now: now,
		})
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": strings.TrimPrefix(err.Error(), "auth: mint: ")})
			return
		}
		logger.Debug("minted a development token", "actor", req.Actor, "organization", req.Organization, "ttl", ttl)
		writeJSON(w, http.StatusOK, devTokenResponse{Token: token, ExpiresAt: now.Add(ttl).UTC().Truncate(time.Second)})
	})
}

// writeJSON writes v as a JSON response that is never cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
