package main

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/auth"
)

func TestMintToken(t *testing.T) {
	const secret = "mint-token-test-secret-0123456789abcdef"
	env := map[string]string{"JWT_HS256_SECRET": secret, "JWT_ISSUER": "dev-issuer"}
	var out bytes.Buffer
	if err := run([]string{"-sub", "alice", "-org", "acme", "-ttl", "10m", "-roles", "admin, auditor"}, func(k string) string { return env[k] }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(context.Background(), auth.Config{HS256Secret: []byte(secret), Issuer: "dev-issuer"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatalf("minted token: %v", err)
	}
	want := auth.Identity{Subject: "alice", Organization: "acme", Roles: []string{"admin", "auditor"}}
	if !reflect.DeepEqual(c.Identity, want) || time.Until(c.ExpiresAt) > 10*time.Minute {
		t.Errorf("claims %+v, want alice of acme, admin and auditor, for 10 minutes", c)
	}

	for _, args := range [][]string{{"-sub", ""}, {"-ttl", "-1m"}, {"extra"}} {
		if err := run(args, func(k string) string { return env[k] }, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
	if err := run(nil, func(string) string { return "" }, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "JWT_HS256_SECRET") {
		t.Errorf("without a secret: %v", err)
	}
}
