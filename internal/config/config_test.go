package config

import (
	"os"
	"strings"
	"testing"
)

// TestDefaultDatabaseURLInScripts: the shell script that starts a local
// PostgreSQL cannot import DefaultDatabaseURL; its copy must not drift.
func TestDefaultDatabaseURLInScripts(t *testing.T) {
	b, err := os.ReadFile("../../scripts/ensure-services.sh")
	if err != nil {
		t.Fatal(err)
	}
	want := "DEFAULT_DATABASE_URL='" + DefaultDatabaseURL + "'"
	if !strings.Contains(string(b), want) {
		t.Errorf("scripts/ensure-services.sh has no line %s", want)
	}
}

// TestDefaultHasTheDatabaseURL: Default and FromEnv without DATABASE_URL
// give DefaultDatabaseURL.
func TestDefaultHasTheDatabaseURL(t *testing.T) {
	if got := Default().DatabaseURL; got != DefaultDatabaseURL {
		t.Errorf("Default().DatabaseURL = %q", got)
	}
	t.Setenv("DATABASE_URL", "")
	t.Setenv("CHRONICLE_DEV", "true")
	cfg, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL != DefaultDatabaseURL {
		t.Errorf("FromEnv().DatabaseURL = %q", cfg.DatabaseURL)
	}
}
