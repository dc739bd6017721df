package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MintOptions adjust a minted token to a Verifier's Config.
type MintOptions struct {
	// Issuer is the "iss" claim; empty: none.
	Issuer string
	// Audience is the "aud" claim; empty: none.
	Audience string
	// OrganizationClaim names the organization claim; empty means
	// DefaultOrganizationClaim.
	OrganizationClaim string
	// Now is the issue time; zero means time.Now().
	Now time.Time
}

// Mint returns an HS256 token for id, signed with secret and valid for ttl
// from now: claims sub, org, iat, nbf and exp, and roles when id has any. It is meant for development
// and tests (cmd/mint-token); production tokens come from an identity
// provider.
func Mint(secret []byte, id Identity, ttl time.Duration) (string, error) {
	return MintWith(secret, id, ttl, MintOptions{})
}

// MintWith is Mint with options. It fails on an empty secret, a ttl that is
// not positive, and an identity that Verify would refuse.
func MintWith(secret []byte, id Identity, ttl time.Duration, opts MintOptions) (string, error) {
	switch {
	case len(secret) == 0:
		return "", errors.New("auth: mint: empty secret")
	case ttl <= 0:
		return "", fmt.Errorf("auth: mint: ttl %s must be positive", ttl)
	case !ValidIdentity(id):
		return "", fmt.Errorf("auth: mint: subject and organization must be 1..%d printable characters", MaxIdentityBytes)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	orgClaim := opts.OrganizationClaim
	if orgClaim == "" {
		orgClaim = DefaultOrganizationClaim
	}
	claims := jwt.MapClaims{
		"sub":    id.Subject,
		orgClaim: id.Organization,
		"iat":    now.Unix(),
		"nbf":    now.Unix(),
		"exp":    now.Add(ttl).Unix(),
	}
	if len(id.Roles) > 0 {
		if _, err := parseRoles(anySlice(id.Roles)); err != nil {
			return "", fmt.Errorf("auth: mint: %w", err)
		}
		claims[RolesClaim] = id.Roles
	}
	if opts.Issuer != "" {
		claims["iss"] = opts.Issuer
	}
	if opts.Audience != "" {
		claims["aud"] = opts.Audience
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("auth: mint: %w", err)
	}
	return token, nil
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
