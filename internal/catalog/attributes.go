package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/chronicle-es/chronicle/internal/input"
)

// Limits on a product's attributes.
const (
	// MaxAttributesBytes bounds the attributes' JSON as sent.
	MaxAttributesBytes = 4096
	// MaxAttributes bounds the number of keys.
	MaxAttributes = 32
	// MaxAttributeText bounds a string value (or list element), in
	// characters.
	MaxAttributeText = 500
	// MaxAttributeList bounds a list value's length.
	MaxAttributeList = 20
	// MaxPages bounds a book's pages.
	MaxPages = 100_000
)

// attributeKey is the shape of an attribute name: a letter, then letters,
// digits or underscores, at most 64 in all.
var attributeKey = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)

// categoryRules are the fields some categories require and check, beyond
// the general rules of normalizeAttributes. Other categories take any
// attributes that follow the general rules.
var categoryRules = map[string]func(map[string]any) error{
	"books": bookAttributes,
}

// normalizeAttributes checks raw, the attributes of a product of category,
// and returns their canonical JSON (keys sorted, no white space, a book's
// isbn as bare digits): a JSON object (absent or null: {}) of at most
// MaxAttributesBytes and MaxAttributes keys named like "author" or
// "page_count", whose values are strings (1..500 characters of text),
// numbers, booleans, or lists of up to 20 such strings; plus the rules of
// the category (books: see bookAttributes). Errors: ErrInvalidInput naming
// the attribute.
func normalizeAttributes(category string, raw json.RawMessage) (json.RawMessage, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: attributes: %s", ErrInvalidInput, fmt.Sprintf(format, args...))
	}
	if len(raw) > MaxAttributesBytes {
		return nil, bad("%d bytes of JSON, at most %d are allowed", len(raw), MaxAttributesBytes)
	}
	attrs := map[string]any{}
	if t := bytes.TrimSpace(raw); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		if t[0] != '{' {
			return nil, bad("want a JSON object such as {\"author\": \"Ursula K. Le Guin\"}")
		}
		dec := json.NewDecoder(bytes.NewReader(t))
		dec.UseNumber()
		if err := dec.Decode(&attrs); err != nil {
			return nil, bad("not valid JSON: %v", err)
		}
		if dec.More() {
			return nil, bad("not one JSON object")
		}
	}
	if len(attrs) > MaxAttributes {
		return nil, bad("%d keys, at most %d are allowed", len(attrs), MaxAttributes)
	}
	for k, v := range attrs {
		if !attributeKey.MatchString(k) {
			return nil, bad("key %q is not a name of letters, digits and underscores starting with a letter (at most 64)", k)
		}
		nv, err := normalizeValue(k, v)
		if err != nil {
			return nil, bad("%s", err)
		}
		attrs[k] = nv
	}
	if rule := categoryRules[category]; rule != nil {
		if err := rule(attrs); err != nil {
			return nil, bad("%s", err)
		}
	}
	out, err := json.Marshal(attrs) // map keys sorted: one canonical form
	if err != nil {
		return nil, bad("%v", err)
	}
	return out, nil
}

// normalizeValue checks one attribute value; strings are trimmed.
func normalizeValue(key string, v any) (any, error) {
	switch x := v.(type) {
	case string:
		return attributeText(key, x)
	case json.Number, bool:
		return x, nil
	case []any:
		if len(x) > MaxAttributeList {
			return nil, fmt.Errorf("%s has %d elements, at most %d are allowed", key, len(x), MaxAttributeList)
		}
		out := make([]any, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%s: a list may hold only strings", key)
			}
			t, err := attributeText(fmt.Sprintf("%s[%d]", key, i), s)
			if err != nil {
				return nil, err
			}
			out[i] = t
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%s must be a string, a number, a boolean or a list of strings", key)
	}
}

func attributeText(key, s string) (string, error) {
	t, err := input.Text(key, s, MaxAttributeText)
	if err != nil {
		return "", fmt.Errorf("%s", input.Message(err))
	}
	return t, nil
}

// bookAttributes checks a book's attributes: author (a string) and pages
// (a positive whole number up to MaxPages) are required; isbn, when given,
// must be an ISBN-10 or ISBN-13 with a valid check digit, hyphens and
// spaces allowed ("978-0-441-47812-5"), and is stored as bare digits.
func bookAttributes(attrs map[string]any) error {
	if _, ok := attrs["author"].(string); !ok {
		return fmt.Errorf("a book needs an author (a string)")
	}
	pages, ok := attrs["pages"].(json.Number)
	if !ok {
		return fmt.Errorf("a book needs pages (a whole number)")
	}
	n, err := strconv.ParseInt(pages.String(), 10, 64)
	if err != nil || n < 1 || n > MaxPages {
		return fmt.Errorf("pages must be a whole number between 1 and %d, got %s", MaxPages, pages)
	}
	attrs["pages"] = json.Number(strconv.FormatInt(n, 10))
	if v, present := attrs["isbn"]; present {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("isbn must be a string such as \"978-0-441-47812-5\"")
		}
		isbn, err := normalizeISBN(s)
		if err != nil {
			return err
		}
		attrs["isbn"] = isbn
	}
	return nil
}

// normalizeISBN strips hyphens and spaces and checks an ISBN-10 (nine
// digits and a check digit or X, mod 11) or an ISBN-13 (978 or 979, mod 10).
func normalizeISBN(s string) (string, error) {
	d := strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
	bad := fmt.Errorf("isbn %q is not an ISBN-10 or ISBN-13 with a valid check digit", s)
	switch len(d) {
	case 10:
		sum := 0
		for i, c := range d {
			var v int
			switch {
			case c >= '0' && c <= '9':
				v = int(c - '0')
			case c == 'X' && i == 9:
				v = 10
			default:
				return "", bad
			}
			sum += (10 - i) * v
		}
		if sum%11 != 0 {
			return "", bad
		}
	case 13:
		if !strings.HasPrefix(d, "978") && !strings.HasPrefix(d, "979") {
			return "", bad
		}
		sum := 0
		for i, c := range d {
			if c < '0' || c > '9' {
				return "", bad
			}
			w := 1
			if i%2 == 1 {
				w = 3
			}
			sum += w * int(c-'0')
		}
		if sum%10 != 0 {
			return "", bad
		}
	default:
		return "", bad
	}
	return d, nil
}
