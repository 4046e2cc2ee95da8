package token

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehousehq/gatehouse"
)

const (
	testIssuer   = "https://gatehouse.example"
	testAudience = "gatehouse-api"
)

// clock is a settable clock safe for concurrent use.
type clock struct{ unix atomic.Int64 }

func newClock(t time.Time) *clock    { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)     { c.unix.Store(t.UnixNano()) }
func (c *clock) add(d time.Duration) { c.unix.Add(int64(d)) }
func (c *clock) Now() time.Time      { return time.Unix(0, c.unix.Load()) }

func (c *clock) opts() Options {
	return Options{Issuer: testIssuer, Audience: testAudience, Now: c.Now}
}

func testClaims() Claims {
	return Claims{Subject: "user-42", Scope: []string{"read", "write", "admin"}, Stamp: "stamp-1", SessionID: "fam-7"}
}

func newTestManager(t testing.TB, c *clock, signing Key, verifyOnly ...Key) *Manager {
	t.Helper()
	m, err := NewManager(c.opts(), signing, verifyOnly...)
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	return m
}

// sign builds a token from an arbitrary header and claims, so that tests can produce every kind
// of bad token an attacker might.
func sign(t *testing.T, method jwt.SigningMethod, key any, header, claims map[string]any) string {
	t.Helper()
	tok := &jwt.Token{Header: header, Claims: jwt.MapClaims(claims), Method: method}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

// segment replaces segment i (0 header, 1 payload, 2 signature) of a compact token.
func segment(tok string, i int, f func([]byte) []byte) string {
	parts := strings.Split(tok, ".")
	b, _ := base64.RawURLEncoding.DecodeString(parts[i])
	parts[i] = base64.RawURLEncoding.EncodeToString(f(b))
	return strings.Join(parts, ".")
}

func assertUnauthenticated(t *testing.T, err error) {
	t.Helper()
	var ge *gatehouse.Error
	if !errors.As(err, &ge) {
		t.Fatalf("error = %v (%T), want *gatehouse.Error", err, err)
	}
	if ge.Code != gatehouse.EUnauthenticated || ge.Message != "invalid or expired access token" || ge.Err == nil {
		t.Errorf("error = {Code:%s Message:%q Err:%v}, want unauthenticated, the generic message and a cause", ge.Code, ge.Message, ge.Err)
	}
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	for _, alg := range []string{AlgEdDSA, AlgES256} {
		t.Run(alg, func(t *testing.T) {
			c := newClock(testNow.Add(123 * time.Millisecond))
			key := mustKey(t, alg)
			m := newTestManager(t, c, key)

			in := testClaims()
			in.ID, in.IssuedAt = "ignored", time.Unix(1, 0)
			tok, issued, err := m.Issue(in)
			if err != nil {
				t.Fatal(err)
			}
			if issued.ID == "ignored" || len(issued.ID) != 26 {
				t.Errorf("jti = %q, want a fresh 128-bit random ID", issued.ID)
			}
			if !issued.IssuedAt.Equal(testNow) || !issued.ExpiresAt.Equal(testNow.Add(DefaultTTL)) {
				t.Errorf("iat, exp = %v, %v; want %v, %v", issued.IssuedAt, issued.ExpiresAt, testNow, testNow.Add(DefaultTTL))
			}

			// The wire form is what the spec promises.
			parts := strings.Split(tok, ".")
			var header, payload map[string]any
			hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
			pb, _ := base64.RawURLEncoding.DecodeString(parts[1])
			if err := json.Unmarshal(hb, &header); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(pb, &payload); err != nil {
				t.Fatal(err)
			}
			wantHeader := map[string]any{"alg": alg, "kid": key.ID, "typ": "at+jwt"}
			if !maps.Equal(header, wantHeader) {
				t.Errorf("header = %v, want %v", header, wantHeader)
			}
			wantPayload := map[string]any{
				"iss": testIssuer, "aud": testAudience, "sub": "user-42",
				"iat": float64(testNow.Unix()), "nbf": float64(testNow.Unix()), "exp": float64(testNow.Add(DefaultTTL).Unix()),
				"jti": issued.ID, "scope": "read write admin", "stamp": "stamp-1", "sid": "fam-7",
			}
			if !maps.Equal(payload, wantPayload) {
				t.Errorf("payload = %v, want %v", payload, wantPayload)
			}

			c.add(DefaultTTL - time.Second)
			got, err := m.Verify(tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.Subject != issued.Subject || got.Stamp != issued.Stamp || got.SessionID != issued.SessionID ||
				got.ID != issued.ID || !slices.Equal(got.Scope, issued.Scope) ||
				!got.IssuedAt.Equal(issued.IssuedAt) || !got.ExpiresAt.Equal(issued.ExpiresAt) {
				t.Errorf("Verify = %+v, want %+v", *got, issued)
			}
		})
	}
}

func TestIssue(t *testing.T) {
	c := newClock(testNow)
	m := newTestManager(t, c, mustKey(t, AlgEdDSA))

	// No scope at all is allowed and comes back as nil.
	cl := testClaims()
	cl.Scope = nil
	tok, _, err := m.Issue(cl)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := m.Verify(tok); err != nil || got.Scope != nil {
		t.Errorf("Verify = %+v, %v; want no scope", got, err)
	}

	// The returned claims do not alias the caller's scope slice.
	cl = testClaims()
	_, issued, _ := m.Issue(cl)
	cl.Scope[0] = "changed"
	if issued.Scope[0] != "read" {
		t.Error("Issue's claims alias the caller's Scope")
	}

	// Two tokens never share a jti.
	_, a, _ := m.Issue(testClaims())
	_, b, _ := m.Issue(testClaims())
	if a.ID == b.ID {
		t.Error("two tokens share a jti")
	}

	bad := []struct {
		name   string
		modify func(*Claims)
	}{
		{"no subject", func(c *Claims) { c.Subject = "" }},
		{"no stamp", func(c *Claims) { c.Stamp = "" }},
		{"no session", func(c *Claims) { c.SessionID = "" }},
		{"empty scope", func(c *Claims) { c.Scope = []string{"read", ""} }},
		{"scope with space", func(c *Claims) { c.Scope = []string{"read write"} }},
		{"scope with quote", func(c *Claims) { c.Scope = []string{`a"b`} }},
		{"scope non-ASCII", func(c *Claims) { c.Scope = []string{"lesen\u00e4"} }},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			cl := testClaims()
			tt.modify(&cl)
			if tok, _, err := m.Issue(cl); err == nil {
				t.Errorf("Issue = %q, want an error", tok)
			}
		})
	}
}

// otherSigner is a crypto.Signer that is not an *ecdsa.PrivateKey (like a KMS or HSM handle).
type otherSigner struct{ crypto.Signer }

func TestNewManagerErrors(t *testing.T) {
	ed, ec := mustKey(t, AlgEdDSA), mustKey(t, AlgES256)
	good := Options{Issuer: "i", Audience: "a"}
	tests := []struct {
		name       string
		opts       Options
		signing    Key
		verifyOnly []Key
		want       string
	}{
		{"no issuer", Options{Audience: "a"}, ed, nil, "Issuer is required"},
		{"no audience", Options{Issuer: "i"}, ed, nil, "Audience is required"},
		{"negative TTL", Options{Issuer: "i", Audience: "a", TTL: -time.Minute}, ed, nil, "TTL"},
		{"negative leeway", Options{Issuer: "i", Audience: "a", Leeway: -time.Second}, ed, nil, "Leeway"},
		{"huge leeway", Options{Issuer: "i", Audience: "a", Leeway: time.Hour}, ed, nil, "Leeway"},
		{"no signing key", good, Key{}, nil, "signing key: kid is empty"},
		{"no private key", good, Key{ID: "k", Alg: AlgEdDSA}, nil, "no private key"},
		{"alg mismatch", good, Key{ID: ed.ID, Alg: AlgES256, Private: ed.Private}, nil, `Alg "ES256" does not match the EdDSA key`},
		{"HS256 alg", good, Key{ID: ed.ID, Alg: "HS256", Private: ed.Private}, nil, "does not match"},
		{"ES256 through a generic signer", good, Key{ID: ec.ID, Alg: AlgES256, Private: otherSigner{ec.Private}}, nil, "needs an *ecdsa.PrivateKey"},
		{"bad verification key", good, ed, []Key{ec, {ID: "x"}}, "verification key 2"},
		{"kid collision", good, ed, []Key{{ID: ed.ID, Alg: AlgES256, Private: ec.Private}}, "two different keys share kid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewManager(tt.opts, tt.signing, tt.verifyOnly...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewManager error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	// The same key listed twice is merged, not an error.
	m, err := NewManager(good, ed, ec, ed, ec)
	if err != nil {
		t.Fatal(err)
	}
	if kids := jwksKIDs(t, m.JWKS()); !slices.Equal(kids, []string{ed.ID, ec.ID}) {
		t.Errorf("JWKS kids = %v, want each key once", kids)
	}
	// A generic crypto.Signer is fine for Ed25519.
	if _, err := NewManager(good, Key{ID: ed.ID, Alg: AlgEdDSA, Private: otherSigner{ed.Private}}); err != nil {
		t.Errorf("Ed25519 through a generic signer: %v", err)
	}
}
