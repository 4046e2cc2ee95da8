package token

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestVerifyRejects(t *testing.T) {
	c := newClock(testNow)
	key := mustKey(t, AlgEdDSA)
	ecKey := mustKey(t, AlgES256)
	stranger := mustKey(t, AlgEdDSA) // not in the manager's set
	m := newTestManager(t, c, key, ecKey)
	now := testNow.Unix()

	header := func(edit func(map[string]any)) map[string]any {
		h := map[string]any{"alg": AlgEdDSA, "typ": "at+jwt", "kid": key.ID}
		if edit != nil {
			edit(h)
		}
		return h
	}
	claims := func(edit func(map[string]any)) map[string]any {
		cl := map[string]any{
			"iss": testIssuer, "aud": testAudience, "sub": "user-42",
			"iat": now, "nbf": now, "exp": now + 900,
			"jti": "j1", "scope": "read", "stamp": "s1", "sid": "f1",
		}
		if edit != nil {
			edit(cl)
		}
		return cl
	}
	ed := jwt.SigningMethodEdDSA
	edPriv := key.Private
	del := func(k string) func(map[string]any) { return func(m map[string]any) { delete(m, k) } }
	set := func(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }

	issued, _, err := m.Issue(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	pubRaw := []byte(key.Private.Public().(ed25519.PublicKey))
	pubDER, _ := x509.MarshalPKIXPublicKey(key.Private.Public())
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	noneHeader := header(set("alg", "none"))

	tests := []struct {
		name  string
		token string
		ok    bool
		cause error // when set, errors.Is(err, cause) must hold
	}{
		// Controls: the crafting itself produces valid tokens, so every rejection below is for
		// the one thing that row changes.
		{name: "crafted baseline", token: sign(t, ed, edPriv, header(nil), claims(nil)), ok: true},
		{name: "aud as array", token: sign(t, ed, edPriv, header(nil), claims(set("aud", []string{"other", testAudience}))), ok: true},
		{name: "typ application/at+JWT", token: sign(t, ed, edPriv, header(set("typ", "application/at+JWT")), claims(nil)), ok: true},
		{name: "expired within leeway", token: sign(t, ed, edPriv, header(nil), claims(set("exp", now-29))), ok: true},
		{name: "nbf within leeway", token: sign(t, ed, edPriv, header(nil), claims(set("nbf", now+29))), ok: true},
		{name: "ES256 key", token: sign(t, jwt.SigningMethodES256, ecKey.Private, header(func(h map[string]any) { h["alg"], h["kid"] = AlgES256, ecKey.ID }), claims(nil)), ok: true},

		{name: "expired", token: sign(t, ed, edPriv, header(nil), claims(set("exp", now-31))), cause: jwt.ErrTokenExpired},
		{name: "not yet valid", token: sign(t, ed, edPriv, header(nil), claims(set("nbf", now+60))), cause: jwt.ErrTokenNotValidYet},
		{name: "issued in the future", token: sign(t, ed, edPriv, header(nil), claims(set("iat", now+60))), cause: jwt.ErrTokenUsedBeforeIssued},
		{name: "wrong issuer", token: sign(t, ed, edPriv, header(nil), claims(set("iss", "https://evil.example"))), cause: jwt.ErrTokenInvalidIssuer},
		{name: "no issuer", token: sign(t, ed, edPriv, header(nil), claims(del("iss"))), cause: jwt.ErrTokenRequiredClaimMissing},
		{name: "wrong audience", token: sign(t, ed, edPriv, header(nil), claims(set("aud", "another-api"))), cause: jwt.ErrTokenInvalidAudience},
		{name: "no audience", token: sign(t, ed, edPriv, header(nil), claims(del("aud"))), cause: jwt.ErrTokenRequiredClaimMissing},
		{name: "missing exp", token: sign(t, ed, edPriv, header(nil), claims(del("exp"))), cause: jwt.ErrTokenRequiredClaimMissing},
		{name: "missing nbf", token: sign(t, ed, edPriv, header(nil), claims(del("nbf"))), cause: jwt.ErrTokenRequiredClaimMissing},
		{name: "missing iat", token: sign(t, ed, edPriv, header(nil), claims(del("iat"))), cause: errMissingIat},
		{name: "missing sub", token: sign(t, ed, edPriv, header(nil), claims(del("sub"))), cause: errMissingSub},
		{name: "missing jti", token: sign(t, ed, edPriv, header(nil), claims(del("jti"))), cause: errMissingJti},
		{name: "missing stamp", token: sign(t, ed, edPriv, header(nil), claims(del("stamp"))), cause: errMissingStamp},
		{name: "missing sid", token: sign(t, ed, edPriv, header(nil), claims(del("sid"))), cause: errMissingSid},
		{name: "exp not a number", token: sign(t, ed, edPriv, header(nil), claims(set("exp", "soon"))), cause: jwt.ErrTokenMalformed},

		{name: "alg none", token: sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, noneHeader, claims(nil)), cause: jwt.ErrTokenSignatureInvalid},
		{name: "alg none without a signature segment", token: strings.TrimSuffix(sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, noneHeader, claims(nil)), "."), cause: jwt.ErrTokenMalformed},
		{name: "HS256 keyed with raw public key", token: sign(t, jwt.SigningMethodHS256, pubRaw, header(set("alg", "HS256")), claims(nil)), cause: jwt.ErrTokenSignatureInvalid},
		{name: "HS256 keyed with PEM public key", token: sign(t, jwt.SigningMethodHS256, pubPEM, header(set("alg", "HS256")), claims(nil)), cause: jwt.ErrTokenSignatureInvalid},
		{name: "ES256 alg on the EdDSA key's kid", token: sign(t, jwt.SigningMethodES256, ecKey.Private, header(set("alg", AlgES256)), claims(nil)), cause: errAlgMismatch},
		{name: "RS256 alg", token: segment(sign(t, ed, edPriv, header(nil), claims(nil)), 0, func([]byte) []byte { return []byte(`{"alg":"RS256","typ":"at+jwt","kid":"` + key.ID + `"}`) }), cause: jwt.ErrTokenSignatureInvalid},

		{name: "tampered payload", token: segment(issued, 1, func(b []byte) []byte { return []byte(strings.Replace(string(b), `"user-42"`, `"user-1"`, 1)) }), cause: jwt.ErrTokenSignatureInvalid},
		{name: "tampered signature", token: segment(issued, 2, func(b []byte) []byte { b[0] ^= 1; return b }), cause: jwt.ErrTokenSignatureInvalid},
		{name: "truncated signature", token: segment(issued, 2, func(b []byte) []byte { return b[:len(b)-1] }), cause: jwt.ErrTokenSignatureInvalid},
		{name: "tampered header kid", token: segment(issued, 0, func([]byte) []byte { return []byte(`{"alg":"ES256","typ":"at+jwt","kid":"` + ecKey.ID + `"}`) }), cause: jwt.ErrTokenSignatureInvalid},
		{name: "unknown kid", token: sign(t, ed, stranger.Private, header(set("kid", stranger.ID)), claims(nil)), cause: errUnknownKID},
		{name: "unknown key under a known kid", token: sign(t, ed, stranger.Private, header(nil), claims(nil)), cause: jwt.ErrTokenSignatureInvalid},
		{name: "missing kid", token: sign(t, ed, edPriv, header(del("kid")), claims(nil)), cause: errMissingKID},
		{name: "kid not a string", token: sign(t, ed, edPriv, header(set("kid", 7)), claims(nil)), cause: errMissingKID},
		{name: "missing typ", token: sign(t, ed, edPriv, header(del("typ")), claims(nil)), cause: errBadTyp},
		{name: "typ JWT (not an access token)", token: sign(t, ed, edPriv, header(set("typ", "JWT")), claims(nil)), cause: errBadTyp},
		{name: "crit header", token: sign(t, ed, edPriv, header(set("crit", []string{"exp"})), claims(nil)), cause: errCrit},

		{name: "empty", token: "", cause: jwt.ErrTokenMalformed},
		{name: "garbage", token: "not-a-jwt", cause: jwt.ErrTokenMalformed},
		{name: "four segments", token: issued + ".x", cause: jwt.ErrTokenMalformed},
		{name: "non-canonical base64", token: nonCanonical(issued), cause: jwt.ErrTokenMalformed},
		{name: "too long", token: issued + strings.Repeat("A", maxTokenLen), cause: errTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.Verify(tt.token)
			if tt.ok {
				if err != nil || got == nil {
					t.Fatalf("Verify = %v, %v; want success", got, err)
				}
				return
			}
			if got != nil {
				t.Errorf("Verify returned claims %+v for a bad token", *got)
			}
			assertUnauthenticated(t, err)
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Errorf("cause = %v, want %v in the chain", err, tt.cause)
			}
		})
	}
}

// nonCanonical re-spells the signature with different trailing bits, which lenient base64
// decoders accept as the same bytes.
func nonCanonical(tok string) string {
	i := strings.LastIndexByte(tok, '.')
	sig := []byte(tok[i+1:])
	// An Ed25519 signature is 64 bytes = 86 base64 characters; the last one carries 4 unused bits.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, sig[len(sig)-1])
	sig[len(sig)-1] = alphabet[last|1]
	if last|1 == last {
		sig[len(sig)-1] = alphabet[last&^1]
	}
	return tok[:i+1] + string(sig)
}

func TestVerifyExpiry(t *testing.T) {
	c := newClock(testNow)
	m, err := NewManager(Options{Issuer: testIssuer, Audience: testAudience, Now: c.Now, TTL: time.Minute, Leeway: 5 * time.Second}, mustKey(t, AlgEdDSA))
	if err != nil {
		t.Fatal(err)
	}
	tok, issued, err := m.Issue(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	if !issued.ExpiresAt.Equal(testNow.Add(time.Minute)) {
		t.Errorf("ExpiresAt = %v, want TTL of 1m", issued.ExpiresAt)
	}
	c.add(time.Minute + 4*time.Second)
	if _, err := m.Verify(tok); err != nil {
		t.Errorf("within leeway: %v", err)
	}
	c.add(2 * time.Second)
	_, err = m.Verify(tok)
	assertUnauthenticated(t, err)
	if !errors.Is(err, jwt.ErrTokenExpired) {
		t.Errorf("err = %v, want expired", err)
	}
}
