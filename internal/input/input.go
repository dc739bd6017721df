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
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return "", fmt.Errorf("%w: %s is required", ErrInvalid, field)
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
