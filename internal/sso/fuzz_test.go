package sso

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzSAMLPrecheck: the ACS's own reading of the posted SAMLResponse (the base64 layer and the
// namespace-aware pre-check that runs before crewjam/saml sees the XML) never panics, and passes
// only a samlp:Response whose plaintext assertions name an Issuer.
func FuzzSAMLPrecheck(f *testing.F) {
	const idp = "https://idp.example/metadata"
	for _, s := range []string{
		`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Issuer>https://idp.example/metadata</saml:Issuer><saml:Assertion><saml:Issuer>https://idp.example/metadata</saml:Issuer><saml:Subject><saml:NameID>u</saml:NameID></saml:Subject></saml:Assertion></samlp:Response>`,
		`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Assertion><saml:Subject><x:NameID xmlns:x="urn:evil">admin</x:NameID></saml:Subject></saml:Assertion></samlp:Response>`,
		`<Response/>`, `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>`, ``, `<`, "\xff\xfe<\x00",
	} {
		f.Add(base64.StdEncoding.EncodeToString([]byte(s)))
	}
	f.Add("not base64!")
	f.Add(" PHNhbWxw\nOlJlc3BvbnNl ")
	f.Fuzz(func(t *testing.T, encoded string) {
		raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(encoded), ""))
		if err != nil || len(raw) > maxSAMLResponse {
			return
		}
		if err := precheck(raw, idp); err == nil && !strings.Contains(string(raw), "Response") {
			t.Fatalf("precheck passed a document without a Response: %q", raw)
		}
	})
}

// FuzzOIDCCallbackInputs: what the OIDC callback reads from the browser before the library
// (the error parameter it echoes, the next address kept in the flow cookie) and from the claims
// it interprets after verification never panics; next always stays on this server and echoed
// text stays valid UTF-8 and bounded.
func FuzzOIDCCallbackInputs(f *testing.F) {
	for _, s := range []string{"/profile", "//evil.example", "/\\evil", "https://evil.example/", "/sso/x", "/a?b=c#d", "",
		"/%2F%2Fevil", "/\t/evil", "\u00e9\u00e9\u00e9", strings.Repeat("\u00e9", 40)} {
		f.Add(s, `{"email":" a@example.com ","email_verified":"TRUE","groups":["a","b"]}`)
	}
	f.Add("/x", `{"email":1,"email_verified":null,"groups":"one"}`)
	f.Fuzz(func(t *testing.T, next, claims string) {
		got := safeNext(next)
		if got != defaultNext {
			u, err := url.Parse(got)
			if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") ||
				strings.ContainsAny(got, "\\\r\n\t") {
				t.Fatalf("safeNext(%q) = %q leaves the server", next, got)
			}
		}
		if tr := truncate(next, 64); utf8.ValidString(next) && !utf8.ValidString(tr) || len(tr) > 64+len("…") {
			t.Fatalf("truncate(%q) = %q", next, tr)
		}
		var c map[string]json.RawMessage
		if json.Unmarshal([]byte(claims), &c) == nil {
			email, _ := emailClaims(c)
			if email != strings.TrimSpace(email) {
				t.Fatalf("emailClaims kept spaces: %q", email)
			}
			_ = stringsClaim(c["groups"])
		}
	})
}

// FuzzFlowCookie: a sign-in cookie value from the browser never panics the opener, and nothing
// but a value this sealer made under the same name opens.
func FuzzFlowCookie(f *testing.F) {
	s, err := newSealer(make([]byte, 32))
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	good, err := s.seal("gh_sso_oidc_x", map[string]string{"state": "s"}, now.Add(time.Minute))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add("")
	f.Add("!!!!")
	f.Add(base64.RawURLEncoding.EncodeToString(make([]byte, 40)))
	f.Fuzz(func(t *testing.T, value string) {
		var v map[string]string
		if err := s.open("gh_sso_oidc_x", value, now, &v); err == nil && v["state"] != "s" {
			t.Fatalf("open accepted a forged cookie %q: %v", value, v)
		}
		if err := s.open("gh_sso_oidc_y", value, now, &v); err == nil {
			t.Fatalf("a cookie opened under another name: %q", value)
		}
	})
}
