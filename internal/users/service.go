// Package users is the user administration: the list, creation, reading, changes and deletion
// of accounts, the resets of their access and second factors, the unlock, and the admin views
// of the mail outbox, the audit trail and the license.
//
// Each operation asks rbac for the decision exactly once, before it looks at its input or the
// database, so that a caller who may not act learns nothing (not even whether a user id exists
// or whether the body would have been valid), and writes the row, its audit event and its mail
// in one store transaction. The account rules (password policy, confirmation, lockout) are
// auth's and reached through Accounts.
package users

import (
	"context"
	"log/slog"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/license"
)

// Store is what the administration needs of the data layer. Every method is one transaction;
// *store.Store implements it.
type Store interface {
	// ListUsersPage returns one page of users in q's order (at most q.Limit) and whether more
	// follow.
	ListUsersPage(ctx context.Context, q gatehouse.UserQuery) ([]*gatehouse.User, bool, error)
	// UserByID returns the user or ENotFound.
	UserByID(ctx context.Context, id int64) (*gatehouse.User, error)
	// UserByEmail returns the user with the address (any case) or ENotFound.
	UserByEmail(ctx context.Context, email string) (*gatehouse.User, error)
	// CreateAccount creates the account with its confirmation token, event and mail.
	CreateAccount(ctx context.Context, a gatehouse.NewAccount) error
	// AdminUpdateUser applies ch to user id (check may refuse it after seeing the user) and
	// records audit's events about the change; it refuses to leave no active admin.
	AdminUpdateUser(ctx context.Context, id int64, ch gatehouse.UserChange, check gatehouse.Precondition,
		audit func(before, after *gatehouse.User) []gatehouse.AuditEvent) (before, after *gatehouse.User, err error)
	// AdminDeleteUser deletes user id (check may refuse it) and records audit's event; it
	// refuses to delete the last active admin or a team's only owner.
	AdminDeleteUser(ctx context.Context, id int64, check gatehouse.Precondition,
		audit func(deleted *gatehouse.User) gatehouse.AuditEvent) (*gatehouse.User, error)
	// ResetAccessAudited gives the user a new security stamp, ends every session and records ev.
	ResetAccessAudited(ctx context.Context, userID int64, newStamp, reason string, ev gatehouse.AuditEvent) error
	// ClearThrottleAudited lifts the lockout and backoff of keys and records ev.
	ClearThrottleAudited(ctx context.Context, keys []string, ev gatehouse.AuditEvent) error
	// ResetTwoFactorAudited removes every second factor of the user, ends its sessions but
	// keepSession, and records audit's event and notice's mail.
	ResetTwoFactorAudited(ctx context.Context, userID int64, keepSession string,
		audit func(u *gatehouse.User, securityKeys int64) gatehouse.AuditEvent,
		notice func(u *gatehouse.User) (*gatehouse.OutboxMail, error)) error
	// ListMailPage and ListAuditPage return one page of the outbox or the audit trail, newest
	// first, and whether more follow.
	ListMailPage(ctx context.Context, q gatehouse.MailQuery) ([]gatehouse.OutboxMail, bool, error)
	// RetryMailAudited queues a failed message again, with ev, in one transaction (EConflict
	// for a message that has not failed).
	RetryMailAudited(ctx context.Context, id int64, ev gatehouse.AuditEvent) (*gatehouse.OutboxMail, error)
	// A user's sessions and API keys, and ending one of them with its event.
	ActiveSessions(ctx context.Context, userID int64) ([]*gatehouse.Session, error)
	EndUserSessionAudited(ctx context.Context, userID int64, sessionID, reason string, ev gatehouse.AuditEvent) error
	UserAPIKeys(ctx context.Context, userID int64, limit int) ([]*gatehouse.APIKey, error)
	RevokeAPIKeyAudited(ctx context.Context, userID, id int64, audit func(*gatehouse.APIKey) gatehouse.AuditEvent) (*gatehouse.APIKey, error)
	ListAuditPage(ctx context.Context, q gatehouse.AuditQuery) ([]gatehouse.AuditEvent, bool, error)
}

// Accounts are the account rules the administration applies; *auth.Service implements it.
type Accounts interface {
	// HashNewPassword checks a password against the policy and hashes it.
	HashNewPassword(ctx context.Context, field, password, email string) (hash, scheme string, err error)
	// PasswordlessSignIn reports whether accounts may sign in without a password (by email
	// code), so that an administrator may create one without.
	PasswordlessSignIn() bool
	// NewAccountConfirmation is the confirmation token and mail of a new address (nil, nil:
	// confirmation is off).
	NewAccountConfirmation(email string) (*gatehouse.OneTimeToken, *gatehouse.OutboxMail, error)
	// NewAccountInvite is the password-setup token and mail of an account created by
	// invitation (feature_disabled without password recovery by email).
	NewAccountInvite(email string) (*gatehouse.OneTimeToken, *gatehouse.OutboxMail, error)
	// CheckNewUsername checks a username for a new account or a change (field names it in the
	// error) and returns its display form; "" is no username (refused when one is required).
	CheckNewUsername(field, name string) (string, error)
	// LockoutKeys are the throttle keys that lock the account of email.
	LockoutKeys(email string) []string
	// TwoFactorResetNotice is the mail about an administrator's reset (nil: none).
	TwoFactorResetNotice(u *gatehouse.User) (*gatehouse.OutboxMail, error)
	// MailQueued wakes the mail dispatcher after a transaction queued mail.
	MailQueued()
}

// License reports the license state (*license.Client).
type License interface{ Status() license.Status }

// Client describes where a request came from, for the audit trail.
type Client = auth.Client

// Options are the collaborators of the service.
type Options struct {
	Store    Store    // required
	Accounts Accounts // required
	// License reports the license state; nil: the license view is not available.
	License License
	// NewStamp returns a fresh security stamp (store.NewSecurityStamp). Required.
	NewStamp func() string
	// Logger receives what is worth a log line. Nil discards.
	Logger *slog.Logger
	// Now is the clock (confirmation times). Nil means time.Now.
	Now func() time.Time
}

// Service is the user administration. It is safe for concurrent use.
type Service struct {
	store    Store
	accounts Accounts
	license  License
	newStamp func() string
	log      *slog.Logger
	now      func() time.Time
}

// New returns the user administration.
func New(o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{store: o.Store, accounts: o.Accounts, license: o.License, newStamp: o.NewStamp, log: o.Logger, now: o.Now}
}

// errUserNotFound answers an id that names no user (a malformed one included).
var errUserNotFound = gatehouse.Errorf(gatehouse.ENotFound, "user not found")

// audit fills in the actor and the client of an event.
func audit(p *gatehouse.Principal, c Client, ev gatehouse.AuditEvent) gatehouse.AuditEvent {
	ev.ActorID = idPtr(p.User.ID)
	ev.IP, ev.UserAgent = c.IP, c.UserAgent
	return ev
}

func idPtr(id int64) *int64 { return &id }
