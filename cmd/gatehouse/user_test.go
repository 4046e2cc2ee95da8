package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestUserCommands(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "g.db")
	env := func(k string) string {
		return map[string]string{"DB_PATH": dbPath, "LOG_LEVEL": "error", "SECURITY_BCRYPT_COST": "10"}[k]
	}
	tests := []struct {
		name     string
		args     []string
		stdin    string
		code     int
		contains string
	}{
		{"create", []string{"user", "create", "--email", "ops@example.com", "--role", "maintainer"}, "correct horse battery staple 42\n", exitOK, "created user"},
		{"duplicate", []string{"user", "create", "--email", "OPS@example.com"}, "correct horse battery staple 42\n", exitFail, "already exists"},
		{"weak password", []string{"user", "create", "--email", "weak@example.com"}, "password\n", exitFail, "password"},
		{"no password", []string{"user", "create", "--email", "nopw@example.com"}, "", exitFail, "no password"},
		{"bad role", []string{"user", "create", "--email", "x@example.com", "--role", "root"}, "", exitConfig, "unknown role"},
		{"no email", []string{"user", "create"}, "", exitConfig, "--email is required"},
		{"bad email", []string{"user", "create", "--email", "not-an-email"}, "correct horse battery staple 42\n", exitFail, "email"},
		{"list", []string{"user", "list"}, "", exitOK, "ops@example.com"},
		{"set-password", []string{"user", "set-password", "--email", "ops@example.com"}, "violet tangerine submarine orchestra 7\n", exitOK, "password set"},
		{"set-password unknown", []string{"user", "set-password", "--email", "nobody@example.com"}, "x\n", exitFail, "not found"},
		{"reset-access", []string{"user", "reset-access", "--email", "ops@example.com"}, "", exitOK, "ended"},
		{"unlock", []string{"user", "unlock", "--email", "ops@example.com"}, "", exitOK, "unlocked"},
		{"mail list", []string{"mail", "list"}, "", exitOK, "STATUS"},
		{"mail list bad status", []string{"mail", "list", "--status", "lost"}, "", exitFail, "status"},
		{"help", []string{"user", "--help"}, "", exitOK, "gatehouse user create"},
		{"unknown", []string{"user", "frob"}, "", exitConfig, "unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := runWithInput(context.Background(), tc.args, env, strings.NewReader(tc.stdin), &out, &errb)
			all := out.String() + errb.String()
			if code != tc.code || !strings.Contains(all, tc.contains) {
				t.Fatalf("exit %d (want %d); output lacks %q:\n%s", code, tc.code, tc.contains, all)
			}
			if strings.Contains(all, "correct horse") || strings.Contains(all, "tangerine") {
				t.Fatal("a password was printed")
			}
		})
	}
	// The list shows the roles and that the created user is confirmed.
	var out bytes.Buffer
	runWithInput(context.Background(), []string{"user", "list"}, env, strings.NewReader(""), &out, &out)
	if !strings.Contains(out.String(), "maintainer") || !strings.Contains(out.String(), "admin@localhost.local") {
		t.Fatalf("list:\n%s", out.String())
	}
}
