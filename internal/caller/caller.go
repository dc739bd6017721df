// Package caller carries who is calling, and under which correlation id,
// from the HTTP edge to the command metadata.
package caller

import "context"

// Caller is the identity and tracing context of one request.
type Caller struct {
	// Actor is who acts: the authenticated subject (the token's "sub"), or
	// the development actor.
	Actor string
	// Organization is the tenant the caller acts for (the token's
	// organization claim). Every read and write is confined to it; empty
	// means unauthenticated, and tenant-scoped operations refuse it.
	Organization string
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
