// Package apperr defines the error type that carries a client-facing code.
//
// Domain and application packages declare their failures as *Error values
// (usually sentinels such as account.ErrInsufficientFunds) and wrap them with
// context using fmt.Errorf("...: %w", err). The GraphQL error presenter finds
// the code with errors.As and puts it in extensions.code; any error without a
// code is reported as INTERNAL with its message hidden.
package apperr

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// Code is the value of a GraphQL error's extensions.code.
type Code string

// The codes shared by every bounded context. Domain packages add their own
// (for example INSUFFICIENT_FUNDS) as plain Code values.
const (
	BadUserInput    Code = "BAD_USER_INPUT"
	NotFound        Code = "NOT_FOUND"
	Conflict        Code = "CONFLICT"
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	Internal        Code = "INTERNAL"
	// InvalidStateTransition refuses a command that an entity's lifecycle
	// does not allow in its current status (shipping an unpaid order).
	InvalidStateTransition Code = "INVALID_STATE_TRANSITION"
)

// Error is a failure the client may see: its Code and Message are sent as-is.
type Error struct {
	Code    Code
	Message string
}

// New returns an *Error with the given code and message.
func New(code Code, message string) *Error { return &Error{Code: code, Message: message} }

func (e *Error) Error() string { return e.Message }

// CodeOf returns the code of the first *Error in err's chain, and false when
// there is none (the error is internal).
func CodeOf(err error) (Code, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Code, true
	}
	return "", false
}

// Quote quotes user input for a client-facing message, cut to at most 40
// bytes (on a rune boundary, with "…") so a huge input cannot make a huge
// message.
func Quote(s string) string {
	const maxLen = 40
	if len(s) <= maxLen {
		return strconv.Quote(s)
	}
	cut := maxLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}
