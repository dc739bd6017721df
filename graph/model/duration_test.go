package model

import (
	"errors"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/apperr"
)

func TestUnmarshalDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"24h": 24 * time.Hour, "90m": 90 * time.Minute, "7d": 7 * 24 * time.Hour,
		"1d12h": 36 * time.Hour, " 45s ": 45 * time.Second, "1h30m": 90 * time.Minute,
	} {
		if got, err := UnmarshalDuration(in); err != nil || got != want {
			t.Errorf("UnmarshalDuration(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []any{"", "0s", "-1h", "yesterday", "d", "1.5d", "7dd", "4000d", "1d-2h", 3600, nil} {
		_, err := UnmarshalDuration(in)
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != apperr.BadUserInput {
			t.Errorf("UnmarshalDuration(%v) = %v, want BAD_USER_INPUT", in, err)
		}
	}
}
