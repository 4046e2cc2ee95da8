package gatehouse

import (
	"slices"
	"strings"
	"time"
)

// Role is a global role. Its string is the lower-case wire name.
type Role string

// The global roles of the standard.
const (
	RoleAdmin      Role = "admin"      // everything, including user management
	RoleMaintainer Role = "maintainer" // read and write, no user management
	RoleViewer     Role = "viewer"     // read only
)

// Roles lists every global role, most powerful first.
var Roles = []Role{RoleAdmin, RoleMaintainer, RoleViewer}

// Valid reports whether r is one of the global roles.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleMaintainer, RoleViewer:
		return true
	}
	return false
}

// User is an account. PasswordHash and SecurityStamp never leave the service layer.
type User struct {
	ID    int64
	Email string
	// Username is the account's username as shown (SECURITY_USERNAME_ENABLE); "" when it has
	// none. It is unique under internal/username.Key, and a second way to sign in.
	Username     string
	PasswordHash string
	// PasswordScheme records how PasswordHash was made (for example "bcrypt" for a plain imported
	// bcrypt hash), so that imported hashes keep verifying after the scheme changes.
	PasswordScheme string
	Active         bool
	ConfirmedAt    *time.Time
	// SecurityStamp changes whenever every session and token of the user must end (password change
	// or reset, admin reset-access); Flask-Security calls it fs_uniquifier.
	SecurityStamp      string
	MustChangePassword bool
	Roles              []Role
	// SSOOnly accounts sign in only through an identity provider (SSO): password login is
	// refused with the answer a wrong password gets.
	SSOOnly bool
	// FSUniquifier is the Flask-Security fs_uniquifier of an imported account ("" otherwise),
	// kept as a reference to the source row.
	FSUniquifier string
	// WebAuthnUserHandle is the WebAuthn user handle of an account imported from
	// Flask-Security (its fs_webauthn_user_handle), which its passkeys return; "" means the
	// handle is derived from the id.
	WebAuthnUserHandle string

	// Login tracking (Flask-Security's SECURITY_TRACKABLE).
	LastLoginAt    *time.Time
	LastLoginIP    string
	CurrentLoginAt *time.Time
	CurrentLoginIP string
	LoginCount     int64

	// LockedUntil is when the account's lockout (SECURITY_LOCKOUT_AFTER failed password sign-ins)
	// ends: nil, or a time past, when it is not locked. Written with the lockout, cleared by an
	// unlock or a password reset.
	LockedUntil *time.Time

	CreatedAt time.Time
	UpdatedAt time.Time
}

// Locked reports whether the account is locked out at now.
func (u *User) Locked(now time.Time) bool { return u.LockedUntil != nil && u.LockedUntil.After(now) }

// HasRole reports whether u holds r.
func (u *User) HasRole(r Role) bool {
	for _, have := range u.Roles {
		if have == r {
			return true
		}
	}
	return false
}

// FormatRoles lists roles in their canonical order (that of Roles), comma-separated, as audit
// details show them; "(none)" for none.
func FormatRoles(roles []Role) string {
	var names []string
	for _, r := range Roles {
		if slices.Contains(roles, r) {
			names = append(names, string(r))
		}
	}
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ",")
}

// Identity links an account to a person at an identity provider (single sign-on): once
// linked, the provider's subject signs in as the account.
type Identity struct {
	ID     int64
	UserID int64
	// Provider is "oidc:<name>" or "saml".
	Provider string
	// Subject is the provider's stable id for the person (OIDC sub, SAML NameID), case-sensitive.
	Subject string
	// Email is the address the provider asserted at the last sign-in.
	Email       string
	CreatedAt   time.Time
	LastLoginAt *time.Time
}
