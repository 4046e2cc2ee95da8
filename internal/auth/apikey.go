package auth

import (
	"context"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
)

// APIKeyPrefix starts every API key secret. It is fixed and distinctive so that secret scanners
// (and people) recognise a leaked key, and so that Authenticate tells keys from JWTs.
const APIKeyPrefix = "ghk_"

const (
	apiKeyRandomBytes = 32                                 // 256 bits of entropy
	apiKeyBodyLen     = 52                                 // base32 of 32 bytes, unpadded
	apiKeyCheckLen    = 7                                  // base32 of the CRC-32, unpadded
	apiKeyLen         = 4 + apiKeyBodyLen + apiKeyCheckLen // "ghk_" + body + check: 63 characters
	apiKeyHintLen     = 12                                 // "ghk_" and 8 characters: the listed prefix

	// APIKeyNameMax is the longest key name, in characters.
	APIKeyNameMax = 100
	// APIKeyMaxLifetime is the furthest ahead an expiry may be set. A key may also never expire.
	APIKeyMaxLifetime = 366 * 24 * time.Hour
	// apiKeyTouchEvery bounds how often a key's last_used_at is written: once a minute at most,
	// not on every request.
	apiKeyTouchEvery = time.Minute
)

var (
	b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

	errBadAPIKey = gatehouse.Errorf(gatehouse.EUnauthenticated, "invalid, expired or revoked API key")
)

// IsAPIKey reports whether a bearer credential is meant as an API key (it has the key prefix),
// as opposed to a JWT access token.
func IsAPIKey(bearer string) bool { return strings.HasPrefix(bearer, APIKeyPrefix) }

// newAPIKeySecret returns a fresh secret: the prefix, 52 random base32 characters, and a CRC-32
// of both (7 characters). The checksum lets a scanner tell a real key from a look-alike without
// asking the server, and lets Authenticate refuse garbage without a database query; it adds no
// security.
func newAPIKeySecret() string {
	body := APIKeyPrefix + randomToken(apiKeyRandomBytes)
	return body + apiKeyCheck(body)
}

func apiKeyCheck(body string) string {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE([]byte(body)))
	return b32.EncodeToString(sum[:])
}

// wellFormedAPIKey checks a key's shape and checksum.
func wellFormedAPIKey(k string) bool {
	if len(k) != apiKeyLen || !IsAPIKey(k) {
		return false
	}
	for _, c := range k[len(APIKeyPrefix):] {
		if (c < 'A' || c > 'Z') && (c < '2' || c > '7') {
			return false
		}
	}
	body := k[:len(k)-apiKeyCheckLen]
	return subtle.ConstantTimeCompare([]byte(apiKeyCheck(body)), []byte(k[len(body):])) == 1
}

// APIKeyInput is a new API key as its owner asks for it.
type APIKeyInput struct {
	Name string
	// Scopes are the scope names the key carries (read, write, admin); at least one.
	Scopes []string
	// ExpiresAt is when the key stops working; nil for never.
	ExpiresAt *time.Time
	// CurrentPassword, when set, re-authenticates a session that is not fresh (see fresh.go).
	CurrentPassword string
}

// CreateAPIKey makes an API key for the caller and returns it with its secret, which is shown
// this once and stored only as a hash. The key's scopes must be ones the caller's roles allow
// and that the credential making the request carries, so that no key is ever wider than its
// owner, nor than the token that made it. Accounts that must change their password cannot make
// keys. An API key cannot make keys at all (a key could otherwise mint a longer-lived or
// never-expiring copy of itself), and the session must be fresh (see fresh.go).
func (s *Service) CreateAPIKey(ctx context.Context, p *gatehouse.Principal, in APIKeyInput, c Client) (*gatehouse.APIKey, string, error) {
	if err := rbac.Decide(p, rbac.ActAPIKeyCreate, ""); err != nil {
		return nil, "", err
	}
	u := p.User
	if u.MustChangePassword {
		return nil, "", ErrPasswordChangeRequired
	}
	if err := s.requireCredentialChange(ctx, p, "API keys", in.CurrentPassword, c); err != nil {
		return nil, "", err
	}
	allowed, err := s.allowedScopes(ctx, u)
	if err != nil {
		return nil, "", err
	}
	problems := map[string]string{}
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "":
		problems["name"] = "is required"
	case utf8.RuneCountInString(name) > APIKeyNameMax:
		problems["name"] = fmt.Sprintf("must be at most %d characters", APIKeyNameMax)
	case gatehouse.DisplayTextProblem(name, false) != "":
		problems["name"] = gatehouse.DisplayTextProblem(name, false)
	}
	scopes, problem := keyScopes(in.Scopes, allowed, p.Scopes)
	if problem != "" {
		problems["scopes"] = problem
	}
	now := s.now()
	if in.ExpiresAt != nil {
		switch {
		case !in.ExpiresAt.After(now):
			problems["expires_at"] = "must be in the future"
		case in.ExpiresAt.Sub(now) > APIKeyMaxLifetime:
			problems["expires_at"] = "must be at most 366 days ahead; leave it out (or null) for a key that never expires"
		}
	}
	if len(problems) > 0 {
		return nil, "", &gatehouse.Error{Code: gatehouse.EInvalid, Message: "the API key is not valid", Fields: problems}
	}
	secret := newAPIKeySecret()
	k := &gatehouse.APIKey{
		UserID: u.ID, Name: name, Prefix: secret[:apiKeyHintLen], Scopes: scopes, Stamp: u.SecurityStamp,
		ExpiresAt: in.ExpiresAt,
	}
	if err := s.store.CreateAPIKey(ctx, k, hashToken(secret)); err != nil {
		return nil, "", err
	}
	expires := "never expires"
	if k.ExpiresAt != nil {
		expires = "expires " + k.ExpiresAt.Format(time.RFC3339)
	}
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditAPIKeyCreated, SubjectID: idPtr(u.ID), ActorID: idPtr(u.ID), Email: u.Email,
		Detail: fmt.Sprintf("key %d %s %q, scopes %q, %s%s", k.ID, k.Prefix, k.Name, gatehouse.FormatScopes(k.Scopes), expires, via(p))}, c)
	return k, secret, nil
}

// keyScopes validates the requested scope names against what the account's roles allow and what
// the presenting credential carries, and returns them deduplicated in canonical order. A
// non-empty problem describes what is wrong.
func keyScopes(names []string, allowed, carried []gatehouse.Scope) ([]gatehouse.Scope, string) {
	if len(names) == 0 {
		return nil, "choose at least one of read, write, admin"
	}
	var want []gatehouse.Scope
	for _, n := range names {
		sc, bad := gatehouse.ParseScopes(n)
		if len(bad) > 0 || len(sc) != 1 {
			return nil, fmt.Sprintf("unknown scope %q (use read, write, admin)", n)
		}
		want = append(want, sc[0])
	}
	var out []gatehouse.Scope
	for _, sc := range gatehouse.AllScopes {
		if !slices.Contains(want, sc) {
			continue
		}
		if !slices.Contains(allowed, sc) {
			return nil, fmt.Sprintf("your account may not have the %q scope (it may have: %s)", sc, gatehouse.FormatScopes(allowed))
		}
		if !slices.Contains(carried, sc) {
			return nil, fmt.Sprintf("the credential of this request does not carry the %q scope; sign in with it to give a key that scope", sc)
		}
		out = append(out, sc)
	}
	return out, ""
}

// via notes in an audit detail that the caller acted with an API key.
func via(p *gatehouse.Principal) string {
	if p.APIKeyID != 0 {
		return fmt.Sprintf(" (with API key %d)", p.APIKeyID)
	}
	return ""
}

// API key states, as APIKeyStatus reports them.
const (
	APIKeyActive      = "active"
	APIKeyExpired     = "expired"
	APIKeyInvalidated = "invalidated" // the owner's security stamp changed since the key was made
	APIKeyRevoked     = "revoked"
)

// APIKeyStatus says whether k, a key of owner, works now, and if not, why.
func (s *Service) APIKeyStatus(owner *gatehouse.User, k *gatehouse.APIKey) string {
	switch {
	case k.RevokedAt != nil:
		return APIKeyRevoked
	case subtle.ConstantTimeCompare([]byte(k.Stamp), []byte(owner.SecurityStamp)) != 1:
		return APIKeyInvalidated
	case k.ExpiresAt != nil && !s.now().Before(*k.ExpiresAt):
		return APIKeyExpired
	}
	return APIKeyActive
}

// APIKeys lists the caller's keys that have not been revoked, newest first, after the position
// after (nil for the first page): up to limit+1 of them, the one past the page telling the
// transport that another page follows.
func (s *Service) APIKeys(ctx context.Context, p *gatehouse.Principal, after *gatehouse.APIKeyPosition, limit int) ([]*gatehouse.APIKey, error) {
	if err := rbac.Decide(p, rbac.ActAPIKeysList, ""); err != nil {
		return nil, err
	}
	return s.store.APIKeys(ctx, p.User.ID, after, limit+1)
}

// RevokeAPIKey revokes one of the caller's keys at once. Another user's key, or one revoked
// already, is ENotFound.
func (s *Service) RevokeAPIKey(ctx context.Context, p *gatehouse.Principal, id int64, c Client) error {
	if err := rbac.Decide(p, rbac.ActAPIKeyRevoke, ""); err != nil {
		return err
	}
	k, err := s.store.RevokeAPIKey(ctx, p.User.ID, id)
	if err != nil {
		return err
	}
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditAPIKeyRevoked, SubjectID: idPtr(p.User.ID), ActorID: idPtr(p.User.ID), Email: p.User.Email,
		Detail: fmt.Sprintf("key %d %s %q%s", k.ID, k.Prefix, k.Name, via(p))}, c)
	return nil
}

// authenticateAPIKey turns an API key into the request's principal. The key must be known, not
// revoked, not expired, and made under the owner's current security stamp, and the owner must be
// active. Its scopes are the key's, capped by what the owner's roles allow now, so a demoted
// owner's keys lose the scopes the owner lost. Every failure is the same errBadAPIKey.
func (s *Service) authenticateAPIKey(ctx context.Context, secret string) (*gatehouse.Principal, error) {
	if !wellFormedAPIKey(secret) {
		return nil, errBadAPIKey
	}
	k, u, err := s.store.APIKeyBySecret(ctx, hashToken(secret))
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
			return nil, errBadAPIKey
		}
		return nil, err
	}
	if !u.Active || s.APIKeyStatus(u, k) != APIKeyActive {
		return nil, errBadAPIKey
	}
	allowed, err := s.allowedScopes(ctx, u)
	if err != nil {
		return nil, err
	}
	var scopes []gatehouse.Scope
	for _, sc := range k.Scopes {
		if slices.Contains(allowed, sc) {
			scopes = append(scopes, sc)
		}
	}
	if k.LastUsedAt == nil || s.now().Sub(*k.LastUsedAt) >= apiKeyTouchEvery {
		if _, err := s.store.TouchAPIKey(ctx, k.ID, apiKeyTouchEvery); err != nil {
			// Bookkeeping only: the key is good, so the request goes on.
			s.log.Warn("API key last use not recorded", "key_id", k.ID, "error", err)
		}
	}
	return &gatehouse.Principal{User: u, Scopes: scopes, APIKeyID: k.ID}, nil
}
