// Package caller carries who is calling, and under which correlation id,
// from the HTTP edge to the command metadata.
package caller

import (
	"context"
	"slices"
)

// Caller is the identity and tracing context of one request.
type Caller struct {
	// Actor is who acts: the authenticated subject (the token's "sub"), or
	// the development actor.
	Actor string
	// Organization is the tenant the caller acts for (the token's
	// organization claim). Every read and write is confined to it; empty
	// means unauthenticated, and tenant-scoped operations refuse it.
	Organization string
	// Roles are the roles the caller's token lists (auth.Identity.Roles);
	// none for the development caller and anonymous ones.
	Roles []string
	// CorrelationID ties together everything one client action caused; it
	// comes from the X-Correlation-ID request header or is generated.
	CorrelationID string
}

type key struct{}

// With returns ctx carrying c.
func With(ctx context.Context, c Caller) context.Context { return context.WithValue(ctx, key{}, c) }

// From returns the Caller in ctx, or an anonymous one.
func From(ctx context.Context) Caller {
	if c, ok := ctx.Value(key{}).(Caller); ok {
		return c
	}
	return Caller{Actor: "anonymous"}
}

// HasRole reports whether the caller has role.
func (c Caller) HasRole(role string) bool {
	return slices.Contains(c.Roles, role)
}
