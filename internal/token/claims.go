package token

import (
	"encoding/json"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are what an access token says about its bearer.
type Claims struct {
	// Subject ("sub") is the account's ID.
	Subject string
	// Scope ("scope", space-separated on the wire) limits what the token may do whatever the
	// account's roles allow.
	Scope []string
	// Stamp ("stamp") is the account's security stamp when the token was issued; a verifier
	// compares it with the current one, so changing it ends every outstanding token.
	Stamp string
	// SessionID ("sid") is the refresh-token family the token was issued with; a verifier checks
	// it is still live, so logging out ends the family's access tokens too.
	SessionID string
	// ID ("jti") is random and unique per token.
	ID string
	// MustChangePassword ("must_change_password", written only when true) tells services that
	// check tokens against the JWKS alone that the account may do nothing but change its password
	// (the default admin's first login); Gatehouse itself reads the flag from the database.
	MustChangePassword bool
	// AuthTime ("auth_time", as in OpenID Connect Core §2) is when the account last proved its
	// password (or a factor) in the session: the sign-in that started it, or a later
	// re-authentication. Refreshed tokens keep it. Zero is not written (and a token without the
	// claim decodes to zero). Whole seconds.
	AuthTime time.Time
	// IssuedAt ("iat", also written as "nbf") and ExpiresAt ("exp") have whole-second precision.
	IssuedAt, ExpiresAt time.Time
}

// typAccessToken is the "typ" header of an access token (RFC 9068 §2.1). Explicit typing
// (RFC 8725 §3.11) stops any other JWT signed with the same keys from passing as an access token.
const typAccessToken = "at+jwt"

// wireClaims is the JSON payload. It implements jwt.Claims itself, rather than embedding
// jwt.RegisteredClaims, to control the encoding of "aud" and to add the checks in Validate.
type wireClaims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  audience         `json:"aud"`
	IssuedAt  *jwt.NumericDate `json:"iat,omitempty"`
	NotBefore *jwt.NumericDate `json:"nbf,omitempty"`
	ExpiresAt *jwt.NumericDate `json:"exp,omitempty"`
	ID        string           `json:"jti"`
	Scope     string           `json:"scope,omitempty"`
	Stamp     string           `json:"stamp"`
	SessionID string           `json:"sid"`
	// MustChange is "must_change_password" (see Claims).
	MustChange bool `json:"must_change_password,omitempty"`
	// AuthTime is "auth_time" (see Claims).
	AuthTime *jwt.NumericDate `json:"auth_time,omitempty"`
}

func (w *wireClaims) GetExpirationTime() (*jwt.NumericDate, error) { return w.ExpiresAt, nil }
func (w *wireClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return w.IssuedAt, nil }
func (w *wireClaims) GetNotBefore() (*jwt.NumericDate, error)      { return w.NotBefore, nil }
func (w *wireClaims) GetIssuer() (string, error)                   { return w.Issuer, nil }
func (w *wireClaims) GetSubject() (string, error)                  { return w.Subject, nil }
func (w *wireClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings(w.Audience), nil
}

// Validate is called by the jwt validator after the registered claims pass. The claims the rest of
// Gatehouse relies on must be present: an empty sid or stamp must never reach a lookup.
func (w *wireClaims) Validate() error {
	switch {
	case w.IssuedAt == nil:
		return errMissingIat
	case w.Subject == "":
		return errMissingSub
	case w.ID == "":
		return errMissingJti
	case w.Stamp == "":
		return errMissingStamp
	case w.SessionID == "":
		return errMissingSid
	}
	return nil
}

// audience is the "aud" claim. RFC 7519 allows a string or an array of strings; it is written as
// a string when there is one value, the common form.
type audience []string

// MarshalJSON writes one audience as a plain string.
func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// UnmarshalJSON accepts a string or an array of strings.
func (a *audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*a = list
	return nil
}
