// Command mint-token prints an HS256 bearer token for local development and
// tests:
//
//	go run ./cmd/mint-token -sub alice -org acme -ttl 1h [-roles admin]
//
// The secret is -secret, else JWT_HS256_SECRET (make run sets a development
// one); the issuer, audience and organization claim default to
// JWT_ISSUER, JWT_AUDIENCE and JWT_ORGANIZATION_CLAIM, so the token suits
// a server started with the same environment. Production tokens come from
// an identity provider, not from this command.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/chronicle-es/chronicle/internal/auth"
)

func main() {
	if err := run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "mint-token:", err)
		}
		os.Exit(2)
	}
}

// run parses args, mints the token and writes it to out, followed by a
// newline.
func run(args []string, getenv func(string) string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("mint-token", flag.ContinueOnError)
	fs.SetOutput(errOut)
	sub := fs.String("sub", "developer", "subject: the actor recorded in event metadata")
	org := fs.String("org", "dev", "organization the caller acts for")
	ttl := fs.Duration("ttl", time.Hour, "lifetime of the token")
	roles := fs.String("roles", "", "comma-separated roles claim, e.g. admin (default: none)")
	secret := fs.String("secret", "", "HS256 secret (default $JWT_HS256_SECRET)")
	issuer := fs.String("iss", getenv("JWT_ISSUER"), "issuer claim (default $JWT_ISSUER)")
	audience := fs.String("aud", getenv("JWT_AUDIENCE"), "audience claim (default $JWT_AUDIENCE)")
	orgClaim := fs.String("org-claim", getenv("JWT_ORGANIZATION_CLAIM"), "name of the organization claim (default $JWT_ORGANIZATION_CLAIM, else org)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *secret == "" {
		*secret = getenv("JWT_HS256_SECRET")
	}
	if *secret == "" {
		return errors.New("no secret: pass -secret or set JWT_HS256_SECRET")
	}
	token, err := auth.MintWith([]byte(*secret), auth.Identity{Subject: *sub, Organization: *org, Roles: splitRoles(*roles)}, *ttl, auth.MintOptions{
		Issuer: *issuer, Audience: *audience, OrganizationClaim: *orgClaim,
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, token)
	return err
}

// splitRoles splits a comma-separated list, dropping empty items.
func splitRoles(list string) []string {
	var roles []string
	for _, r := range strings.Split(list, ",") {
		if r = strings.TrimSpace(r); r != "" {
			roles = append(roles, r)
		}
	}
	return roles
}
