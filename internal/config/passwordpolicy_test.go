package config

import (
	"strings"
	"testing"
	"time"
)

// The password policy settings: 12 by default, never below 8; the breached-password range API
// is off unless configured, and its URL must be http(s).
func TestPasswordPolicySettings(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Security.PasswordLengthMin != 12 || c.Security.BreachedPasswordURL != "" || c.Security.BreachedPasswordTimeout != 3*time.Second {
		t.Fatalf("defaults: %+v", c.Security)
	}
	if c.Security.DeviceTokenMaxAge != 180*24*time.Hour || c.Security.DeviceTokenFailures != 5 {
		t.Fatalf("device token defaults: %+v", c.Security)
	}
	for _, bad := range []string{"7", "0", "-1"} {
		if _, err := Load(env(map[string]string{"SECURITY_PASSWORD_LENGTH_MIN": bad})); err == nil || !strings.Contains(err.Error(), "SECURITY_PASSWORD_LENGTH_MIN") {
			t.Errorf("SECURITY_PASSWORD_LENGTH_MIN=%s: %v", bad, err)
		}
	}
	c, err = Load(env(map[string]string{"SECURITY_PASSWORD_LENGTH_MIN": "8",
		"SECURITY_BREACHED_PASSWORD_URL": "https://api.pwnedpasswords.com/", "SECURITY_BREACHED_PASSWORD_TIMEOUT": "500ms"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Security.PasswordLengthMin != 8 || c.Security.BreachedPasswordURL != "https://api.pwnedpasswords.com" || c.Security.BreachedPasswordTimeout != 500*time.Millisecond {
		t.Fatalf("configured: %+v", c.Security)
	}
	if _, err := Load(env(map[string]string{"SECURITY_BREACHED_PASSWORD_URL": "ftp://x"})); err == nil {
		t.Error("ftp URL accepted")
	}
}
