package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse"
)

func TestSSOProviders(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(env(map[string]string{
		"SSO_OIDC_PROVIDERS": `[{"name":"corp","issuer":"https://idp.example.com","client_id":"gh","client_secret_file":"` + secret + `"},
			{"name":"dev","issuer":"http://127.0.0.1:9999/oidc","client_id":"x","scopes":["email","groups"],"label":"Dev IdP","trust_email":true,"groups_claim":"roles"}]`,
		"SSO_DEFAULT_ROLE": "maintainer",
		"PUBLIC_URL":       "https://auth.example.com",
	}))
	if err != nil {
		t.Fatal(err)
	}
	ps := c.SSO.OIDC
	if len(ps) != 2 || ps[0].ClientSecret != "s3cr3t" || strings.Join(ps[0].Scopes, " ") != "openid email profile" ||
		ps[0].Label != "Sign in with corp" || ps[0].GroupsClaim != "groups" || ps[0].TrustEmail {
		t.Fatalf("corp = %+v", ps[0])
	}
	if strings.Join(ps[1].Scopes, " ") != "openid email groups" || ps[1].Label != "Dev IdP" || !ps[1].TrustEmail || ps[1].GroupsClaim != "roles" || ps[1].ClientSecret != "" {
		t.Fatalf("dev = %+v", ps[1])
	}
	if c.SSO.DefaultRole != gatehouse.RoleMaintainer || c.SSO.SAML.EntityID != "https://auth.example.com/sso/saml/metadata" || c.SSO.SAML.EmailVerified || c.SSO.SAML.Enabled() {
		t.Fatalf("sso = %+v", c.SSO)
	}

	for name, tc := range map[string]struct{ value, want string }{
		"not json":       {`corp`, "invalid JSON"},
		"unknown field":  {`[{"name":"a","issuer":"https://i","client_id":"c","secret":"x"}]`, "unknown field"},
		"bad name":       {`[{"name":"Corp IdP","issuer":"https://i","client_id":"c"}]`, "lower-case"},
		"reserved name":  {`[{"name":"saml","issuer":"https://i","client_id":"c"}]`, "reserved"},
		"duplicate":      {`[{"name":"a","issuer":"https://i","client_id":"c"},{"name":"a","issuer":"https://j","client_id":"c"}]`, "unique"},
		"plain http":     {`[{"name":"a","issuer":"http://idp.example.com","client_id":"c"}]`, "https"},
		"no client":      {`[{"name":"a","issuer":"https://i"}]`, "client_id"},
		"missing secret": {`[{"name":"a","issuer":"https://i","client_id":"c","client_secret_file":"/nonexistent/s"}]`, "readable file"},
		"bad scope":      {`[{"name":"a","issuer":"https://i","client_id":"c","scopes":["a b"]}]`, "scope"},
		"trailing":       {`[] []`, "nothing after"},
	} {
		_, err := Load(env(map[string]string{"SSO_OIDC_PROVIDERS": tc.value}))
		if err == nil || !strings.Contains(err.Error(), "SSO_OIDC_PROVIDERS") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want a problem naming SSO_OIDC_PROVIDERS with %q", name, err, tc.want)
		}
	}
}

func TestRoleMapping(t *testing.T) {
	rules, err := ParseRoleMapping("admins=admin,staff=team:7:member")
	if err != nil || len(rules) != 2 || rules[0] != (RoleRule{Group: "admins", Role: gatehouse.RoleAdmin}) ||
		rules[1] != (RoleRule{Group: "staff", TeamID: 7, TeamRole: gatehouse.TeamMember}) {
		t.Fatalf("rules = %+v, %v", rules, err)
	}
	// With ";" the rules may contain commas and "=", as LDAP distinguished names do.
	rules, err = ParseRoleMapping("CN=Admins,OU=Groups,DC=corp=admin; [corp]devs=team:Web: Team:owner\n[saml]x=viewer")
	if err != nil || len(rules) != 3 || rules[0].Group != "CN=Admins,OU=Groups,DC=corp" || rules[0].Role != gatehouse.RoleAdmin ||
		rules[1] != (RoleRule{Provider: "corp", Group: "devs", TeamName: "Web: Team", TeamRole: gatehouse.TeamOwner}) ||
		rules[2] != (RoleRule{Provider: "saml", Group: "x", Role: gatehouse.RoleViewer}) {
		t.Fatalf("rules = %+v, %v", rules, err)
	}
	for bad, want := range map[string]string{
		"admins":                          "group=target",
		"=admin":                          "group is empty",
		"a=root":                          "not a role",
		"a=team:7:boss":                   "not a team role",
		"a=team:member":                   "team:TEAM:ROLE",
		"[Corp]a=admin":                   "provider name",
		"[corp a=admin":                   "not closed",
		"CN=A,OU=G=admin":                 "separate rules with ;",
		"good=viewer;CN=A,OU=G=superuser": "not a role",
	} {
		if _, err := ParseRoleMapping(bad); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v; want %q", bad, err, want)
		}
	}
	if _, err := Load(env(map[string]string{"SSO_ROLE_MAPPING": "[corp]a=admin"})); err == nil || !strings.Contains(err.Error(), "SSO_ROLE_MAPPING") {
		t.Errorf("a rule for an unknown provider: %v", err)
	}
	if _, err := Load(env(map[string]string{"SSO_DEFAULT_ROLE": "root"})); err == nil || !strings.Contains(err.Error(), "SSO_DEFAULT_ROLE") {
		t.Errorf("bad default role: %v", err)
	}
}

func TestSAMLSettings(t *testing.T) {
	c, err := Load(env(map[string]string{"SAML_IDP_METADATA_URL": "https://idp.example.com/metadata", "SAML_EMAIL_VERIFIED": "false", "SAML_SP_ENTITY_ID": "urn:gatehouse"}))
	if err != nil || !c.SSO.SAML.Enabled() || c.SSO.SAML.EmailVerified || c.SSO.SAML.EntityID != "urn:gatehouse" {
		t.Fatalf("saml = %+v, %v", c.SSO.SAML, err)
	}
	for name, vars := range map[string]map[string]string{
		"both metadata sources": {"SAML_IDP_METADATA_URL": "https://idp.example.com/m", "SAML_IDP_METADATA_FILE": "/m.xml"},
		"key without cert":      {"SAML_SP_KEY_FILE": "/k.pem"},
		"plain http metadata":   {"SAML_IDP_METADATA_URL": "http://idp.example.com/m"},
		"two-line label":        {"SAML_LABEL": "a\nb"},
	} {
		if _, err := Load(env(vars)); err == nil || !strings.Contains(err.Error(), "SAML_") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
