package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
	"github.com/gatehousehq/gatehouse/internal/store"
)

// User administration and the admin views, for global admins with an admin-scoped token, and
// the caller's own profile. Every method asks rbac for the decision first, so that a caller who
// may not act learns nothing (not even whether a user id exists).

// NewUser is an account an administrator creates.
type NewUser struct {
	Email string
	// Password is checked against the password policy. It may be empty where accounts can
	// sign in without one (PasswordlessSignIn): the account then has no password.
	Password string
	Roles    []gatehouse.Role
	// Confirmed marks the address confirmed. When it is not and confirmation is on (SMTP
	// configured), a confirmation email is sent as after self-registration.
	Confirmed bool
	// MustChangePassword makes the user change the password at the first login.
	MustChangePassword bool
}

// AdminCreateUser creates an account on behalf of the admin p. A taken email is EConflict.
func (s *Service) AdminCreateUser(ctx context.Context, p *gatehouse.Principal, in NewUser, c Client) (*gatehouse.User, error) {
	if err := rbac.Decide(p, rbac.ActUsersCreate, ""); err != nil {
		return nil, err
	}
	email, err := ValidateNewEmail("email", in.Email)
	if err != nil {
		return nil, err
	}
	var hash, scheme string
	switch {
	case s.optionalPassword(in.Password):
		// An account without a password (passwordless.go).
	case in.Password == "":
		return nil, gatehouse.FieldError("password", "is required")
	default:
		if err := s.opts.Policy.CheckContext(ctx, "password", in.Password, email); err != nil {
			return nil, err
		}
		if hash, scheme, err = s.hasher.Hash(ctx, in.Password); err != nil {
			return nil, err
		}
	}
	u := &gatehouse.User{
		Email: email, PasswordHash: hash, PasswordScheme: scheme, Active: true,
		MustChangePassword: in.MustChangePassword, Roles: in.Roles,
	}
	if in.Confirmed {
		now := s.now()
		u.ConfirmedAt = &now
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditUserCreated, SubjectID: idPtr(u.ID), ActorID: idPtr(p.User.ID),
		Email: u.Email, Detail: "by an administrator; roles: " + formatRoles(u.Roles)}, c)
	if !in.Confirmed && s.opts.Confirmable {
		if err := s.sendConfirmation(ctx, u); err != nil {
			s.log.Error("confirmation email not queued", "user_id", u.ID, "error", err)
		}
	}
	// Read back, so that the answer is exactly what a GET returns next (and has the same ETag).
	return s.store.UserByID(ctx, u.ID)
}

// AdminListUsers returns one page of users and whether more follow.
func (s *Service) AdminListUsers(ctx context.Context, p *gatehouse.Principal, q store.UserQuery) ([]*gatehouse.User, bool, error) {
	if err := rbac.Decide(p, rbac.ActUsersList, ""); err != nil {
		return nil, false, err
	}
	return s.store.ListUsersPage(ctx, q)
}

// AdminUser returns one user, or ENotFound.
func (s *Service) AdminUser(ctx context.Context, p *gatehouse.Principal, id int64) (*gatehouse.User, error) {
	if err := rbac.Decide(p, rbac.ActUsersRead, ""); err != nil {
		return nil, err
	}
	return s.store.UserByID(ctx, id)
}

// AdminUpdateUser applies an administrator's change to user id and returns the user after it.
// check, when set, sees the user inside the transaction and may refuse the change (If-Match).
// Demoting, deactivating or (see AdminDeleteUser) deleting the last active admin is EConflict.
// A deactivated user's sessions end at once; a demoted user's next request is decided on the
// new roles, since the roles are read on every request.
func (s *Service) AdminUpdateUser(ctx context.Context, p *gatehouse.Principal, id int64, ch store.UserChange, check store.Precondition, c Client) (*gatehouse.User, error) {
	if err := rbac.Decide(p, rbac.ActUsersUpdate, ""); err != nil {
		return nil, err
	}
	if ch.Email != nil {
		email, err := ValidateNewEmail("email", *ch.Email)
		if err != nil {
			return nil, err
		}
		ch.Email = &email
	}
	before, after, err := s.store.UpdateUser(ctx, id, ch, check)
	if err != nil {
		return nil, err
	}
	s.auditChanges(ctx, p, before, after, c)
	return after, nil
}

// auditChanges records what an administrator changed: role changes and (de)activation as
// events of their own, so that they can be searched for, everything else as user_updated.
func (s *Service) auditChanges(ctx context.Context, p *gatehouse.Principal, before, after *gatehouse.User, c Client) {
	ev := func(event, detail string) {
		s.audit(ctx, gatehouse.AuditEvent{Event: event, SubjectID: idPtr(after.ID), ActorID: idPtr(p.User.ID), Email: after.Email, Detail: detail}, c)
	}
	if b, a := formatRoles(before.Roles), formatRoles(after.Roles); b != a {
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
	if (before.ConfirmedAt != nil) != (after.ConfirmedAt != nil) {
		changes = append(changes, fmt.Sprintf("confirmed: %t -> %t", before.ConfirmedAt != nil, after.ConfirmedAt != nil))
	}
	if before.MustChangePassword != after.MustChangePassword {
		changes = append(changes, fmt.Sprintf("must_change_password: %t -> %t", before.MustChangePassword, after.MustChangePassword))
	}
	if len(changes) > 0 {
		ev(gatehouse.AuditUserUpdated, strings.Join(changes, "; "))
	}
}

// AdminDeleteUser deletes user id with its sessions, tokens, roles and memberships. check, when
// set, may refuse the deletion after seeing the user (If-Match). Deleting the last active admin
// is EConflict.
func (s *Service) AdminDeleteUser(ctx context.Context, p *gatehouse.Principal, id int64, check store.Precondition, c Client) error {
	if err := rbac.Decide(p, rbac.ActUsersDelete, ""); err != nil {
		return err
	}
	u, err := s.store.DeleteUser(ctx, id, check)
	if err != nil {
		return err
	}
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditUserDeleted, SubjectID: idPtr(u.ID), ActorID: idPtr(p.User.ID),
		Email: u.Email, Detail: "roles: " + formatRoles(u.Roles)}, c)
	return nil
}

// AdminResetAccess ends every session and token of user id (a new security stamp).
func (s *Service) AdminResetAccess(ctx context.Context, p *gatehouse.Principal, id int64, c Client) error {
	if err := rbac.Decide(p, rbac.ActUsersResetAccess, ""); err != nil {
		return err
	}
	return s.ResetAccess(ctx, idPtr(p.User.ID), id, c)
}

// AdminUnlock lifts the lockout and login backoff of user id.
func (s *Service) AdminUnlock(ctx context.Context, p *gatehouse.Principal, id int64, c Client) error {
	if err := rbac.Decide(p, rbac.ActUsersUnlock, ""); err != nil {
		return err
	}
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return err
	}
	return s.Unlock(ctx, idPtr(p.User.ID), u, c)
}

// UpdateMe changes the caller's own account. Nothing in it is self-editable yet: roles, the
// active flag and confirmation belong to administrators, and a change of email waits for a flow
// that confirms the new address before it takes effect. The HTTP layer refuses every field; this
// only checks that the caller may change its account at all, so that the endpoint's answers do
// not change when the first editable field arrives.
func (s *Service) UpdateMe(ctx context.Context, p *gatehouse.Principal) (*gatehouse.User, error) {
	if err := rbac.Decide(p, rbac.ActUserUpdateSelf, ""); err != nil {
		return nil, err
	}
	return p.User, nil
}

// AdminOutbox returns a page of the mail outbox, newest first, and whether more follow.
func (s *Service) AdminOutbox(ctx context.Context, p *gatehouse.Principal, q store.MailQuery) ([]gatehouse.OutboxMail, bool, error) {
	if err := rbac.Decide(p, rbac.ActOutboxRead, ""); err != nil {
		return nil, false, err
	}
	return s.store.ListMailPage(ctx, q)
}

// AdminAudit returns a page of the audit trail, newest first, and whether more follow.
func (s *Service) AdminAudit(ctx context.Context, p *gatehouse.Principal, q store.AuditQuery) ([]gatehouse.AuditEvent, bool, error) {
	if err := rbac.Decide(p, rbac.ActAuditRead, ""); err != nil {
		return nil, false, err
	}
	return s.store.ListAuditPage(ctx, q)
}

// formatRoles lists roles for audit details in their canonical order.
func formatRoles(roles []gatehouse.Role) string {
	if len(roles) == 0 {
		return "(none)"
	}
	names := make([]string, 0, len(roles))
	for _, r := range gatehouse.Roles {
		if slices.Contains(roles, r) {
			names = append(names, string(r))
		}
	}
	return strings.Join(names, ",")
}
