package model

import (
	"fmt"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/chronicle-es/chronicle/internal/apperr"
)

// MarshalString writes a String (as gqlgen's built-in does).
func MarshalString(s string) graphql.Marshaler { return graphql.MarshalString(s) }

// UnmarshalString coerces String input strictly, as the GraphQL spec asks:
// only a string is a String. gqlgen's built-in also accepts numbers and
// booleans. The error is BAD_USER_INPUT (a JSON variable 12.5 would become "12.5"), which would let a
// float slip into a money amount.
func UnmarshalString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", apperr.New(apperr.BadUserInput, fmt.Sprintf("String cannot represent a non-string value: %v", v))
	}
	return s, nil
}

// MarshalInt writes an Int (as gqlgen's built-in does).
func MarshalInt(i int) graphql.Marshaler { return graphql.MarshalInt(i) }

// UnmarshalInt coerces Int input as the GraphQL spec asks: a whole number
// that fits in 32 signed bits. gqlgen's built-in takes any Go int (64 bits),
// so an expectedVersion of 2147483648 reached the domain. The error is
// BAD_USER_INPUT.
func UnmarshalInt(v any) (int, error) {
	i, err := graphql.UnmarshalInt32(v)
	if err != nil {
		return 0, apperr.New(apperr.BadUserInput, fmt.Sprintf("Int must be a whole number from -2147483648 to 2147483647, got %v", v))
	}
	return int(i), nil
}

// MarshalTime writes a Time as RFC 3339 in UTC (as gqlgen's built-in does
// for the UTC times the read models hold).
func MarshalTime(t time.Time) graphql.Marshaler { return graphql.MarshalTime(t) }

// UnmarshalTime reads a Time: an RFC 3339 timestamp with its zone
// ("2026-11-21T23:47:49Z", "2026-11-22T00:47:49+01:00"), returned in UTC.
// Anything else is BAD_USER_INPUT (gqlgen's built-in errors were plain,
// which the error presenter answered INTERNAL).
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, apperr.New(apperr.BadUserInput,
		fmt.Sprintf("Time must be an RFC 3339 timestamp with a zone, e.g. 2026-11-21T23:47:49Z; got %s", apperr.Quote(fmt.Sprint(v))))
}
