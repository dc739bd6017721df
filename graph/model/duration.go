package model

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/chronicle-es/chronicle/internal/apperr"
)

// maxDuration bounds a Duration input: ten years is more than any window
// the API serves (analytics stop at 366 days), and keeps the arithmetic far
// from time.Duration's overflow.
const maxDuration = 10 * 366 * 24 * time.Hour

// MarshalDuration writes a Duration as Go writes it, e.g. "24h0m0s".
func MarshalDuration(d time.Duration) graphql.Marshaler { return graphql.MarshalString(d.String()) }

// UnmarshalDuration reads a Duration: a positive string of numbers with
// units, "7d", "24h", "90m", "1h30m", "45s" (a "d" is 24 hours; Go's
// time.ParseDuration units otherwise). Anything else, and a value that is
// not positive or longer than ten years, is BAD_USER_INPUT.
func UnmarshalDuration(v any) (time.Duration, error) {
	s, ok := v.(string)
	if !ok {
		return 0, apperr.New(apperr.BadUserInput, fmt.Sprintf("Duration must be a string such as \"24h\" or \"7d\", not %v", v))
	}
	d, err := parseDuration(strings.TrimSpace(s))
	switch {
	case err != nil:
		return 0, apperr.New(apperr.BadUserInput, fmt.Sprintf("Duration %q: write it as a number with a unit, e.g. \"24h\", \"90m\" or \"7d\"", s))
	case d <= 0:
		return 0, apperr.New(apperr.BadUserInput, fmt.Sprintf("Duration %q must be positive", s))
	case d > maxDuration:
		return 0, apperr.New(apperr.BadUserInput, fmt.Sprintf("Duration %q is longer than ten years", s))
	}
	return d, nil
}

// parseDuration is time.ParseDuration with a leading whole number of days
// ("7d", "1d12h") allowed.
func parseDuration(s string) (time.Duration, error) {
	days, rest, found := strings.Cut(s, "d")
	if !found {
		return time.ParseDuration(s)
	}
	n, err := strconv.ParseUint(days, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("days %q: %w", days, err)
	}
	d := time.Duration(n) * 24 * time.Hour
	if rest == "" {
		return d, nil
	}
	if rest[0] < '0' || rest[0] > '9' {
		return 0, fmt.Errorf("%q after the days is not a duration", rest)
	}
	more, err := time.ParseDuration(rest)
	if err != nil {
		return 0, err
	}
	return d + more, nil
}
