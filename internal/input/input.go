// Package input checks free-text command fields the same way in every
// bounded context.
package input

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalid is wrapped by every error of Text; bounded contexts wrap the
// result again in their own BAD_USER_INPUT sentinel.
var ErrInvalid = errors.New("invalid text")

// Text trims s and checks that it is 1..maxLen characters (Unicode code
// points) of valid UTF-8 text without control characters. It returns the
// trimmed text, or an error naming field, e.g. "owner is required" or
// "reason is 501 characters long, at most 500 are allowed".
func Text(field, s string, maxLen int) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", fmt.Errorf("%w: %s is required", ErrInvalid, field)
	}
	return OptionalText(field, s, maxLen)
}

// OptionalText is Text for a field that may be empty: "" (or only white
// space) is accepted as "".
func OptionalText(field, s string, maxLen int) (string, error) {
	t := strings.TrimSpace(s)
	switch {
	case !utf8.ValidString(t):
		return "", fmt.Errorf("%w: %s is not valid UTF-8 text", ErrInvalid, field)
	case strings.ContainsFunc(t, unicode.IsControl):
		return "", fmt.Errorf("%w: %s must not contain control characters", ErrInvalid, field)
	}
	if n := utf8.RuneCountInString(t); n > maxLen {
		return "", fmt.Errorf("%w: %s is %d characters long, at most %d are allowed", ErrInvalid, field, n, maxLen)
	}
	return t, nil
}

// Message is err's text without the ErrInvalid prefix, for wrapping in
// another sentinel: fmt.Errorf("%w: %s", ErrInvalidInput, input.Message(err)).
func Message(err error) string {
	return strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")
}

// Filter checks a query's text filter (e.g. an owner name to match): valid
// UTF-8 without control characters (PostgreSQL cannot even compare a NUL),
// at most maxLen characters. It is not trimmed: a filter matches exactly.
func Filter(field, s string, maxLen int) error {
	switch {
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s is not valid UTF-8 text", ErrInvalid, field)
	case strings.ContainsFunc(s, unicode.IsControl):
		return fmt.Errorf("%w: %s must not contain control characters", ErrInvalid, field)
	case utf8.RuneCountInString(s) > maxLen:
		return fmt.Errorf("%w: %s is longer than %d characters", ErrInvalid, field, maxLen)
	}
	return nil
}

// Rule is a free-text rule: Text or OptionalText.
type Rule func(field, s string, maxLen int) (string, error)

// Field applies rule to a command's field and reports a refusal wrapped in
// invalid, the bounded context's BAD_USER_INPUT sentinel, e.g.
// "invalid input: owner is required".
func Field(invalid error, rule Rule, field, s string, maxLen int) (string, error) {
	t, err := rule(field, s, maxLen)
	if err != nil {
		return "", fmt.Errorf("%w: %s", invalid, Message(err))
	}
	return t, nil
}
