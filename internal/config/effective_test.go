package config

import (
	"strings"
	"testing"
)

// The effective configuration never shows a secret: not when set in the environment, not when
// it has a default (the default admin's password), and a file variable shows the file's path.
func TestEffectiveMasksSecrets(t *testing.T) {
	env := map[string]string{"DB_TYPE": "postgres", "DB_PASS": "hunter2-database", "SMTP_PASS_FILE": "/run/secrets/smtp", "LICENSE_KEY": ""}
	got := map[string]Setting{}
	for _, s := range Effective(func(k string) string { return env[k] }) {
		got[s.Name] = s
		if s.Secret && (strings.Contains(s.Value, "hunter2") || s.Value == "admin123") {
			t.Fatalf("%s shows its secret: %+v", s.Name, s)
		}
	}
	for name, want := range map[string]Setting{
		"DB_TYPE":        {Name: "DB_TYPE", Value: "postgres", Source: "environment"},
		"DB_PASS":        {Name: "DB_PASS", Value: "(set)", Source: "environment", Secret: true},
		"SMTP_PASS":      {Name: "SMTP_PASS", Value: "/run/secrets/smtp", Source: "file", Secret: true},
		"LICENSE_KEY":    {Name: "LICENSE_KEY", Value: "", Source: "default", Secret: true},
		"ADMIN_PASSWORD": {Name: "ADMIN_PASSWORD", Value: "(set)", Source: "default", Secret: true},
	} {
		if got[name] != want {
			t.Errorf("%s = %+v, want %+v", name, got[name], want)
		}
	}
	if len(got) != len(Vars()) {
		t.Fatalf("%d settings for %d variables", len(got), len(Vars()))
	}
}
