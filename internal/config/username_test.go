package config

import (
	"strings"
	"testing"
)

// Usernames are off by default with Flask-Security's lengths; the settings that depend on
// others are refused without them; bad values name their variable.
func TestUsernameSettings(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	u := c.Security.Username
	if u.Enable || u.Required || u.Recovery || u.MinLength != 4 || u.MaxLength != 32 || u.Form != "NFKC" || u.Punctuation != "_-." {
		t.Fatalf("defaults: %+v", u)
	}
	c, err = Load(env(map[string]string{"SECURITY_USERNAME_ENABLE": "true", "SECURITY_USERNAME_REQUIRED": "true",
		"SECURITY_USERNAME_RECOVERY": "true", "SMTP_HOST": "mail.example.com", "SECURITY_USERNAME_MIN_LENGTH": "2",
		"SECURITY_USERNAME_MAX_LENGTH": "64", "SECURITY_USERNAME_NORMALIZE_FORM": "nfkd", "SECURITY_USERNAME_PUNCTUATION": "_+"}))
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Security.Username.Policy(); p.MinLength != 2 || p.MaxLength != 64 || p.Form != "NFKD" || p.Punctuation != "_+" {
		t.Fatalf("policy: %+v", p)
	}
	for _, tc := range []struct {
		env  map[string]string
		name string
	}{
		{map[string]string{"SECURITY_USERNAME_RECOVERY": "true", "SMTP_HOST": "mail.example.com"}, "SECURITY_USERNAME_RECOVERY"},
		{map[string]string{"SECURITY_USERNAME_ENABLE": "true", "SECURITY_USERNAME_RECOVERY": "true"}, "SECURITY_USERNAME_RECOVERY"},
		{map[string]string{"SECURITY_USERNAME_REQUIRED": "true"}, "SECURITY_USERNAME_REQUIRED"},
		{map[string]string{"SECURITY_USERNAME_MIN_LENGTH": "10", "SECURITY_USERNAME_MAX_LENGTH": "8"}, "SECURITY_USERNAME_MIN_LENGTH"},
		{map[string]string{"SECURITY_USERNAME_MAX_LENGTH": "65"}, "SECURITY_USERNAME_MAX_LENGTH"},
		{map[string]string{"SECURITY_USERNAME_NORMALIZE_FORM": "NFX"}, "SECURITY_USERNAME_NORMALIZE_FORM"},
		{map[string]string{"SECURITY_USERNAME_PUNCTUATION": "_@"}, "SECURITY_USERNAME_PUNCTUATION"},
		{map[string]string{"SECURITY_USERNAME_PUNCTUATION": "_ "}, "SECURITY_USERNAME_PUNCTUATION"},
		{map[string]string{"SECURITY_USERNAME_PUNCTUATION": "_a"}, "SECURITY_USERNAME_PUNCTUATION"},
	} {
		if _, err := Load(env(tc.env)); err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%v: %v, want a problem with %s", tc.env, err, tc.name)
		}
	}
}
