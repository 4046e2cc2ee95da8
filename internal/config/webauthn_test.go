package config

import (
	"errors"
	"slices"
	"testing"
)

func TestWebAuthnRelyingParty(t *testing.T) {
	c, err := Load(env(map[string]string{"PUBLIC_URL": "https://Auth.Example.com:8443/base"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Security.WebAuthnRPID != "auth.example.com" || !slices.Equal(c.Security.WebAuthnOrigins, []string{"https://auth.example.com:8443"}) {
		t.Fatalf("derived = %q %q", c.Security.WebAuthnRPID, c.Security.WebAuthnOrigins)
	}

	c, err = Load(env(map[string]string{"PUBLIC_URL": "https://auth.example.com", "WEBAUTHN_RP_ID": "example.com",
		"WEBAUTHN_ORIGINS": "https://auth.example.com, https://app.example.com:8443/"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Security.WebAuthnRPID != "example.com" || !slices.Equal(c.Security.WebAuthnOrigins, []string{"https://auth.example.com", "https://app.example.com:8443"}) {
		t.Fatalf("explicit = %q %q", c.Security.WebAuthnRPID, c.Security.WebAuthnOrigins)
	}

	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"WEBAUTHN_RP_ID": "https://example.com"}, "WEBAUTHN_RP_ID"},
		{map[string]string{"WEBAUTHN_ORIGINS": "https://a.example.com/path"}, "WEBAUTHN_ORIGINS"},
		// An origin outside the RP ID could never complete a ceremony.
		{map[string]string{"PUBLIC_URL": "https://auth.example.com", "WEBAUTHN_RP_ID": "other.example.com"}, "WEBAUTHN_RP_ID"},
		{map[string]string{"WEBAUTHN_RP_ID": "example.com", "WEBAUTHN_ORIGINS": "https://notexample.com"}, "WEBAUTHN_RP_ID"},
	} {
		_, err := Load(env(tc.env))
		var ce *Error
		if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Var != tc.want {
			t.Errorf("%v: %v, want a problem with %s", tc.env, err, tc.want)
		}
	}
}
