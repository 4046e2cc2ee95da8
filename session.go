package gatehouse

import (
	"context"
	"strings"
	"time"
)

// Scope is an OAuth2-style permission carried by an access token.
type Scope string

// The scopes of the standard.
const (
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
	ScopeAdmin Scope = "admin"
)

// AllScopes lists every scope in canonical order.
var AllScopes = []Scope{ScopeRead, ScopeWrite, ScopeAdmin}

// FormatScopes joins scopes space-separated, as in the JWT scope claim (RFC 8693).
func FormatScopes(s []Scope) string {
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = string(x)
	}
	return strings.Join(parts, " ")
}

// ParseScopes splits a space-separated scope string. Unknown names are returned in bad.
func ParseScopes(s string) (scopes []Scope, bad []string) {
	for _, f := range strings.Fields(s) {
		switch Scope(f) {
		case ScopeRead, ScopeWrite, ScopeAdmin:
			scopes = append(scopes, Scope(f))
		default:
			bad = append(bad, f)
		}
	}
	return scopes, bad
}

// Session is one login: the family of refresh tokens rotated from it and the access tokens
// issued with them. Revoking it ends all of them.
type Session struct {
	ID        string
	UserID    int64
	Scope     string
	Remember  bool
	IP        string
	UserAgent string
	CreatedAt time.Time
	// AuthAt is when the account last proved its password (or a factor) in this session: the
	// sign-in that started it, or a later re-authentication. It is the access tokens' auth_time
	// and decides whether the session is fresh enough for credential changes.
	AuthAt       time.Time
	LastUsedAt   time.Time
	ExpiresAt    time.Time
	RevokedAt    *time.Time
	RevokeReason string
}

// APIKey is a personal API key: a long-lived bearer credential of one user, limited to the
// scopes chosen when it was made (and, on every request, to what the owner's roles allow then).
// Only a hash of its secret is stored; the secret itself is shown once, when it is created.
type APIKey struct {
	ID     int64
	UserID int64
	Name   string
	// Prefix is the start of the secret (such as "ghk_7QK2M4XA"), kept so that the owner can tell
	// keys apart and match a leaked secret to its key.
	Prefix string
	Scopes []Scope
	// Stamp is the owner's security stamp when the key was made: once the stamp changes
	// (logout-all, reset access, password change or reset) the key no longer works.
	Stamp      string
	CreatedAt  time.Time
	ExpiresAt  *time.Time // nil: never expires
	LastUsedAt *time.Time // updated at most once a minute
	RevokedAt  *time.Time
	// ParentKeyID is the key that created this one, when an API key made it (possible before
	// keys lost that right); nil when a signed-in session made it.
	ParentKeyID *int64
}

// APIKeyPosition is where a page of an owner's API keys starts: after the key with this
// creation time and id (keys are listed newest first).
type APIKeyPosition struct {
	CreatedAt time.Time
	ID        int64
}

// Principal is the authenticated caller of a request.
type Principal struct {
	User *User
	// SessionID is the session the access token was issued in; empty when the caller presented
	// an API key, which belongs to no session.
	SessionID string
	Scopes    []Scope
	// APIKeyID is the API key the caller presented; 0 for an access token.
	APIKeyID int64
	// TwoFactorSetupRequired is set when SECURITY_TWO_FACTOR_REQUIRED covers the user and they
	// have no second factor yet: until they enrol one, little else is allowed.
	TwoFactorSetupRequired bool
	// AuthTime is when the caller last proved the password (or a factor) in this session: the
	// later of the access token's auth_time claim and the session's last re-authentication (for
	// the web pages, their password prompt). Zero for API keys. Credential changes need it to be
	// within SECURITY_FRESHNESS.
	AuthTime time.Time
}

// HasScope reports whether the principal's token grants s.
func (p *Principal) HasScope(s Scope) bool {
	for _, x := range p.Scopes {
		if x == s {
			return true
		}
	}
	return false
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal of the request, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// AuditEvent is one security-relevant event.
type AuditEvent struct {
	ID        int64
	At        time.Time
	Event     string
	ActorID   *int64
	SubjectID *int64
	Email     string
	IP        string
	UserAgent string
	Detail    string
}

// Audit event names.
const (
	AuditLoginSuccess     = "login_success"
	AuditLoginFailure     = "login_failure"
	AuditLogout           = "logout"
	AuditLogoutAll        = "logout_all"
	AuditRefreshReuse     = "refresh_token_reuse"
	AuditPasswordChange   = "password_change"
	AuditPasswordReset    = "password_reset"
	AuditResetRequested   = "password_reset_requested"
	AuditConfirm          = "confirm"
	AuditRegister         = "register"
	AuditLockout          = "lockout"
	AuditUnlock           = "unlock"
	AuditResetAccess      = "reset_access"
	AuditUserCreated      = "user_created"
	AuditPasswordRehashed = "password_rehashed"
	AuditAPIKeyCreated    = "api_key_created"
	AuditAPIKeyRevoked    = "api_key_revoked"
	AuditTeamCreated      = "team_created"
	AuditTeamDeleted      = "team_deleted"
	AuditMemberChanged    = "member_changed"
	AuditMemberRemoved    = "member_removed"

	// Team invitations: the team, role and invitation id are in the event's detail, the invited
	// address in its email.
	AuditInvitationCreated  = "invitation_created"
	AuditInvitationRevoked  = "invitation_revoked"
	AuditInvitationResent   = "invitation_resent"
	AuditInvitationAccepted = "invitation_accepted"

	// User administration (the admin API): what changed is in the event's detail.
	AuditRoleChange      = "role_change"
	AuditUserUpdated     = "user_updated"
	AuditUserActivated   = "user_activated"
	AuditUserDeactivated = "user_deactivated"
	AuditUserDeleted     = "user_deleted"
	// An administrator put a failed outbox message back in the queue (its id in the detail).
	AuditMailRetried = "mail_retried"
	// An administrator added a JWT signing key from the console (its id and activation in the
	// detail).
	AuditSigningKeyAdded = "signing_key_added"

	// Two-factor authentication: the method ("totp", "email", "webauthn", "recovery_code") is
	// in the event's detail.
	AuditTwoFactorEnabled     = "two_factor_enabled"
	AuditTwoFactorDisabled    = "two_factor_disabled"
	AuditTwoFactorReset       = "two_factor_reset"
	AuditTwoFactorFailure     = "two_factor_failure"
	AuditRecoveryCodeUsed     = "recovery_code_used"
	AuditRecoveryCodesRenewed = "recovery_codes_regenerated"
	// A security key answered with a signature counter that did not go up: it may have been
	// cloned, and the sign-in was refused. The credential id and name are in the detail.
	AuditWebAuthnCounterRegression = "webauthn_counter_regression"

	// SSO: a provider's identity was linked to an account (or unlinked by an administrator);
	// the provider is in the event's detail. SSO sign-ins themselves are login_success and
	// login_failure events whose detail names the provider.
	AuditSSOLinked   = "sso_identity_linked"
	AuditSSOUnlinked = "sso_identity_unlinked"
	// AuditSSOLinkSecured: an identity was linked to an account that had never been confirmed,
	// so whatever its registrant had set was removed first (password, second factors, sessions,
	// refresh tokens, API keys, pending one-time tokens): the registrant may not own the address
	// the identity provider vouches for. The detail says what was removed.
	AuditSSOLinkSecured = "sso_link_unconfirmed_password_removed"

	// Changing one's own email address: the request (the new address in the detail) and the
	// confirmed change (the new address in the email, the old one in the detail).
	AuditEmailChangeRequested = "email_change_requested"
	AuditEmailChanged         = "email_changed"

	// Usernames (SECURITY_USERNAME_ENABLE): a username set, changed or removed by its owner
	// (the old and new names in the detail; an administrator's change is user_updated), and a
	// username-recovery request (the subject is the account with the address, if any).
	AuditUsernameChanged  = "username_changed"
	AuditUsernameRecovery = "username_recovery_requested"
)

// AuditUserImported is the audit event of an account created by gatehouse import
// flask-security; the source row's fs_uniquifier is in the detail.
const AuditUserImported = "user_imported"
