// Package money handles currencies and monetary amounts without floating
// point.
//
// An amount is an int64 count of a currency's minor unit: 1250 means 12.50 EUR
// (EUR has 2 minor units), 1200 JPY (JPY has 0), or 1.250 KWD (KWD has 3).
// Amounts cross the API boundary as strict decimal strings ("12.50"), parsed
// with ParseAmount and rendered with FormatAmount; the two round-trip.
//
// The package is pure: no I/O, no global state beyond the constant currency
// table.
package money

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/chronicle-es/chronicle/internal/apperr"
)

// ErrUnknownCurrency is wrapped by LookupCurrency when the code is not a
// well-formed, active ISO 4217 currency code. Its code is BAD_USER_INPUT.
var ErrUnknownCurrency = apperr.New(apperr.BadUserInput, "unknown currency")

// ErrMalformedAmount is wrapped by ParseAmount when the string is not a valid
// amount for the currency (syntax, too many decimal places, out of int64
// range). Its code is BAD_USER_INPUT.
var ErrMalformedAmount = apperr.New(apperr.BadUserInput, "malformed amount")

// maxMinorUnits bounds Currency.MinorUnits accepted by ParseAmount: 10^18 is
// the largest power of ten that fits an int64. Real currencies use at most 4.
const maxMinorUnits = 18

// ParseAmount parses a decimal string into an int64 count of c's minor units:
// "12.50" in EUR is 1250, "1200" in JPY is 1200, "1.25" in KWD is 1250.
//
// The syntax is strict: an optional leading '-', one or more ASCII digits,
// then optionally a '.' followed by 1 to c.MinorUnits digits. Leading zeros
// are allowed ("007.50"); "-0" is 0. Rejected, among others: "", ".",
// ".5" and "1." (a digit is required on both sides of the point), "+1",
// "1e3", " 1", "1,000", and any fraction longer than c.MinorUnits, even if its
// extra digits are zeros ("1.000" in EUR). A value outside the int64 range is
// rejected too.
//
// Every invalid input yields an error wrapping ErrMalformedAmount whose
// message says what is wrong, e.g.
// `amount "1.234": EUR has 2 decimal places: malformed amount`.
// A Currency with MinorUnits outside 0..18 (never returned by
// LookupCurrency) yields an internal error instead.
func ParseAmount(s string, c Currency) (int64, error) {
	mu := c.MinorUnits
	if mu < 0 || mu > maxMinorUnits {
		return 0, fmt.Errorf("money: currency %q has unsupported minor units %d", c.Code, mu)
	}
	malformed := func(reason string) error {
		return fmt.Errorf("amount %s: %s: %w", apperr.Quote(s), reason, ErrMalformedAmount)
	}
	if s == "" {
		return 0, malformed("empty")
	}

	rest, neg := strings.CutPrefix(s, "-")
	intPart, fracPart, hasPoint := strings.Cut(rest, ".")
	switch {
	case intPart == "" && hasPoint:
		return 0, malformed("a digit is required before the decimal point")
	case hasPoint && fracPart == "":
		return 0, malformed("a digit is required after the decimal point")
	case !isDigits(intPart) || (hasPoint && !isDigits(fracPart)):
		return 0, malformed(fmt.Sprintf("not a plain decimal number (expected e.g. %q)", example(c)))
	case len(fracPart) > mu:
		return 0, malformed(decimalPlaces(c))
	}

	// Accumulate the magnitude in uint64 so that math.MinInt64 is reachable.
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var v uint64
	add := func(d uint64) bool {
		if v > (limit-d)/10 {
			return false
		}
		v = v*10 + d
		return true
	}
	for i := 0; i < len(intPart); i++ {
		if !add(uint64(intPart[i] - '0')) {
			return 0, malformed("out of range")
		}
	}
	for i := 0; i < mu; i++ {
		var d uint64
		if i < len(fracPart) {
			d = uint64(fracPart[i] - '0')
		}
		if !add(d) {
			return 0, malformed("out of range")
		}
	}
	if neg {
		// For v == 1<<63 the conversion wraps to math.MinInt64, whose
		// negation is itself: the intended result.
		return -int64(v), nil
	}
	return int64(v), nil
}

// FormatAmount renders an int64 count of c's minor units as the canonical
// decimal string that ParseAmount accepts: exactly c.MinorUnits decimals, a
// leading '-' for negative amounts and no other decoration. For example 1250
// is "12.50" in EUR, "1250" in JPY and "1.250" in KWD; -5 EUR is "-0.05" and
// 0 EUR is "0.00". ParseAmount(FormatAmount(x, c), c) == x for every int64 x.
// A negative c.MinorUnits is treated as 0.
func FormatAmount(minor int64, c Currency) string {
	mu := max(c.MinorUnits, 0)
	neg := minor < 0
	mag := uint64(minor)
	if neg {
		mag = -mag // two's complement: correct for math.MinInt64 too
	}
	digits := strconv.FormatUint(mag, 10)
	if len(digits) <= mu {
		digits = strings.Repeat("0", mu+1-len(digits)) + digits
	}
	var b strings.Builder
	b.Grow(len(digits) + 2)
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(digits[:len(digits)-mu])
	if mu > 0 {
		b.WriteByte('.')
		b.WriteString(digits[len(digits)-mu:])
	}
	return b.String()
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// decimalPlaces says how many decimals c allows, e.g. "EUR has 2 decimal
// places" or "JPY has no decimal places".
func decimalPlaces(c Currency) string {
	switch c.MinorUnits {
	case 0:
		return c.Code + " has no decimal places"
	case 1:
		return c.Code + " has 1 decimal place"
	default:
		return fmt.Sprintf("%s has %d decimal places", c.Code, c.MinorUnits)
	}
}

// example returns a well-formed amount in c for error messages: "1234.56"
// for EUR, "1234" for JPY, "1234.567" for KWD.
func example(c Currency) string {
	const frac = "567890123456789012"
	if c.MinorUnits <= 0 {
		return "1234"
	}
	return "1234." + frac[:min(c.MinorUnits, len(frac))]
}

// Format renders an amount with its currency code, e.g. "10.00 EUR": the
// form every domain message uses.
func Format(minor int64, c Currency) string {
	return FormatAmount(minor, c) + " " + c.Code
}

// ParsePositive parses a decimal amount in c and checks it is above zero.
// Errors: ParseAmount's; one wrapping invalid for zero or a negative amount
// ("amount must be positive, got -1.00 EUR").
func ParsePositive(s string, c Currency, invalid error) (int64, error) {
	amount, err := ParseAmount(s, c)
	if err != nil {
		return 0, err
	}
	if amount <= 0 {
		return 0, fmt.Errorf("%w: amount must be positive, got %s", invalid, Format(amount, c))
	}
	return amount, nil
}
