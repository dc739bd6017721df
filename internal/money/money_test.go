package money

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/chronicle-es/chronicle/internal/apperr"
)

func mustCurrency(t testing.TB, code string) Currency {
	t.Helper()
	c, err := LookupCurrency(code)
	if err != nil {
		t.Fatalf("LookupCurrency(%q): %v", code, err)
	}
	return c
}

func TestLookupCurrency(t *testing.T) {
	known := map[string]int{
		"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0, "KRW": 0, "KWD": 3,
		"BHD": 3, "TND": 3, "OMR": 3, "JOD": 3, "IQD": 3, "LYD": 3, "CLP": 0,
		"ISK": 0, "VND": 0, "UGX": 0, "XAF": 0, "XOF": 0, "XPF": 0, "PYG": 0,
		"UYW": 4, "CLF": 4, "UYI": 0, "XCG": 2, "ZWG": 2, "SLE": 2, "VES": 2,
		"VED": 2, "MRU": 2, "STN": 2,
	}
	for code, mu := range known {
		c, err := LookupCurrency(code)
		if err != nil {
			t.Errorf("LookupCurrency(%q): unexpected error %v", code, err)
			continue
		}
		if c.Code != code || c.MinorUnits != mu {
			t.Errorf("LookupCurrency(%q) = %+v, want {%s %d}", code, c, code, mu)
		}
		if c.String() != code {
			t.Errorf("String() = %q, want %q", c.String(), code)
		}
	}

	rejected := []string{
		"", "E", "EU", "EURO", "eur", "Eur", "EUr", " EUR", "EUR ", "E1R", "€UR",
		// Not currencies with minor units.
		"XAU", "XAG", "XPT", "XPD", "XTS", "XXX", "XDR", "XSU", "XUA", "XBA", "XBB", "XBC", "XBD",
		// Withdrawn.
		"HRK", "DEM", "FRF", "ITL", "MRO", "STD", "VEF", "BYR", "LTL", "ANG", "SLL", "ZWL", "CUC",
		// Well-formed but unassigned.
		"AAA", "ZZZ",
	}
	for _, code := range rejected {
		c, err := LookupCurrency(code)
		if err == nil {
			t.Errorf("LookupCurrency(%q) = %+v, want error", code, c)
			continue
		}
		if !errors.Is(err, ErrUnknownCurrency) {
			t.Errorf("LookupCurrency(%q): error %v does not wrap ErrUnknownCurrency", code, err)
		}
		if got, ok := apperr.CodeOf(err); !ok || got != apperr.BadUserInput {
			t.Errorf("LookupCurrency(%q): code = %q, %v; want BAD_USER_INPUT", code, got, ok)
		}
		if c != (Currency{}) {
			t.Errorf("LookupCurrency(%q) returned non-zero currency %+v with error", code, c)
		}
	}
}

func TestCurrencyTable(t *testing.T) {
	if n := len(minorUnits); n < 150 {
		t.Errorf("currency table has only %d entries; expected the full ISO 4217 list", n)
	}
	for code, mu := range minorUnits {
		if !isCurrencyCode(code) {
			t.Errorf("table code %q is not 3 upper-case letters", code)
		}
		if mu != 0 && mu != 2 && mu != 3 && mu != 4 {
			t.Errorf("%s: unexpected minor units %d", code, mu)
		}
	}
}

func TestLookupCurrencyMessage(t *testing.T) {
	_, err := LookupCurrency("eur")
	if err == nil || !strings.Contains(err.Error(), `"eur"`) || !strings.Contains(err.Error(), "upper-case") {
		t.Errorf("error for \"eur\" = %v, want it to quote the input and mention upper-case", err)
	}
	_, err = LookupCurrency("XAU")
	if err == nil || !strings.Contains(err.Error(), `"XAU"`) {
		t.Errorf("error for XAU = %v, want it to quote the input", err)
	}
}

func TestParseAmount(t *testing.T) {
	eur := mustCurrency(t, "EUR")
	jpy := mustCurrency(t, "JPY")
	kwd := mustCurrency(t, "KWD")
	clf := mustCurrency(t, "CLF")

	tests := []struct {
		in   string
		c    Currency
		want int64
	}{
		{"0", eur, 0},
		{"0.00", eur, 0},
		{"-0", eur, 0},
		{"-0.00", eur, 0},
		{"1", eur, 100},
		{"12.5", eur, 1250},
		{"12.50", eur, 1250},
		{"12.05", eur, 1205},
		{"0.01", eur, 1},
		{"-0.05", eur, -5},
		{"-12.34", eur, -1234},
		{"007.50", eur, 750},
		{"92233720368547758.07", eur, math.MaxInt64},
		{"-92233720368547758.08", eur, math.MinInt64},
		{"1200", jpy, 1200},
		{"-1", jpy, -1},
		{"9223372036854775807", jpy, math.MaxInt64},
		{"-9223372036854775808", jpy, math.MinInt64},
		{"1.25", kwd, 1250},
		{"1.250", kwd, 1250},
		{"1.234", kwd, 1234},
		{"0.001", kwd, 1},
		{"1.2345", clf, 12345},
		{"1", clf, 10000},
		{"1", Currency{Code: "XXX", MinorUnits: 18}, 1_000_000_000_000_000_000},
	}
	for _, tt := range tests {
		got, err := ParseAmount(tt.in, tt.c)
		if err != nil {
			t.Errorf("ParseAmount(%q, %s): unexpected error %v", tt.in, tt.c, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseAmount(%q, %s) = %d, want %d", tt.in, tt.c, got, tt.want)
		}
	}
}

func TestParseAmountErrors(t *testing.T) {
	eur := mustCurrency(t, "EUR")
	jpy := mustCurrency(t, "JPY")
	kwd := mustCurrency(t, "KWD")

	tests := []struct {
		in      string
		c       Currency
		wantMsg string // substring of the error message
	}{
		{"", eur, "empty"},
		{".", eur, "before the decimal point"},
		{".5", eur, "before the decimal point"},
		{"-.5", eur, "before the decimal point"},
		{"1.", eur, "after the decimal point"},
		{"-", eur, "not a plain decimal number"},
		{"--1", eur, "not a plain decimal number"},
		{"+1", eur, "not a plain decimal number"},
		{"1e3", eur, "not a plain decimal number"},
		{"1E3", eur, "not a plain decimal number"},
		{"1.5e1", eur, "not a plain decimal number"},
		{" 1", eur, "not a plain decimal number"},
		{"1 ", eur, "not a plain decimal number"},
		{"1 000", eur, "not a plain decimal number"},
		{"1,000", eur, "not a plain decimal number"},
		{"1,5", eur, "not a plain decimal number"},
		{"1_000", eur, "not a plain decimal number"},
		{"1.2.3", eur, "not a plain decimal number"},
		{"0x10", eur, "not a plain decimal number"},
		{"abc", eur, "not a plain decimal number"},
		{"NaN", eur, "not a plain decimal number"},
		{"Inf", eur, "not a plain decimal number"},
		{"١٢", eur, "not a plain decimal number"}, // Arabic-Indic digits
		{"1.-5", eur, "not a plain decimal number"},
		{"1.234", eur, "EUR has 2 decimal places"},
		{"1.000", eur, "EUR has 2 decimal places"},
		{"1.5", jpy, "JPY has no decimal places"},
		{"1.0", jpy, "JPY has no decimal places"},
		{"1.2345", kwd, "KWD has 3 decimal places"},
		{"92233720368547758.08", eur, "out of range"},
		{"-92233720368547758.09", eur, "out of range"},
		{"9223372036854775808", jpy, "out of range"},
		{"-9223372036854775809", jpy, "out of range"},
		{"99999999999999999999999999", jpy, "out of range"},
		{"100000000000000000", eur, "out of range"},
	}
	for _, tt := range tests {
		got, err := ParseAmount(tt.in, tt.c)
		if err == nil {
			t.Errorf("ParseAmount(%q, %s) = %d, want error", tt.in, tt.c, got)
			continue
		}
		if !errors.Is(err, ErrMalformedAmount) {
			t.Errorf("ParseAmount(%q, %s): error %v does not wrap ErrMalformedAmount", tt.in, tt.c, err)
		}
		if code, ok := apperr.CodeOf(err); !ok || code != apperr.BadUserInput {
			t.Errorf("ParseAmount(%q, %s): code = %q, %v; want BAD_USER_INPUT", tt.in, tt.c, code, ok)
		}
		if !strings.Contains(err.Error(), tt.wantMsg) {
			t.Errorf("ParseAmount(%q, %s): error %q does not mention %q", tt.in, tt.c, err, tt.wantMsg)
		}
		if got != 0 {
			t.Errorf("ParseAmount(%q, %s) returned %d with an error, want 0", tt.in, tt.c, got)
		}
	}
}

func TestParseAmountErrorMessage(t *testing.T) {
	_, err := ParseAmount("1.234", mustCurrency(t, "EUR"))
	const want = `amount "1.234": EUR has 2 decimal places: malformed amount`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}

	// A huge input is cut short in the message.
	_, err = ParseAmount(strings.Repeat("9", 10_000), mustCurrency(t, "EUR"))
	if err == nil || len(err.Error()) > 200 {
		t.Errorf("error for a huge input = %q (len %d), want a short message", err, len(err.Error()))
	}
}

func TestParseAmountInvalidCurrency(t *testing.T) {
	for _, mu := range []int{-1, 19, 100} {
		_, err := ParseAmount("1", Currency{Code: "BAD", MinorUnits: mu})
		if err == nil {
			t.Errorf("minor units %d: want error", mu)
			continue
		}
		if _, ok := apperr.CodeOf(err); ok {
			t.Errorf("minor units %d: error %v should be internal, not a client error", mu, err)
		}
	}
}

func TestFormatAmount(t *testing.T) {
	eur := mustCurrency(t, "EUR")
	jpy := mustCurrency(t, "JPY")
	kwd := mustCurrency(t, "KWD")
	uyw := mustCurrency(t, "UYW")

	tests := []struct {
		minor int64
		c     Currency
		want  string
	}{
		{1250, eur, "12.50"},
		{1205, eur, "12.05"},
		{0, eur, "0.00"},
		{1, eur, "0.01"},
		{-5, eur, "-0.05"},
		{-100, eur, "-1.00"},
		{-1234, eur, "-12.34"},
		{math.MaxInt64, eur, "92233720368547758.07"},
		{math.MinInt64, eur, "-92233720368547758.08"},
		{1200, jpy, "1200"},
		{0, jpy, "0"},
		{-7, jpy, "-7"},
		{math.MinInt64, jpy, "-9223372036854775808"},
		{1250, kwd, "1.250"},
		{1, kwd, "0.001"},
		{-1, kwd, "-0.001"},
		{12345, uyw, "1.2345"},
		{5, uyw, "0.0005"},
		{5, Currency{Code: "ODD", MinorUnits: -2}, "5"},
	}
	for _, tt := range tests {
		if got := FormatAmount(tt.minor, tt.c); got != tt.want {
			t.Errorf("FormatAmount(%d, %s) = %q, want %q", tt.minor, tt.c, got, tt.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	values := []int64{
		0, 1, -1, 5, -5, 9, 10, 99, 100, 101, 999, 1000, 1001, 1250, -1250,
		123456789, -123456789, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1,
		math.MaxInt32, math.MinInt32,
	}
	for code := range minorUnits {
		c := mustCurrency(t, code)
		for _, v := range values {
			s := FormatAmount(v, c)
			got, err := ParseAmount(s, c)
			if err != nil {
				t.Fatalf("ParseAmount(FormatAmount(%d, %s) = %q): %v", v, code, s, err)
			}
			if got != v {
				t.Fatalf("round trip %d %s -> %q -> %d", v, code, s, got)
			}
		}
	}
}

// FuzzParseAmount checks that ParseAmount never panics, that everything it
// accepts formats back to an equivalent canonical string, and that
// FormatAmount's output always parses back to the same value.
func FuzzParseAmount(f *testing.F) {
	seeds := []string{
		"", "0", "-0", "1", "12.50", "-0.05", "1.234", "1.", ".5", ".", "-", "+1", "1e3",
		"007.50", "92233720368547758.07", "-92233720368547758.08", "9223372036854775808",
		"1,000", " 1", "1.2.3", "١٢",
	}
	for _, s := range seeds {
		for _, mu := range []int{0, 2, 3, 4} {
			f.Add(s, mu)
		}
	}
	f.Fuzz(func(t *testing.T, s string, mu int) {
		c := Currency{Code: "TST", MinorUnits: mu}
		v, err := ParseAmount(s, c)
		if mu < 0 || mu > maxMinorUnits {
			if err == nil {
				t.Fatalf("ParseAmount(%q) with minor units %d: want error", s, mu)
			}
			return
		}
		if err != nil {
			if !errors.Is(err, ErrMalformedAmount) {
				t.Fatalf("ParseAmount(%q, mu=%d): error %v does not wrap ErrMalformedAmount", s, mu, err)
			}
			if v != 0 {
				t.Fatalf("ParseAmount(%q, mu=%d) = %d with error", s, mu, v)
			}
		} else {
			canon := FormatAmount(v, c)
			back, err := ParseAmount(canon, c)
			if err != nil || back != v {
				t.Fatalf("ParseAmount(%q, mu=%d) = %d; FormatAmount = %q; parses back to %d, %v", s, mu, v, canon, back, err)
			}
			// The accepted input and its canonical form differ only by
			// leading zeros, trailing fraction zeros and the sign of zero.
			if strings.TrimLeft(strings.TrimPrefix(s, "-"), "0") == "" && v != 0 {
				t.Fatalf("ParseAmount(%q) = %d, want 0", s, v)
			}
			if (v < 0) != (strings.HasPrefix(s, "-") && v != 0) {
				t.Fatalf("ParseAmount(%q) = %d: sign mismatch", s, v)
			}
		}

		// Format/parse round trip for an arbitrary value derived from the input.
		var x int64
		for i := 0; i < len(s); i++ {
			x = x*31 + int64(s[i])
		}
		str := FormatAmount(x, c)
		back, err := ParseAmount(str, c)
		if err != nil || back != x {
			t.Fatalf("FormatAmount(%d, mu=%d) = %q parses back to %d, %v", x, mu, str, back, err)
		}
	})
}
