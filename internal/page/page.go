// Package page holds the Relay cursor-connection arithmetic shared by every
// list query: validating first/after and encoding opaque cursors.
package page

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/chronicle-es/chronicle/internal/apperr"
)

// Limits on `first`.
const (
	DefaultSize = 20
	MaxSize     = 100
)

// ErrInvalidPage is wrapped by every page-argument error (BAD_USER_INPUT).
var ErrInvalidPage = apperr.New(apperr.BadUserInput, "invalid page")

// Size validates `first`: nil means DefaultSize; it must be 1..MaxSize.
func Size(first *int) (int, error) {
	if first == nil {
		return DefaultSize, nil
	}
	if *first < 1 || *first > MaxSize {
		return 0, fmt.Errorf("%w: first must be between 1 and %d, got %d", ErrInvalidPage, MaxSize, *first)
	}
	return *first, nil
}

// Encode makes an opaque cursor from a kind (which list it belongs to) and a
// key, e.g. Encode("account", id).
func Encode(kind, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + key))
}

// Decode returns the key of a cursor made by Encode with the same kind. An
// empty cursor gives "", nil. Errors wrap ErrInvalidPage.
func Decode(kind, cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", fmt.Errorf("%w: malformed cursor %q", ErrInvalidPage, cursor)
	}
	key, ok := strings.CutPrefix(string(b), kind+":")
	if !ok {
		return "", fmt.Errorf("%w: cursor %q is not a %s cursor", ErrInvalidPage, cursor, kind)
	}
	return key, nil
}

// Page is one page of a cursor connection: the items, the cursor of each,
// and whether more follow.
type Page[T any] struct {
	Items       []T
	Cursors     []string
	HasNextPage bool
}

// Make builds a Page from up to size+1 items (the extra one, fetched to learn
// whether a next page exists, is dropped), with cursor giving each cursor.
func Make[T any](items []T, size int, cursor func(T) string) Page[T] {
	p := Page[T]{HasNextPage: len(items) > size}
	if p.HasNextPage {
		items = items[:size]
	}
	p.Items = items
	p.Cursors = make([]string, len(items))
	for i, it := range items {
		p.Cursors[i] = cursor(it)
	}
	return p
}

// EncodeInt64 makes an opaque cursor whose key is an integer (a stream
// version, a position).
func EncodeInt64(kind string, key int64) string { return Encode(kind, strconv.FormatInt(key, 10)) }

// DecodeInt64 returns the key of a cursor made by EncodeInt64 with the same
// kind, 0 for an empty cursor. Errors wrap ErrInvalidPage.
func DecodeInt64(kind, cursor string) (int64, error) {
	s, err := Decode(kind, cursor)
	if err != nil || s == "" {
		return 0, err
	}
	key, err := strconv.ParseInt(s, 10, 64)
	if err != nil || key < 0 {
		return 0, fmt.Errorf("%w: malformed cursor %q", ErrInvalidPage, cursor)
	}
	return key, nil
}

// Int64After validates a page whose cursor key is a non-negative integer:
// it returns the size and the key, 0 when after is empty. Errors wrap
// ErrInvalidPage.
func Int64After(kind string, first *int, after string) (size int, key int64, err error) {
	if size, err = Size(first); err != nil {
		return 0, 0, err
	}
	if key, err = DecodeInt64(kind, after); err != nil {
		return 0, 0, err
	}
	return size, key, nil
}
