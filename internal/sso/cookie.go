package sso

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// A sign-in keeps its secrets (OIDC state, nonce and PKCE verifier; the SAML request id) in a
// short-lived cookie sealed with AES-256-GCM: the browser cannot read or change it, any instance
// can open it, and nothing is stored server-side for sign-ins that are never finished. The
// cookie's name is authenticated too, so a cookie of one flow cannot be replayed as another.

// flowTTL bounds how long a started sign-in may take at the identity provider.
const flowTTL = 10 * time.Minute

// sealer seals and opens cookie values.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

var errBadCookie = errors.New("sign-in cookie missing, expired or not ours")

// sealed is the envelope of every cookie value: the payload and its expiry.
type sealed struct {
	Exp int64           `json:"exp"`
	V   json.RawMessage `json:"v"`
}

func (s *sealer) seal(name string, v any, exp time.Time) (string, error) {
	payload, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	plain, err := json.Marshal(sealed{Exp: exp.Unix(), V: payload})
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := s.aead.Seal(nonce, nonce, plain, []byte(name))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

func (s *sealer) open(name, value string, now time.Time, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return errBadCookie
	}
	plain, err := s.aead.Open(nil, raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():], []byte(name))
	if err != nil {
		return errBadCookie
	}
	var env sealed
	if err := json.Unmarshal(plain, &env); err != nil || !now.Before(time.Unix(env.Exp, 0)) {
		return errBadCookie
	}
	if err := json.Unmarshal(env.V, v); err != nil {
		return errBadCookie
	}
	return nil
}

// setFlowCookie stores v in the named cookie for flowTTL. SameSite=Lax: the OIDC callback is a
// top-level GET and carries it; the SAML ACS is a cross-site POST that does not, which acs
// handles by posting the response once more from this site (see bounce).
func (s *Service) setFlowCookie(w http.ResponseWriter, name string, v any) error {
	exp := s.now().Add(flowTTL)
	val, err := s.cookies.seal(name, v, exp)
	if err != nil {
		return err
	}
	// #nosec G124 -- Secure follows PUBLIC_URL's scheme (https in production); HttpOnly and Lax are set.
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: val, Path: "/sso/", MaxAge: int(flowTTL / time.Second),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// takeFlowCookie opens the named cookie into v and deletes it: every sign-in secret is single
// use.
func (s *Service) takeFlowCookie(w http.ResponseWriter, r *http.Request, name string, v any) error {
	c, err := r.Cookie(name)
	if err != nil {
		return errBadCookie
	}
	// #nosec G124 -- as in setFlowCookie
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/sso/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	return s.cookies.open(name, c.Value, s.now(), v)
}

// randomString returns n random bytes, base64url.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
