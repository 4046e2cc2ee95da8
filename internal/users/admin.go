package users

import (
	"context"
	"fmt"
	"strings"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/rbac"
)

// Query is a page of the user list as the transport read it. Invalid is the transport's verdict
// on the request (a bad filter or cursor), answered only once the caller is known to be allowed.
type Query struct {
	gatehouse.UserQuery
	Invalid error
}

// List returns a page of users in q's order: up to q.Limit+1 of them, the one past the page
// telling the transport that more follow (rest.Paginate).
func (s *Service) List(ctx context.Context, p *gatehouse.Principal, q Query) ([]*gatehouse.User, error) {
	if err := rbac.Decide(p, rbac.ActUsersList, ""); err != nil {
		return nil, err
	}
	if q.Invalid != nil {
		return nil, q.Invalid
	}
	q.Limit++
	users, _, err := s.store.ListUsersPage(ctx, q.UserQuery)
	return users, err
}

// NewUser is an account an administrator creates.
type NewUser struct {
	Email string
	// Username is the account's username (SECURITY_USERNAME_ENABLE); "" for none.
	Username string
	// Password is checked against the password policy. It may be empty where accounts can
	// sign in without one (Accounts.PasswordlessSignIn): the account then has no password.
	Password string
	Roles    []gatehouse.Role
	// Confirmed marks the address confirmed. When it is not and confirmation is on (SMTP
	// configured), a confirmation email is sent as after self-registration.
	Confirmed bool
	// MustChangePassword makes the user change the password at the first login.
	MustChangePassword bool
	// Invite creates the account without a password and mails its owner a link to choose one
	// (the reset-password page; using it also confirms the address). Password must be empty.
	// It needs password recovery by email (SMTP): feature_disabled otherwise.
	Invite bool
	// Invalid is the transport's verdict on the request body (see Query).
	Invalid error
}

// Create creates an account on behalf of the admin p, with its event and (when the address is
// not marked confirmed and confirmation is on) its confirmation mail, in one transaction. A
// taken email is EConflict.
func (s *Service) Create(ctx context.Context, p *gatehouse.Principal, in NewUser, c Client) (*gatehouse.User, error) {
	if err := rbac.Decide(p, rbac.ActUsersCreate, ""); err != nil {
		return nil, err
	}
	if in.Invalid != nil {
		return nil, in.Invalid
	}
	email, err := auth.ValidateNewEmail("email", in.Email)
	if err != nil {
		return nil, err
	}
	name, err := s.accounts.CheckNewUsername("username", in.Username)
	if err != nil {
		return nil, err
	}
	var hash, scheme string
	switch {
	case in.Invite && in.Password != "":
		return nil, gatehouse.FieldError("password", "must be left out when the user is invited to choose it")
	case in.Invite && in.MustChangePassword:
		return nil, gatehouse.FieldError("must_change_password", "must be left out when the user is invited to choose the password")
	case in.Invite:
		// No password: the owner chooses it through the mailed link.
	case in.Password == "" && s.accounts.PasswordlessSignIn():
		// An account without a password: it signs in by email code (or passkey, SSO).
	case in.Password == "":
		return nil, gatehouse.FieldError("password", "is required")
	default:
		if hash, scheme, err = s.accounts.HashNewPassword(ctx, "password", in.Password, email); err != nil {
			return nil, err
		}
	}
	u := &gatehouse.User{
		Email: email, Username: name, PasswordHash: hash, PasswordScheme: scheme, Active: true,
		MustChangePassword: in.MustChangePassword, Roles: in.Roles,
	}
	a := gatehouse.NewAccount{User: u, Audit: audit(p, c, gatehouse.AuditEvent{Event: gatehouse.AuditUserCreated, Email: email,
		Detail: "by an administrator; roles: " + gatehouse.FormatRoles(in.Roles) + usernameDetail(name)})}
	switch {
	case in.Invite:
		// The invitation's link proves the address when it is used; it replaces the
		// confirmation mail.
		if in.Confirmed {
			now := s.now()
			u.ConfirmedAt = &now
		}
		if a.PasswordSetup, a.Mail, err = s.accounts.NewAccountInvite(email); err != nil {
			return nil, err
		}
		a.Audit.Detail += "; invited to choose a password by email"
	case in.Confirmed:
		now := s.now()
		u.ConfirmedAt = &now
	default:
		if a.Confirmation, a.Mail, err = s.accounts.NewAccountConfirmation(email); err != nil {
			return nil, err
		}
	}
	if err := s.store.CreateAccount(ctx, a); err != nil {
		return nil, err
	}
	if a.Mail != nil {
		s.accounts.MailQueued()
	}
	// Read back, so that the answer is exactly what a GET returns next (and has the same ETag).
	return s.store.UserByID(ctx, u.ID)
}

// Get returns user id, or ENotFound.
func (s *Service) Get(ctx context.Context, p *gatehouse.Principal, id int64) (*gatehouse.User, error) {
	if err := rbac.Decide(p, rbac.ActUsersRead, ""); err != nil {
		return nil, err
	}
	if id < 1 {
		return nil, errUserNotFound
	}
	return s.store.UserByID(ctx, id)
}

// ByEmail returns the user with the address (compared without case), or ENotFound.
func (s *Service) ByEmail(ctx context.Context, p *gatehouse.Principal, email string) (*gatehouse.User, error) {
	if err := rbac.Decide(p, rbac.ActUsersRead, ""); err != nil {
		return nil, err
	}
	if strings.TrimSpace(email) == "" {
		return nil, errUserNotFound
	}
	return s.store.UserByEmail(ctx, strings.TrimSpace(email))
}

// Change is an administrator's change to a user as the transport read it. IfMatch, when set,
// sees the user inside the transaction and may refuse the change (If-Match); Invalid is the
// transport's verdict on the body (see Query).
type Change struct {
	gatehouse.UserChange
	IfMatch gatehouse.Precondition
	Invalid error
}

// Update applies an administrator's change to user id and returns the user after it, with its
// audit events in the same transaction. Demoting, deactivating or (see Delete) deleting the
// last active admin is EConflict. A deactivated user's sessions end at once; a demoted user's
// next request is decided on the new roles, since the roles are read on every request.
func (s *Service) Update(ctx context.Context, p *gatehouse.Principal, id int64, ch Change, c Client) (*gatehouse.User, error) {
	if err := rbac.Decide(p, rbac.ActUsersUpdate, ""); err != nil {
		return nil, err
	}
	if id < 1 {
		return nil, errUserNotFound
	}
	if ch.Invalid != nil {
		return nil, ch.Invalid
	}
	if ch.Email != nil {
		email, err := auth.ValidateNewEmail("email", *ch.Email)
		if err != nil {
			return nil, err
		}
		ch.Email = &email
	}
	if ch.Username != nil {
		name, err := s.accounts.CheckNewUsername("username", *ch.Username)
		if err != nil {
			return nil, err
		}
		ch.Username = &name
	}
	_, after, err := s.store.AdminUpdateUser(ctx, id, ch.UserChange, ch.IfMatch, func(before, after *gatehouse.User) []gatehouse.AuditEvent {
		return changeEvents(p, before, after, c)
	})
	return after, err
}

// changeEvents are the events of an administrator's change: role changes and (de)activation
// as events of their own, so that they can be searched for, everything else as user_updated.
func changeEvents(p *gatehouse.Principal, before, after *gatehouse.User, c Client) []gatehouse.AuditEvent {
	var evs []gatehouse.AuditEvent
	ev := func(event, detail string) {
		evs = append(evs, audit(p, c, gatehouse.AuditEvent{Event: event, SubjectID: idPtr(after.ID), Email: after.Email, Detail: detail}))
	}
	if b, a := gatehouse.FormatRoles(before.Roles), gatehouse.FormatRoles(after.Roles); b != a {
		ev(gatehouse.AuditRoleChange, "roles: "+b+" -> "+a)
	}
	if before.Active != after.Active {
		if after.Active {
			ev(gatehouse.AuditUserActivated, "")
		} else {
			ev(gatehouse.AuditUserDeactivated, "every session ended")
		}
	}
	var changes []string
	if before.Email != after.Email {
		changes = append(changes, fmt.Sprintf("email: %s -> %s", before.Email, after.Email))
	}
	if before.Username != after.Username {
		changes = append(changes, "username: "+auth.UsernameChangeDetail(before.Username, after.Username))
	}
	if (before.ConfirmedAt != nil) != (after.ConfirmedAt != nil) {
		changes = append(changes, fmt.Sprintf("confirmed: %t -> %t", before.ConfirmedAt != nil, after.ConfirmedAt != nil))
	}
	if before.MustChangePassword != after.MustChangePassword {
		changes = append(changes, fmt.Sprintf("must_change_password: %t -> %t", before.MustChangePassword, after.MustChangePassword))
	}
	if len(changes) > 0 {
		ev(gatehouse.AuditUserUpdated, strings.Join(changes, "; "))
	}
	return evs
}

// Delete deletes user id with its sessions, tokens, roles and memberships, and its event, in
// one transaction. ifMatch, when set, may refuse the deletion after seeing the user. Deleting
// the last active admin, or a team's only owner, is EConflict.
func (s *Service) Delete(ctx context.Context, p *gatehouse.Principal, id int64, ifMatch gatehouse.Precondition, c Client) error {
	if err := rbac.Decide(p, rbac.ActUsersDelete, ""); err != nil {
		return err
	}
	if id < 1 {
		return errUserNotFound
	}
	_, err := s.store.AdminDeleteUser(ctx, id, ifMatch, func(u *gatehouse.User) gatehouse.AuditEvent {
		return audit(p, c, gatehouse.AuditEvent{Event: gatehouse.AuditUserDeleted, SubjectID: idPtr(u.ID), Email: u.Email,
			Detail: "roles: " + gatehouse.FormatRoles(u.Roles)})
	})
	return err
}

// ResetAccess ends every session and token of user id (a new security stamp).
func (s *Service) ResetAccess(ctx context.Context, p *gatehouse.Principal, id int64, c Client) error {
	if err := rbac.Decide(p, rbac.ActUsersResetAccess, ""); err != nil {
		return err
	}
	if id < 1 {
		return errUserNotFound
	}
	return s.store.ResetAccessAudited(ctx, id, s.newStamp(), "reset_access",
		audit(p, c, gatehouse.AuditEvent{Event: gatehouse.AuditResetAccess, SubjectID: idPtr(id)}))
}

// Unlock lifts the lockout and login backoff of user id.
func (s *Service) Unlock(ctx context.Context, p *gatehouse.Principal, id int64, c Client) error {
	if err := rbac.Decide(p, rbac.ActUsersUnlock, ""); err != nil {
		return err
	}
	if id < 1 {
		return errUserNotFound
	}
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return err
	}
	return s.store.ClearThrottleAudited(ctx, s.accounts.LockoutKeys(u.Email),
		audit(p, c, gatehouse.AuditEvent{Event: gatehouse.AuditUnlock, SubjectID: idPtr(u.ID), Email: u.Email}))
}

// ResetTwoFactor removes every second factor of user id (authenticator, email codes, security
// keys, recovery codes, remembered devices), for an owner who lost them, and ends the user's
// sessions; the user is mailed a notice. An admin resetting their own factors stays signed in
// in the session that asked.
func (s *Service) ResetTwoFactor(ctx context.Context, p *gatehouse.Principal, id int64, c Client) error {
	if err := rbac.Decide(p, rbac.ActUsersResetTwoFactor, ""); err != nil {
		return err
	}
	if id < 1 {
		return errUserNotFound
	}
	keep := ""
	if p.User.ID == id {
		keep = p.SessionID
	}
	mailed := false
	err := s.store.ResetTwoFactorAudited(ctx, id, keep,
		func(u *gatehouse.User, keys int64) gatehouse.AuditEvent {
			return audit(p, c, gatehouse.AuditEvent{Event: gatehouse.AuditTwoFactorReset, SubjectID: idPtr(u.ID), Email: u.Email,
				Detail: fmt.Sprintf("every second factor removed by an administrator (%d security keys)", keys)})
		},
		func(u *gatehouse.User) (*gatehouse.OutboxMail, error) {
			m, err := s.accounts.TwoFactorResetNotice(u)
			mailed = m != nil
			return m, err
		})
	if err == nil && mailed {
		s.accounts.MailQueued()
	}
	return err
}

// usernameDetail is what an event of a new account says of its username: nothing for none.
func usernameDetail(name string) string {
	if name == "" {
		return ""
	}
	return fmt.Sprintf("; username %q", name)
}
