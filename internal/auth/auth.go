// Package auth verifies the JWT bearer tokens that name a Chronicle caller:
// its subject (the actor recorded in event metadata) and its organization
// (the tenant every read and write is confined to).
//
// A Verifier accepts tokens signed one way only, fixed by its Config: HS256
// with a shared secret, or RS256 with the public keys of a JSON Web Key Set
// read from a file or a URL. Every token must carry an expiry (exp); nbf and
// iat are honoured with a small leeway; the issuer and audience are checked
// when configured. Every failure is an *apperr.Error with the code
// UNAUTHENTICATED, one of the sentinels below (match them with errors.Is),
// sometimes wrapped with details.
//
// Mint signs HS256 development tokens (cmd/mint-token, tests).
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/golang-jwt/jwt/v5"
)

// Identity is who calls: the token's subject and organization.
type Identity struct {
	// Subject is the token's "sub": the actor of the caller's commands.
	Subject string
	// Organization is the token's organization claim: the caller's tenant.
	Organization string
	// Roles are the token's "roles" claim (a JSON array of strings, or
	// one string), e.g. ["admin"]: what the caller may do beyond its
	// organization's ordinary reads and writes. Nil when absent.
	Roles []string
}

// RolesClaim is the claim that lists the caller's roles.
const RolesClaim = "roles"

// RoleAdmin may run administrative operations, such as erasing a data
// subject.
const RoleAdmin = "admin"

// MaxRoles bounds how many roles a token may list.
const MaxRoles = 32

// ErrMalformedRoles is returned by Verify for a roles claim that is not a
// string or an array of at most MaxRoles valid strings.
var ErrMalformedRoles = unauthenticated("malformed roles claim (want an array of strings)")

// HasRole reports whether the identity lists role.
func (id Identity) HasRole(role string) bool {
	return slices.Contains(id.Roles, role)
}

// parseRoles reads the roles claim.
func parseRoles(claim any) ([]string, error) {
	var raw []any
	switch c := claim.(type) {
	case nil:
		return nil, nil
	case string:
		raw = []any{c}
	case []any:
		raw = c
	default:
		return nil, ErrMalformedRoles
	}
	if len(raw) > MaxRoles {
		return nil, ErrMalformedRoles
	}
	roles := make([]string, 0, len(raw))
	for _, r := range raw {
		s, ok := r.(string)
		if !ok || !validIdentityString(s) {
			return nil, ErrMalformedRoles
		}
		roles = append(roles, s)
	}
	return roles, nil
}

// Claims is what a verified token says.
type Claims struct {
	Identity
	// ExpiresAt is the token's "exp".
	ExpiresAt time.Time
	// ValidUntil is ExpiresAt plus the leeway: the last moment Verify
	// accepts the token. Streams opened with it end then.
	ValidUntil time.Time
}

// DefaultOrganizationClaim is the claim that names the organization unless
// Config.OrganizationClaim says otherwise.
const DefaultOrganizationClaim = "org"

// Bounds of the checks.
const (
	// MaxTokenBytes is the longest token accepted (longer: malformed).
	MaxTokenBytes = 8 << 10
	// MaxIdentityBytes is the longest subject or organization accepted.
	MaxIdentityBytes = 256
	// MaxLeeway is the largest clock skew Config.Leeway may allow.
	MaxLeeway = 5 * time.Minute
	// MinRSABits is the smallest RSA key accepted from a key set.
	MinRSABits = 2048
)

// The failures of Verify and BearerToken. Each is an *apperr.Error with code
// UNAUTHENTICATED; the errors returned wrap one of them (errors.Is), often
// with details, and their message is meant for the client.
var (
	ErrMissingToken        = unauthenticated("missing bearer token (send Authorization: Bearer <token>)")
	ErrMalformedToken      = unauthenticated("malformed bearer token")
	ErrExpiredToken        = unauthenticated("expired token")
	ErrTokenNotYetValid    = unauthenticated("token not valid yet")
	ErrNoExpiry            = unauthenticated("token has no expiry (exp)")
	ErrBadSignature        = unauthenticated("bad token signature")
	ErrAlgorithm           = unauthenticated("token signing algorithm not accepted")
	ErrUnknownKey          = unauthenticated("token signed by an unknown key")
	ErrWrongIssuer         = unauthenticated("token issuer not accepted")
	ErrWrongAudience       = unauthenticated("token audience not accepted")
	ErrMissingSubject      = unauthenticated("token has no valid subject (sub)")
	ErrMissingOrganization = unauthenticated("token has no valid organization claim")
)

func unauthenticated(msg string) *apperr.Error { return apperr.New(apperr.Unauthenticated, msg) }

// Config says how tokens are verified. Exactly one of HS256Secret, JWKSFile
// and JWKSURL must be set.
type Config struct {
	// HS256Secret verifies HS256 tokens (a shared secret).
	HS256Secret []byte
	// JWKSFile is a JSON Web Key Set file whose RSA keys verify RS256
	// tokens. It is read at start, and again (at most every
	// RefreshInterval) when a token names a key it does not hold.
	JWKSFile string
	// JWKSURL is where to fetch such a key set (http or https); refetched
	// like JWKSFile, and when the keys are older than MaxKeyAge.
	JWKSURL string
	// Issuer, when set, must equal the token's "iss".
	Issuer string
	// Audience, when set, must be one of the token's "aud".
	Audience string
	// OrganizationClaim names the claim holding the organization; empty
	// means DefaultOrganizationClaim.
	OrganizationClaim string
	// Leeway is the clock skew allowed on exp, nbf and iat (0..MaxLeeway).
	Leeway time.Duration

	// HTTPClient fetches JWKSURL; nil means a client with a 5 s timeout.
	HTTPClient *http.Client
	// RefreshInterval is the least time between two fetches of the key
	// set prompted by unknown keys; 0 means 30 s.
	RefreshInterval time.Duration
	// MaxKeyAge is how long fetched keys are used before the set is fetched
	// again (a revoked key goes away); 0 means 10 minutes. Failed fetches
	// keep the keys held.
	MaxKeyAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verifier checks bearer tokens. It is safe for concurrent use.
type Verifier struct {
	parser   *jwt.Parser
	alg      string // the only signing algorithm accepted
	secret   []byte // HS256
	keys     *keySet
	orgClaim string
	issuer   string
	audience string
	leeway   time.Duration
}

// NewVerifier returns the Verifier cfg describes. With a key set it loads
// the keys first (file or URL, within ctx), and fails if that set holds no
// usable RSA signing key.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	methods := 0
	for _, set := range []bool{len(cfg.HS256Secret) > 0, cfg.JWKSFile != "", cfg.JWKSURL != ""} {
		if set {
			methods++
		}
	}
	if methods != 1 {
		return nil, fmt.Errorf("auth: exactly one of an HS256 secret, a JWKS file and a JWKS URL must be configured, not %d", methods)
	}
	if cfg.Leeway < 0 || cfg.Leeway > MaxLeeway {
		return nil, fmt.Errorf("auth: leeway %s out of range 0..%s", cfg.Leeway, MaxLeeway)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	v := &Verifier{
		orgClaim: cfg.OrganizationClaim,
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		leeway:   cfg.Leeway,
	}
	if v.orgClaim == "" {
		v.orgClaim = DefaultOrganizationClaim
	}
	if len(cfg.HS256Secret) > 0 {
		v.alg = jwt.SigningMethodHS256.Alg()
		v.secret = append([]byte(nil), cfg.HS256Secret...)
	} else {
		v.alg = jwt.SigningMethodRS256.Alg()
		keys, err := newKeySet(ctx, cfg, now)
		if err != nil {
			return nil, err
		}
		v.keys = keys
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{v.alg}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(now),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// Algorithm returns the one signing algorithm v accepts ("HS256" or "RS256").
func (v *Verifier) Algorithm() string { return v.alg }

// BearerToken returns the token of an Authorization header value
// ("Bearer <token>", the scheme in any case). It fails with ErrMissingToken
// for an empty value and ErrMalformedToken for anything else that is not a
// bearer token.
func BearerToken(header string) (string, error) {
	header = strings.TrimSpace(header)
	if header == "" || strings.EqualFold(header, "Bearer") {
		return "", ErrMissingToken
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", fmt.Errorf("%w: the Authorization value is not \"Bearer <token>\"", ErrMalformedToken)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", ErrMissingToken
	}
	return token, nil
}

// Verify checks token (without the "Bearer " prefix) and returns its
// claims. ctx bounds a fetch of the key set, if one is needed. The error
// wraps one of the Err* sentinels.
func (v *Verifier) Verify(ctx context.Context, token string) (Claims, error) {
	switch {
	case token == "":
		return Claims{}, ErrMissingToken
	case len(token) > MaxTokenBytes:
		return Claims{}, fmt.Errorf("%w: longer than %d bytes", ErrMalformedToken, MaxTokenBytes)
	}
	claims := jwt.MapClaims{}
	parsed, err := v.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if v.keys == nil {
			return v.secret, nil
		}
		kid, _ := t.Header["kid"].(string)
		return v.keys.key(ctx, kid)
	})
	if err != nil {
		return Claims{}, v.classify(parsed, claims, err)
	}
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return Claims{}, ErrNoExpiry // checked by the parser already
	}
	sub, _ := claims["sub"].(string)
	if !validIdentityString(sub) {
		return Claims{}, ErrMissingSubject
	}
	org, _ := claims[v.orgClaim].(string)
	if !validIdentityString(org) {
		return Claims{}, fmt.Errorf("%w %q", ErrMissingOrganization, v.orgClaim)
	}
	roles, err := parseRoles(claims[RolesClaim])
	if err != nil {
		return Claims{}, err
	}
	return Claims{Identity: Identity{Subject: sub, Organization: org, Roles: roles}, ExpiresAt: exp.Time, ValidUntil: exp.Add(v.leeway)}, nil
}

// classify maps a jwt error to one of the sentinels, most fundamental
// first: form, algorithm, key, signature, then the claims.
func (v *Verifier) classify(parsed *jwt.Token, claims jwt.MapClaims, err error) error {
	var appErr *apperr.Error
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return fmt.Errorf("%w: %w", ErrMalformedToken, err)
	case parsed == nil:
		return fmt.Errorf("%w: %w", ErrMalformedToken, err)
	case parsed.Method == nil || parsed.Method.Alg() != v.alg:
		alg, _ := parsed.Header["alg"].(string)
		return fmt.Errorf("%w: %q, want %s", ErrAlgorithm, alg, v.alg)
	case errors.As(err, &appErr):
		return err // from the keyfunc (ErrUnknownKey), already classified
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return ErrBadSignature
	case errors.Is(err, jwt.ErrInvalidType):
		return fmt.Errorf("%w: %w", ErrMalformedToken, err)
	case errors.Is(err, jwt.ErrTokenExpired):
		if exp, e := claims.GetExpirationTime(); e == nil && exp != nil {
			return fmt.Errorf("%w (at %s)", ErrExpiredToken, exp.UTC().Format(time.RFC3339))
		}
		return ErrExpiredToken
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return ErrTokenNotYetValid
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return ErrWrongIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return ErrWrongAudience
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		// exp is always required; iss and aud when configured.
		switch exp, _ := claims.GetExpirationTime(); {
		case exp == nil:
			return ErrNoExpiry
		case v.issuer != "" && claims["iss"] == nil:
			return fmt.Errorf("%w: no iss", ErrWrongIssuer)
		default:
			return fmt.Errorf("%w: no aud", ErrWrongAudience)
		}
	default:
		return fmt.Errorf("%w: %w", ErrMalformedToken, err)
	}
}

// ValidIdentity reports whether id has a subject and an organization that
// Verify would accept.
func ValidIdentity(id Identity) bool {
	return validIdentityString(id.Subject) && validIdentityString(id.Organization)
}

// validIdentityString accepts 1..MaxIdentityBytes bytes of valid UTF-8
// printable characters (spaces included, control characters not).
func validIdentityString(s string) bool {
	if s == "" || len(s) > MaxIdentityBytes || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
