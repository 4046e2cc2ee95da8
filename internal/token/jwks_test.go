package token

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// TestJWKSIndependentVerification proves the published JWKS is right: an unrelated JOSE library,
// given only the JWKS bytes, finds the key by kid and verifies our tokens.
func TestJWKSIndependentVerification(t *testing.T) {
	c := newClock(testNow)
	ed, ec := mustKey(t, AlgEdDSA), mustKey(t, AlgES256)
	m := newTestManager(t, c, ed, ec)

	raw := m.JWKS()
	for _, private := range []string{`"d"`, `"p"`, `"q"`} {
		if strings.Contains(string(raw), private+":") {
			t.Errorf("JWKS has private member %s: %s", private, raw)
		}
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatalf("go-jose cannot parse the JWKS %s: %v", raw, err)
	}
	if len(set.Keys) != 2 {
		t.Fatalf("JWKS has %d keys, want 2", len(set.Keys))
	}
	for _, want := range []Key{ed, ec} {
		found := set.Key(want.ID)
		if len(found) != 1 {
			t.Fatalf("JWKS has %d keys with kid %s", len(found), want.ID)
		}
		k := found[0]
		if !k.Valid() || !k.IsPublic() || k.Use != "sig" || k.Algorithm != want.Alg {
			t.Errorf("JWK %s: valid=%v public=%v use=%q alg=%q", want.ID, k.Valid(), k.IsPublic(), k.Use, k.Algorithm)
		}
		// go-jose's own RFC 7638 thumbprint agrees with our kid.
		tp, err := k.Thumbprint(crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if got := base64.RawURLEncoding.EncodeToString(tp); got != want.ID {
			t.Errorf("go-jose thumbprint %s != kid %s", got, want.ID)
		}
	}

	// Tokens from either key (rotate the signer to get both) verify with go-jose alone.
	for _, signing := range []Key{ed, ec} {
		if err := m.SetKeys(signing, ed, ec); err != nil {
			t.Fatal(err)
		}
		tok, issued, err := m.Issue(testClaims())
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := josejwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256})
		if err != nil {
			t.Fatalf("go-jose ParseSigned: %v", err)
		}
		h := parsed.Headers[0]
		if h.KeyID != signing.ID || h.Algorithm != signing.Alg {
			t.Errorf("header kid=%s alg=%s, want %s %s", h.KeyID, h.Algorithm, signing.ID, signing.Alg)
		}
		keys := set.Key(h.KeyID)
		if len(keys) != 1 {
			t.Fatalf("kid %s not in the JWKS", h.KeyID)
		}
		var std josejwt.Claims
		var extra struct {
			Scope string `json:"scope"`
			Stamp string `json:"stamp"`
			SID   string `json:"sid"`
		}
		if err := parsed.Claims(keys[0].Key, &std, &extra); err != nil {
			t.Fatalf("go-jose signature check with the JWKS key: %v", err)
		}
		if err := std.Validate(josejwt.Expected{Issuer: testIssuer, AnyAudience: josejwt.Audience{testAudience}, Time: testNow}); err != nil {
			t.Errorf("go-jose claims validation: %v", err)
		}
		if std.Subject != issued.Subject || std.ID != issued.ID || extra.Scope != "read write admin" || extra.Stamp != issued.Stamp || extra.SID != issued.SessionID {
			t.Errorf("go-jose read %+v %+v, want %+v", std, extra, issued)
		}
		// And the JWKS key for the other kid does not verify it.
		for _, other := range set.Keys {
			if other.KeyID != signing.ID {
				if err := parsed.Claims(other.Key, &std); err == nil {
					t.Errorf("token signed by %s verified with %s", signing.ID, other.KeyID)
				}
			}
		}
	}
}

func TestJWKSIsACopy(t *testing.T) {
	m := newTestManager(t, newClock(testNow), mustKey(t, AlgEdDSA))
	b := m.JWKS()
	b[0] = 'X'
	if m.JWKS()[0] != '{' {
		t.Error("JWKS returned the manager's own buffer")
	}
}
