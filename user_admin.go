package gatehouse

import (
	"slices"
	"strings"
	"time"
)

// The domain of user administration: the queries of the user list and the admin views, an
// administrator's change to a user, and a new account with what is written with it. Services
// (internal/users) and the store speak these; no transport or storage type appears in them.

// NormalizeEmail is the form in which emails are compared: trimmed and lower-cased.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// UserSort is the order of the user list: a column, descending when prefixed with "-". Ties are
// broken by id in the same direction, so that the order is total and a cursor is stable.
type UserSort string

// The orders of the user list.
const (
	SortIDAsc       UserSort = "id"
	SortIDDesc      UserSort = "-id"
	SortEmailAsc    UserSort = "email"
	SortEmailDesc   UserSort = "-email"
	SortCreatedAsc  UserSort = "created_at"
	SortCreatedDesc UserSort = "-created_at"
	DefaultUserSort          = SortIDAsc
)

// UserSorts lists every order of the user list, for messages and documentation.
var UserSorts = []UserSort{SortIDAsc, SortIDDesc, SortEmailAsc, SortEmailDesc, SortCreatedAsc, SortCreatedDesc}

// Valid reports whether o is one of UserSorts.
func (o UserSort) Valid() bool { return slices.Contains(UserSorts, o) }

// Desc reports whether o is a descending order.
func (o UserSort) Desc() bool { return strings.HasPrefix(string(o), "-") }

// Column is the sort key of o without its direction: id, email or created_at.
func (o UserSort) Column() string { return strings.TrimPrefix(string(o), "-") }

// PositionOf is the position just after u in o's order: where the next page starts when u is
// the last user of a page.
func (o UserSort) PositionOf(u *User) UserPosition {
	p := UserPosition{ID: u.ID}
	switch o.Column() {
	case "email":
		p.Email = NormalizeEmail(u.Email)
	case "created_at":
		p.CreatedAt = u.CreatedAt
	}
	return p
}

// UserPosition is where a page of the user list starts: after the user with this id and sort key
// (Email for the email orders, CreatedAt for the created_at orders; the other is ignored).
type UserPosition struct {
	ID        int64
	Email     string // the normalised (lower-case) email, as NormalizeEmail returns it
	CreatedAt time.Time
}

// UserQuery selects, orders and pages the user list.
type UserQuery struct {
	// EmailContains keeps users whose email contains it, compared case-insensitively. It is
	// matched literally: % and _ are not wildcards.
	EmailContains string
	// UsernameContains keeps users whose username contains it, compared as usernames are
	// (case and width do not matter), literally. Users without a username never match.
	UsernameContains string
	// Role keeps users who hold this global role; "" keeps all.
	Role Role
	// Active, when set, keeps only active (true) or only inactive (false) users.
	Active *bool
	// TwoFactor, when set, keeps only users with (true) or without (false) a second factor: an
	// authenticator app, codes by email, or a security key or passkey.
	TwoFactor *bool
	// SSOOnly, when set, keeps only users who sign in only through SSO (true), or the others.
	SSOOnly *bool
	// Confirmed, when set, keeps only users whose address is confirmed (true), or the others.
	Confirmed *bool
	// Locked, when set, keeps only users locked out now (SECURITY_LOCKOUT_AFTER failed password
	// sign-ins: User.LockedUntil is in the future), or the others.
	Locked *bool
	// Sort is the order; "" means DefaultUserSort.
	Sort UserSort
	// After, when set, starts the page after this position in Sort's order.
	After *UserPosition
	// Limit is the page size, 1 to 1000.
	Limit int
}

// UserChange is an administrator's change to a user; nil fields stay as they are.
type UserChange struct {
	Email *string
	// Username sets the username (checked by the service against the policy); "" removes it.
	Username *string
	// Roles replaces the user's global roles (an empty slice removes them all).
	Roles *[]Role
	// Active false deactivates the user and ends every session; true reactivates.
	Active *bool
	// Confirmed true marks the email confirmed now (unless it is already); false unconfirms it.
	Confirmed          *bool
	MustChangePassword *bool
}

// Precondition inspects a user as it is inside the transaction that is about to change it, and
// returns an error to refuse the change (If-Match: the ETag of this state). It may run more than
// once when the transaction is retried, so it must not have side effects.
type Precondition func(current *User) error

// MailQuery selects a page of the mail outbox, newest first.
type MailQuery struct {
	Status   MailStatus // "" for every status
	BeforeID int64      // > 0: only messages with a smaller id (the next page)
	Limit    int        // 1 to 1000
}

// AuditQuery selects a page of the audit trail, newest first.
type AuditQuery struct {
	SubjectID int64  // > 0: only events about this user
	ActorID   int64  // > 0: only events this user caused
	Event     string // "": every kind
	// Since and Until, when set, keep events at or after Since and before Until.
	Since, Until time.Time
	BeforeID     int64 // > 0: only events with a smaller id (the next page)
	Limit        int   // 1 to 1000
}

// OneTimeToken is the stored form of a link token and its short code (both hashed), for one
// purpose (confirm, reset, …) until ExpiresAt.
type OneTimeToken struct {
	TokenHash string
	CodeHash  string
	ExpiresAt time.Time
}

// NewAccount is an account an administrator creates, with everything written with it in one
// transaction: the account and its roles, the confirmation token of its address (nil: none),
// the audit event (its subject is filled in with the new id) and the mail (nil: none; its To is
// the account's email). PasswordSetup is the password-reset token of an account created by
// invitation, with which its owner chooses the password (nil: none).
type NewAccount struct {
	User          *User
	Confirmation  *OneTimeToken
	PasswordSetup *OneTimeToken
	Audit         AuditEvent
	Mail          *OutboxMail
}
