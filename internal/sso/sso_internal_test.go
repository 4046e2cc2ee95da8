package sso

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                              "/profile",
		"/teams":                        "/teams",
		"/teams?id=3#members":           "/teams?id=3#members",
		"https://evil.example/":         "/profile",
		"//evil.example/x":              "/profile",
		"/\\evil.example":               "/profile",
		"teams":                         "/profile",
		"/sso/oidc/corp/login":          "/profile",
		"/a\r\nSet-Cookie: x=y":         "/profile",
		"javascript:alert(1)":           "/profile",
		"/" + strings.Repeat("a", 2000): "/profile",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSealedCookies(t *testing.T) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s, err := newSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	v, err := s.seal("gh_sso_oidc_corp", oidcFlow{State: "st", Nonce: "no", Verifier: "ve"}, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(v, "st") && strings.Contains(v, "ve") {
		t.Fatalf("the sealed value shows its content: %s", v)
	}
	var got oidcFlow
	if err := s.open("gh_sso_oidc_corp", v, now, &got); err != nil || got.State != "st" || got.Verifier != "ve" {
		t.Fatalf("open = %+v, %v", got, err)
	}
	if err := s.open("gh_sso_oidc_corp", v, now.Add(time.Minute), &got); err == nil {
		t.Error("an expired cookie opened")
	}
	if err := s.open("gh_sso_saml", v, now, &got); err == nil {
		t.Error("a cookie opened under another name")
	}
	b := []byte(v)
	b[len(b)/2] ^= 1
	if err := s.open("gh_sso_oidc_corp", string(b), now, &got); err == nil {
		t.Error("a tampered cookie opened")
	}
	other, _ := newSealer(bytes.Repeat([]byte{7}, 32))
	if err := other.open("gh_sso_oidc_corp", v, now, &got); err == nil {
		t.Error("a cookie opened with another key")
	}
}

func TestKeyPairs(t *testing.T) {
	pair, err := generateSAMLKeyPair("https://auth.example.com", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, cert, err := parseKeyPair(pair)
	if err != nil || key.N.BitLen() != 2048 || cert.Subject.CommonName != "auth.example.com" {
		t.Fatalf("generated pair: %v", err)
	}
	// PKCS#1 keys are read too; a certificate of another key is refused.
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	if _, _, err := parseKeyPair(append(pkcs1, certPEM...)); err != nil {
		t.Fatalf("PKCS#1: %v", err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)})
	for name, in := range map[string][]byte{
		"mismatch": append(otherPEM, certPEM...), "no key": certPEM, "no cert": pkcs1, "garbage": []byte("not pem"),
	} {
		if _, _, err := parseKeyPair(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestIDPMetadataChecks(t *testing.T) {
	for name, md := range map[string]string{
		"not xml":     "metadata",
		"no entityID": `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp/sso"/></IDPSSODescriptor></EntityDescriptor>`,
		"no SSO":      `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp"><IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"></IDPSSODescriptor></EntityDescriptor>`,
	} {
		if _, err := parseIDPMetadata([]byte(md)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestPrecheck(t *testing.T) {
	const idp = "https://idp.example/metadata"
	ok := `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">` +
		`<saml:Issuer>` + idp + `</saml:Issuer><saml:Assertion><saml:Issuer>` + idp + `</saml:Issuer><saml:Subject><saml:NameID>a</saml:NameID></saml:Subject></saml:Assertion></samlp:Response>`
	if err := precheck([]byte(ok), idp); err != nil {
		t.Fatalf("well-formed response: %v", err)
	}
	for name, in := range map[string]string{
		"not xml":            "<samlp:Response",
		"not a response":     `<x:Response xmlns:x="urn:other"/>`,
		"no assertion":       `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`,
		"other issuer":       strings.Replace(ok, "<saml:Issuer>"+idp, "<saml:Issuer>https://evil", 1),
		"empty issuer":       strings.Replace(ok, "<saml:Assertion><saml:Issuer>"+idp+"</saml:Issuer>", "<saml:Assertion><saml:Issuer> </saml:Issuer>", 1),
		"issuer in other ns": strings.Replace(ok, "<saml:Assertion><saml:Issuer>"+idp+"</saml:Issuer>", `<saml:Assertion><x:Issuer xmlns:x="urn:x">`+idp+"</x:Issuer>", 1),
		"nameid in other ns": strings.Replace(ok, "<saml:NameID>a</saml:NameID>", `<NameID xmlns="urn:evil">a</NameID>`, 1),
		"nameid without ns":  strings.Replace(strings.Replace(ok, `xmlns:saml=`, `xmlns:s=`, 1), "<saml:NameID>a</saml:NameID>", `<NameID>a</NameID>`, 1),
	} {
		if err := precheck([]byte(in), idp); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestClaims(t *testing.T) {
	c := map[string]json.RawMessage{"email": json.RawMessage(`" a@example.com "`), "email_verified": json.RawMessage(`"true"`)}
	if e, v := emailClaims(c); e != "a@example.com" || !v {
		t.Errorf("string email_verified: %q %v", e, v)
	}
	if _, v := emailClaims(map[string]json.RawMessage{"email_verified": json.RawMessage(`false`)}); v {
		t.Error("false verified")
	}
	if g := stringsClaim(json.RawMessage(`["a","b"]`)); len(g) != 2 {
		t.Errorf("list claim: %v", g)
	}
	if g := stringsClaim(json.RawMessage(`"a"`)); len(g) != 1 {
		t.Errorf("string claim: %v", g)
	}
	if g := stringsClaim(json.RawMessage(`{"a":1}`)); g != nil {
		t.Errorf("object claim: %v", g)
	}
}

func TestWantsJSON(t *testing.T) {
	for accept, want := range map[string]bool{
		"": false, "application/json": true, "text/html,application/xhtml+xml,*/*;q=0.8": false,
		"application/json, text/plain, */*": true, "*/*": false,
	} {
		r := httptest.NewRequest(http.MethodGet, "/sso/saml/login", nil)
		r.Header.Set("Accept", accept)
		if got := wantsJSON(r); got != want {
			t.Errorf("Accept %q: %v", accept, got)
		}
	}
}
