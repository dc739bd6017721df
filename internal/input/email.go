package input

import (
	"fmt"
	"net/mail"
	"strings"

	"github.com/chronicle-es/chronicle/internal/apperr"
)

// MaxEmailLength is RFC 5321's limit on a forward path (254 octets).
const MaxEmailLength = 254

// Email accepts a bare RFC 5322 addr-spec with a domain that has a dot
// ("ada@example.com"), not a display-name form ("Ada <ada@x.org>"), of at
// most MaxEmailLength characters, after trimming. The domain is
// lower-cased; the local part is kept as given (it may be case-sensitive).
// Errors wrap invalid and name field.
func Email(invalid error, field, s string) (string, error) {
	t := strings.TrimSpace(s)
	bad := func(why string) error {
		return fmt.Errorf("%w: %s %s is not a valid e-mail address: %s", invalid, field, apperr.Quote(t), why)
	}
	if t == "" {
		return "", fmt.Errorf("%w: %s is required", invalid, field)
	}
	if len(t) > MaxEmailLength {
		return "", bad(fmt.Sprintf("longer than %d characters", MaxEmailLength))
	}
	addr, err := mail.ParseAddress(t)
	if err != nil || addr.Name != "" || addr.Address != t {
		return "", bad("want a plain address such as ada@example.com")
	}
	at := strings.LastIndexByte(t, '@')
	domain := t[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.HasPrefix(domain, "[") {
		return "", bad("the domain needs a dot, e.g. example.com")
	}
	return t[:at+1] + strings.ToLower(domain), nil
}
