package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/auth"
	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/chronicle-es/chronicle/internal/config"
	"github.com/chronicle-es/chronicle/internal/gqlws"
	"github.com/google/uuid"
)

// closeAuthFailed is the WebSocket close code of a connection refused at
// connection_init: 4403, as the graphql-transport-ws protocol recommends for
// a rejected connection_init (the reason carries UNAUTHENTICATED).
const closeAuthFailed = 4403

// errTokenExpired is the cause of a stream's context ending because the
// token that opened it expired.
var errTokenExpired = fmt.Errorf("%w: the stream outlived its token", auth.ErrExpiredToken)

// authenticator finds the caller of a request or of a WebSocket's
// connection_init.
type authenticator struct {
	// verifier is nil when no verification is configured (development
	// mode only): then every token is refused.
	verifier *auth.Verifier
	dev      bool
	// devActor and devOrganization name the caller of a request without a
	// token in development mode.
	devActor, devOrganization string
}

// newAuthenticator builds the verifier cfg configures (loading a key set
// within ctx).
func newAuthenticator(ctx context.Context, cfg config.Config) (*authenticator, error) {
	a := &authenticator{dev: cfg.Dev, devActor: cfg.DevActor, devOrganization: cfg.DevOrganization}
	if cfg.JWTHS256Secret == "" && cfg.JWTJWKSFile == "" && cfg.JWTJWKSURL == "" {
		return a, nil // development mode, as cfg.Validate made sure
	}
	v, err := auth.NewVerifier(ctx, auth.Config{
		HS256Secret:       []byte(cfg.JWTHS256Secret),
		JWKSFile:          cfg.JWTJWKSFile,
		JWKSURL:           cfg.JWTJWKSURL,
		Issuer:            cfg.JWTIssuer,
		Audience:          cfg.JWTAudience,
		OrganizationClaim: cfg.JWTOrganizationClaim,
		Leeway:            cfg.JWTLeeway,
	})
	if err != nil {
		return nil, fmt.Errorf("token verification: %w", err)
	}
	a.verifier = v
	return a, nil
}

// verify checks a raw token.
func (a *authenticator) verify(ctx context.Context, token string) (auth.Claims, error) {
	if a.verifier == nil {
		return auth.Claims{}, fmt.Errorf("%w: this server verifies no tokens (development mode without JWT settings)", auth.ErrBadSignature)
	}
	return a.verifier.Verify(ctx, token)
}

// edgeAuth is what withCaller found on the request, for websocketInit.
type edgeAuth struct {
	// validUntil is when the token of the request stops being valid; zero
	// when the request had no token.
	validUntil time.Time
}

type edgeAuthKey struct{}

// withCaller authenticates the request and puts its caller.Caller in its
// context, and echoes the correlation id in the response:
//
//   - a request with an Authorization: Bearer token acts as the token's
//     subject and organization; an invalid token is refused (HTTP 401,
//     UNAUTHENTICATED), in development mode too;
//   - a request without one is refused outside development mode, except a
//     WebSocket upgrade, whose token comes in connection_init (see
//     websocketInit); in development mode it acts as DEV_ACTOR of
//     DEV_ORGANIZATION, or as the X-Actor of the X-Organization headers;
//   - an SSE stream ends when its token expires.
//
// CORS preflights never reach it (withCORS answers them); other OPTIONS
// requests pass without a caller.
func withCaller(a *authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := caller.Caller{Actor: "anonymous", CorrelationID: r.Header.Get(headerCorrelationID)}
		if !validHeaderValue(c.CorrelationID) {
			c.CorrelationID = uuid.Must(uuid.NewV7()).String()
		}
		w.Header().Set(headerCorrelationID, c.CorrelationID)
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		websocket := strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
		token, err := auth.BearerToken(r.Header.Get("Authorization"))
		var edge edgeAuth
		switch {
		case err == nil:
			claims, verr := a.verify(ctx, token)
			if verr != nil {
				refuse(w, r, verr)
				return
			}
			c.Actor, c.Organization, c.Roles = claims.Subject, claims.Organization, claims.Roles
			edge.validUntil = claims.ValidUntil
			if !websocket && isLongRequest(r) {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadlineCause(ctx, claims.ValidUntil, errTokenExpired)
				defer cancel()
			}
		case !errors.Is(err, auth.ErrMissingToken):
			refuse(w, r, err)
			return
		case a.dev:
			c.Actor, c.Organization = a.devIdentity(r.Header.Get(headerActor), r.Header.Get(headerOrganization))
		case !websocket:
			refuse(w, r, err)
			return
		}
		ctx = context.WithValue(caller.With(ctx, c), edgeAuthKey{}, edge)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// devIdentity returns the development caller: actor and organization when
// they are valid, else the configured defaults.
func (a *authenticator) devIdentity(actor, organization string) (string, string) {
	if !validHeaderValue(actor) {
		actor = a.devActor
	}
	if !validHeaderValue(organization) {
		organization = a.devOrganization
	}
	return actor, organization
}

// refuse answers an unauthenticated request: HTTP 401 with a
// WWW-Authenticate challenge (RFC 6750) and a GraphQL response whose one
// error has the code UNAUTHENTICATED. The body is never read.
func refuse(w http.ResponseWriter, r *http.Request, err error) {
	challenge := `Bearer realm="chronicle"`
	if !errors.Is(err, auth.ErrMissingToken) {
		challenge += `, error="invalid_token"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	w.Header().Set("Cache-Control", "no-store")
	refuseEarly(w, r, http.StatusUnauthorized, string(apperr.Unauthenticated), err.Error())
}

// websocketInit returns the WebSocket connection_init handler, which sets
// the caller of the connection's operations (the correlation id is the
// upgrade request's):
//
//   - a token in the payload ("Authorization" or "authorization":
//     "Bearer <token>", or "token" or "authToken": "<token>") names the
//     caller, and takes precedence over a token the upgrade request had;
//   - else the upgrade request's token, if any, does (withCaller checked
//     it);
//   - else, in development mode, the development caller, or the payload's
//     "actor" and "organization";
//   - else the connection is refused.
//
// A refused connection gets a connection_error (legacy graphql-ws) whose
// message starts with "UNAUTHENTICATED: ", then is closed with code 4403
// and the same reason. An accepted connection's context ends when its
// token expires: gqlgen then ends its operations and closes it.
func websocketInit(a *authenticator) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		c := caller.From(ctx)
		edge, _ := ctx.Value(edgeAuthKey{}).(edgeAuth)
		validUntil := edge.validUntil
		raw, present := payloadToken(payload)
		switch {
		case present:
			token, err := auth.BearerToken(raw)
			if err == nil {
				var claims auth.Claims
				claims, err = a.verify(ctx, token)
				c.Actor, c.Organization, c.Roles, validUntil = claims.Subject, claims.Organization, claims.Roles, claims.ValidUntil
			}
			if err != nil {
				return refuseConnection(ctx, err)
			}
		case !validUntil.IsZero():
			// Authenticated by the upgrade request.
		case a.dev:
			c.Actor, c.Organization = a.devIdentity(payload.GetString("actor"), payload.GetString("organization"))
		default:
			return refuseConnection(ctx, auth.ErrMissingToken)
		}
		ctx = caller.With(ctx, c)
		if !validUntil.IsZero() {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadlineCause(ctx, validUntil, errTokenExpired)
			// The timer is released when the connection ends (its request's
			// context, the parent, ends then), or at the deadline.
			context.AfterFunc(ctx, cancel)
		}
		return ctx, nil, nil
	}
}

// payloadToken returns the token of a connection_init payload and whether
// one of the keys that carry it is present (even empty: that is refused,
// not ignored). "Authorization" values are "Bearer <token>"; "token" and
// "authToken" may be either.
func payloadToken(p transport.InitPayload) (string, bool) {
	for _, key := range []string{"Authorization", "authorization", "token", "authToken"} {
		v, ok := p[key]
		if !ok {
			continue
		}
		s, _ := v.(string)
		if f := strings.Fields(s); (key == "token" || key == "authToken") && (len(f) != 2 || !strings.EqualFold(f[0], "Bearer")) {
			s = "Bearer " + s
		}
		return s, true
	}
	return "", false
}

// refuseConnection fails a connection_init with err: gqlgen sends its
// message as a connection_error (graphql-ws) and closes the connection with
// the code and reason of the returned context.
func refuseConnection(ctx context.Context, err error) (context.Context, *transport.InitPayload, error) {
	msg := string(apperr.Unauthenticated) + ": " + err.Error()
	reason := msg
	if len(reason) > gqlws.MaxCloseReason {
		var appErr *apperr.Error
		if errors.As(err, &appErr) {
			reason = string(apperr.Unauthenticated) + ": " + appErr.Message
		}
		reason = gqlws.CloseReason(reason)
	}
	ctx = transport.WithWebsocketCloseCode(transport.AppendCloseReason(ctx, reason), closeAuthFailed)
	return ctx, nil, initRefusal{msg: msg, reason: reason}
}

// initRefusal is the error of a refused connection_init: its message is the
// legacy protocol's connection_error, and it tells gqlws (graphql-transport-ws)
// the close code and reason that gqlgen's transport reads from the context.
type initRefusal struct{ msg, reason string }

func (e initRefusal) Error() string { return e.msg }

// CloseCode implements gqlws.InitRefusal.
func (e initRefusal) CloseCode() (int, string) { return closeAuthFailed, e.reason }
