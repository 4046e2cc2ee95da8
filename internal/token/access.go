package token

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehousehq/gatehouse"
)

// maxTokenLen bounds the work an unauthenticated caller can cause: a Gatehouse token is well under
// 1 KiB, so anything longer is refused before any decoding.
const maxTokenLen = 8 << 10

// Reasons a token is refused. They are only ever logged (as the cause of the EUnauthenticated
// error); clients see one generic message.
var (
	errTooLong      = errors.New("token: longer than 8 KiB")
	errMissingKID   = errors.New(`token: no "kid" header`)
	errUnknownKID   = errors.New("token: unknown kid")
	errAlgMismatch  = errors.New(`token: "alg" does not match the key's algorithm`)
	errBadTyp       = errors.New(`token: "typ" header is not at+jwt`)
	errCrit         = errors.New(`token: "crit" header not supported`)
	errMissingIat   = errors.New(`token: missing "iat"`)
	errMissingSub   = errors.New(`token: missing "sub"`)
	errMissingJti   = errors.New(`token: missing "jti"`)
	errMissingStamp = errors.New(`token: missing "stamp"`)
	errMissingSid   = errors.New(`token: missing "sid"`)
)

// Issue signs an access token for c with the current signing key. It sets ID (a random 128-bit
// jti), IssuedAt (also the nbf) and ExpiresAt (IssuedAt + TTL), ignoring whatever c held there,
// and returns the token with the claims as issued. Subject, Stamp and SessionID are required, and
// each scope must be a non-empty RFC 6749 scope token (no spaces).
func (m *Manager) Issue(c Claims) (string, Claims, error) {
	if c.Subject == "" || c.Stamp == "" || c.SessionID == "" {
		return "", Claims{}, errors.New("token: issue: Subject, Stamp and SessionID are required")
	}
	for _, s := range c.Scope {
		if !validScopeToken(s) {
			return "", Claims{}, fmt.Errorf("token: issue for %s: invalid scope %q", c.Subject, s)
		}
	}
	// Whole seconds, so the claims returned here equal the ones Verify will decode.
	iat := time.Unix(m.now().Unix(), 0)
	c.IssuedAt = iat
	c.ExpiresAt = iat.Add(m.ttl)
	c.ID = rand.Text()
	c.Scope = append([]string(nil), c.Scope...) // the returned claims do not alias the caller's

	ks := m.keys.Load()
	s := ks.signing
	w := &wireClaims{
		Issuer:     m.issuer,
		Subject:    c.Subject,
		Audience:   audience{m.audience},
		IssuedAt:   jwt.NewNumericDate(c.IssuedAt),
		NotBefore:  jwt.NewNumericDate(c.IssuedAt),
		ExpiresAt:  jwt.NewNumericDate(c.ExpiresAt),
		ID:         c.ID,
		Scope:      strings.Join(c.Scope, " "),
		Stamp:      c.Stamp,
		SessionID:  c.SessionID,
		MustChange: c.MustChangePassword,
	}
	if !c.AuthTime.IsZero() {
		c.AuthTime = time.Unix(c.AuthTime.Unix(), 0)
		w.AuthTime = jwt.NewNumericDate(c.AuthTime)
	}
	t := &jwt.Token{
		Header: map[string]any{"alg": s.Alg, "typ": typAccessToken, "kid": s.ID},
		Claims: w,
		Method: s.method,
	}
	signed, err := t.SignedString(s.Private)
	if err != nil {
		return "", Claims{}, fmt.Errorf("token: issue for %s with kid %s: %w", c.Subject, s.ID, err)
	}
	return signed, c, nil
}

// Verify checks an access token's signature and claims and returns the claims. Any failure is an
// *gatehouse.Error with code EUnauthenticated, one generic message, and the reason in Err for the
// log. The signature must come from a key in the current set with the algorithm that key is
// registered for (never "none", never HMAC); "typ" must be at+jwt; iss and aud must match; exp,
// nbf and iat are required and checked with the configured leeway; sub, jti, stamp and sid must
// be present. Checking stamp and sid against the account is the caller's job.
//
// A token verified before with the same key set is answered from a bounded cache without
// checking its signature again (its times are checked again every time); see verifyCache.
func (m *Manager) Verify(token string) (*Claims, error) {
	if len(token) > maxTokenLen {
		m.verifyCounts.invalid.Add(1)
		return nil, unauthenticated(errTooLong)
	}
	ks := m.keys.Load()
	var key [sha256.Size]byte
	if m.cache != nil {
		key = sha256.Sum256([]byte(token))
		if c, ok := m.cache.get(&key, ks, m.now(), m.leeway); ok {
			return c, nil
		}
	}
	var w wireClaims
	if _, err := m.parser.ParseWithClaims(token, &w, ks.keyFor); err != nil {
		if !errors.Is(err, errUnknownKID) || m.reload == nil || !m.reload() {
			m.verifyCounts.countFailure(err)
			return nil, unauthenticated(err)
		}
		// Another instance may sign with a key this one learns only now.
		ks, w = m.keys.Load(), wireClaims{}
		if _, err := m.parser.ParseWithClaims(token, &w, ks.keyFor); err != nil {
			m.verifyCounts.countFailure(err)
			return nil, unauthenticated(err)
		}
	}
	m.verifyCounts.valid.Add(1)
	c := &Claims{
		Subject:            w.Subject,
		Stamp:              w.Stamp,
		SessionID:          w.SessionID,
		MustChangePassword: w.MustChange,
		ID:                 w.ID,
		IssuedAt:           w.IssuedAt.Time,
		ExpiresAt:          w.ExpiresAt.Time,
	}
	if w.AuthTime != nil {
		c.AuthTime = w.AuthTime.Time
	}
	if w.Scope != "" {
		c.Scope = strings.Fields(w.Scope)
	}
	if m.cache != nil {
		m.cache.put(&key, cacheEntry{claims: *c, keys: ks, notBefore: w.NotBefore.Time, issuedAt: w.IssuedAt.Time,
			expiresAt: w.ExpiresAt.Time}, m.now(), m.leeway)
	}
	return c, nil
}

func unauthenticated(cause error) error {
	return gatehouse.Wrap(gatehouse.EUnauthenticated, cause, "invalid or expired access token")
}

// keyFor is the jwt.Keyfunc: it picks the key by "kid" and insists that the token's "alg" is the
// one that key is registered for. It runs before the signature is checked, so it trusts nothing in
// the header beyond using it to choose among our own keys.
func (ks *keySet) keyFor(t *jwt.Token) (any, error) {
	if typ, _ := t.Header["typ"].(string); !isAccessTokenTyp(typ) {
		return nil, errBadTyp
	}
	if _, ok := t.Header["crit"]; ok {
		return nil, errCrit
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errMissingKID
	}
	e, ok := ks.byKID[kid]
	if !ok {
		return nil, errUnknownKID
	}
	if t.Method.Alg() != e.Alg {
		return nil, errAlgMismatch
	}
	return e.public, nil
}

// isAccessTokenTyp accepts "at+jwt" in any case, with or without the "application/" prefix
// (RFC 7515 §4.1.9 lets senders add it).
func isAccessTokenTyp(typ string) bool {
	if len(typ) > len("application/") && strings.EqualFold(typ[:len("application/")], "application/") {
		typ = typ[len("application/"):]
	}
	return strings.EqualFold(typ, typAccessToken)
}

// validScopeToken reports whether s is an RFC 6749 §3.3 scope-token: one or more of %x21 /
// %x23-5B / %x5D-7E (printable ASCII except space, '"' and '\').
func validScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < 0x21 || b > 0x7e || b == '"' || b == '\\' {
			return false
		}
	}
	return true
}
