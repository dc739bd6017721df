package model

import (
	"fmt"

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
