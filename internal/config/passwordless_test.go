package config

import (
	"strings"
	"testing"
	"time"
)

// Sign-in by email is off by default, valid for 10 minutes, and needs SMTP.
func TestPasswordlessSettings(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Security.PasswordlessEmail || c.Security.PasswordlessWithin != 10*time.Minute {
		t.Fatalf("defaults: email %v, within %s", c.Security.PasswordlessEmail, c.Security.PasswordlessWithin)
	}
	_, err = Load(env(map[string]string{"SECURITY_PASSWORDLESS_EMAIL": "true"}))
	if err == nil || !strings.Contains(err.Error(), "SECURITY_PASSWORDLESS_EMAIL") || !strings.Contains(err.Error(), "SMTP_HOST") {
		t.Fatalf("without SMTP: %v", err)
	}
	c, err = Load(env(map[string]string{"SECURITY_PASSWORDLESS_EMAIL": "true", "SMTP_HOST": "mail.example.com", "SECURITY_PASSWORDLESS_WITHIN": "15 minutes"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Security.PasswordlessEmail || c.Security.PasswordlessWithin != 15*time.Minute {
		t.Fatalf("set: email %v, within %s", c.Security.PasswordlessEmail, c.Security.PasswordlessWithin)
	}
	for _, bad := range []string{"0", "30s", "2 days", "soon"} {
		if _, err := Load(env(map[string]string{"SECURITY_PASSWORDLESS_WITHIN": bad})); err == nil {
			t.Errorf("SECURITY_PASSWORDLESS_WITHIN=%q accepted", bad)
		}
	}
}
