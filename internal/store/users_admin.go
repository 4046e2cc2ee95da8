package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// User administration: changes to roles, the active flag, confirmation and email; deletion (the
// list is users_list.go, creation and the access resets users_access.go). Each writes its audit
// events in its own transaction, so a change is never without its record. Every change that could leave the system without an
// active admin is checked inside its transaction, against concurrent changes on every engine.

// UserChange is an administrator's change to a user (the domain's type).
type UserChange = gatehouse.UserChange

// mayRemoveAdmin reports whether the change could take the admin role or the active flag away.
func mayRemoveAdmin(c UserChange) bool { return c.Roles != nil || c.Active != nil }

// ErrLastAdmin is the cause of the EConflict a change gets when it would leave no active admin.
var ErrLastAdmin = errors.New("the last active admin")

func lastAdmin(what string) error {
	return &gatehouse.Error{
		Code: gatehouse.EConflict,
		Message: "this is the last active admin: it cannot be " + what +
			"; make another user an active admin first",
		Err: ErrLastAdmin,
	}
}

// Precondition may refuse a change after seeing the user inside its transaction (the domain's
// type).
type Precondition = gatehouse.Precondition

// guardAdmins starts a transaction that may remove an active admin. Its UPDATE of the admin role's
// row makes every such transaction conflict with every other: PostgreSQL and MariaDB make the
// second wait for the first's row lock and then read what it committed; Galera certifies only
// one of two nodes' transactions that wrote the row and InTx runs the other again (SELECT … FOR
// UPDATE would lock only on the local node); SQLite runs one writer at a time anyway. It must be
// the first statement of the transaction, so that on MariaDB the snapshot of later reads is taken
// after the wait.
func guardAdmins(ctx context.Context, tx bun.Tx) error {
	res, err := tx.NewUpdate().Model((*roleRow)(nil)).Set("version = version + 1").
		Where("name = ?", string(gatehouse.RoleAdmin)).Exec(ctx)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return fmt.Errorf("store: the admin role is missing from the roles table")
	}
	return nil
}

// otherActiveAdmins counts the active users other than id who hold the admin role.
func otherActiveAdmins(ctx context.Context, tx bun.Tx, id int64) (int64, error) {
	return tx.NewSelect().Model((*userRow)(nil)).
		Where("u.active = ?", true).Where("u.id <> ?", id).
		Where("EXISTS (SELECT 1 FROM user_roles AS ar JOIN roles AS arr ON arr.id = ar.role_id WHERE ar.user_id = u.id AND arr.name = ?)", string(gatehouse.RoleAdmin)).
		Count(ctx)
}

func isActiveAdmin(u *gatehouse.User) bool { return u.Active && u.HasRole(gatehouse.RoleAdmin) }

// UpdateUser applies ch to user id in one transaction and returns the user before and after.
// check, when set, may refuse the change after seeing the current state. A change that would
// demote or deactivate the last active admin is EConflict (with cause ErrLastAdmin); a taken
// email is EConflict; deactivation ends every session of the user and revokes its API keys.
func (s *Store) UpdateUser(ctx context.Context, id int64, ch UserChange, check Precondition) (before, after *gatehouse.User, err error) {
	return s.AdminUpdateUser(ctx, id, ch, check, nil)
}

// AdminUpdateUser is UpdateUser that also records audit's events (nil: none) in the same
// transaction. audit makes them from the user before and after the change; it is not called
// when nothing changed, and may run more than once when the transaction is retried.
func (s *Store) AdminUpdateUser(ctx context.Context, id int64, ch UserChange, check Precondition,
	audit func(before, after *gatehouse.User) []gatehouse.AuditEvent) (before, after *gatehouse.User, err error) {
	defer wrapErr(&err, "store.UpdateUser(%d)", id)
	var roles []gatehouse.Role
	if ch.Roles != nil {
		roles = dedupeRoles(*ch.Roles)
		if err := validateRoles(roles); err != nil {
			return nil, nil, err
		}
	}
	if ch.Email != nil {
		if err := validateUser(&gatehouse.User{Email: *ch.Email}); err != nil {
			return nil, nil, err
		}
	}
	now := utc(s.now())
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if mayRemoveAdmin(ch) {
			if err := guardAdmins(ctx, tx); err != nil {
				return err
			}
		}
		cur, err := s.userWhere(ctx, tx, "id = ?", id)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(cur); err != nil {
				return err
			}
		}
		next := *cur
		next.Roles = slices.Clone(cur.Roles)
		q := tx.NewUpdate().Model((*userRow)(nil)).Where("id = ?", id)
		changed := false
		if ch.Email != nil && *ch.Email != cur.Email {
			if confusable, err := confusableTaken(ctx, tx, *ch.Email, id); err != nil {
				return err
			} else if confusable {
				return errEmailConfusable("email")
			}
			q = q.Set("email = ?", *ch.Email).Set("email_lower = ?", NormalizeEmail(*ch.Email)).
				Set("email_skeleton = ?", EmailSkeleton(*ch.Email))
			next.Email, changed = *ch.Email, true
		}
		var unameKey *string
		if ch.Username != nil && *ch.Username != cur.Username {
			cols, err := usernameColumns(ctx, tx, *ch.Username, id)
			if err != nil {
				return err
			}
			q = q.Set("username = ?", cols.display).Set("username_norm = ?", cols.key).Set("username_skeleton = ?", cols.skeleton)
			next.Username, unameKey, changed = *ch.Username, cols.key, true
		}
		if ch.Active != nil && *ch.Active != cur.Active {
			q = q.Set("active = ?", *ch.Active)
			next.Active, changed = *ch.Active, true
		}
		if ch.Confirmed != nil && *ch.Confirmed != (cur.ConfirmedAt != nil) {
			if *ch.Confirmed {
				q = q.Set("confirmed_at = ?", now)
				next.ConfirmedAt = &now
			} else {
				q = q.Set("confirmed_at = NULL")
				next.ConfirmedAt = nil
			}
			changed = true
		}
		if ch.MustChangePassword != nil && *ch.MustChangePassword != cur.MustChangePassword {
			q = q.Set("must_change_password = ?", *ch.MustChangePassword)
			next.MustChangePassword, changed = *ch.MustChangePassword, true
		}
		rolesChanged := ch.Roles != nil && !sameRoles(roles, cur.Roles)
		if rolesChanged {
			next.Roles = roles
			changed = true
		}
		if isActiveAdmin(cur) && !isActiveAdmin(&next) {
			n, err := otherActiveAdmins(ctx, tx, id)
			if err != nil {
				return err
			}
			if n == 0 {
				what := "demoted"
				if !next.Active {
					what = "deactivated"
				}
				return lastAdmin(what)
			}
		}
		if !changed {
			before, after = cur, cur
			return nil
		}
		if _, err := q.Set("updated_at = ?", now).Exec(ctx); err != nil {
			if s.dialect.IsUniqueViolation(err) {
				return uniqueViolation(err, unameKey)
			}
			return err
		}
		if rolesChanged {
			if err := s.setRoles(ctx, tx, id, roles); err != nil {
				return err
			}
		}
		if cur.Active && !next.Active {
			// As SetActive does: sessions end, and API keys are revoked for good, so that
			// reactivating the account does not bring them back.
			if _, err := revokeUserAPIKeys(ctx, tx, id, now); err != nil {
				return err
			}
			if err := revokeSessions(ctx, tx, "user_id = ?", id, now, "deactivated"); err != nil {
				return err
			}
		}
		// Read back, so that the answer (and its ETag) is exactly what a GET returns next.
		if after, err = s.userWhere(ctx, tx, "id = ?", id); err != nil {
			return err
		}
		before = cur
		if audit != nil {
			if err := insertAudits(ctx, tx, now, audit(before, after)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return before, after, nil
}

// DeleteUser deletes user id with everything that belongs to it (sessions, tokens, roles,
// memberships) and returns the user as it was. Deleting the last active admin is EConflict
// (with cause ErrLastAdmin). check, when set, may refuse the deletion after seeing the user.
func (s *Store) DeleteUser(ctx context.Context, id int64, check Precondition) (deleted *gatehouse.User, err error) {
	return s.AdminDeleteUser(ctx, id, check, nil)
}

// AdminDeleteUser is DeleteUser that also records audit's event about the deleted user (nil:
// none) in the same transaction.
func (s *Store) AdminDeleteUser(ctx context.Context, id int64, check Precondition, audit func(deleted *gatehouse.User) gatehouse.AuditEvent) (deleted *gatehouse.User, err error) {
	defer wrapErr(&err, "store.DeleteUser(%d)", id)
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := guardAdmins(ctx, tx); err != nil {
			return err
		}
		cur, err := s.userWhere(ctx, tx, "id = ?", id)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(cur); err != nil {
				return err
			}
		}
		if isActiveAdmin(cur) {
			n, err := otherActiveAdmins(ctx, tx, id)
			if err != nil {
				return err
			}
			if n == 0 {
				return lastAdmin("deleted")
			}
		}
		if err := guardOwnedTeams(ctx, tx, id); err != nil {
			return err
		}
		res, err := tx.NewDelete().Model((*userRow)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "user not found"); err != nil {
			return err
		}
		if audit != nil {
			if err := insertAudits(ctx, tx, utc(s.now()), []gatehouse.AuditEvent{audit(cur)}); err != nil {
				return err
			}
		}
		deleted = cur
		return nil
	})
	return deleted, err
}

// CountActiveAdmins returns how many active users hold the admin role.
func (s *Store) CountActiveAdmins(ctx context.Context) (n int64, err error) {
	defer wrapErr(&err, "store.CountActiveAdmins")
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, err = otherActiveAdmins(ctx, tx, 0)
		return err
	})
	return n, err
}

func validateRoles(roles []gatehouse.Role) error {
	for _, r := range roles {
		if !r.Valid() {
			return gatehouse.FieldError("roles", fmt.Sprintf("unknown role %q", r))
		}
	}
	return nil
}

// dedupeRoles returns roles without repeats, in the order of gatehouse.Roles' ids (the order
// rolesOf reads them back in: admin, maintainer, viewer), and never nil.
func dedupeRoles(roles []gatehouse.Role) []gatehouse.Role {
	out := []gatehouse.Role{}
	for _, r := range gatehouse.Roles {
		if slices.Contains(roles, r) {
			out = append(out, r)
		}
	}
	for _, r := range roles { // invalid ones stay, for validateRoles to name
		if !r.Valid() && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func sameRoles(a, b []gatehouse.Role) bool {
	if len(a) != len(b) {
		return false
	}
	for _, r := range a {
		if !slices.Contains(b, r) {
			return false
		}
	}
	return true
}

// guardOwnedTeams refuses to delete a user who is the only owner of a team: a team always keeps
// an owner. Each such team is locked first (as every membership change does), so a concurrent
// demotion of the other owner cannot slip between the count and the delete.
func guardOwnedTeams(ctx context.Context, tx bun.Tx, userID int64) error {
	var owned []int64
	if err := tx.NewSelect().Model((*memberRow)(nil)).Column("team_id").
		Where("user_id = ? AND role = ?", userID, string(gatehouse.TeamOwner)).OrderExpr("team_id").Scan(ctx, &owned); err != nil {
		return err
	}
	for _, teamID := range owned {
		if err := lockTeam(ctx, tx, teamID); err != nil {
			return err
		}
		n, err := countOwners(ctx, tx, teamID)
		if err != nil {
			return err
		}
		if n <= 1 {
			return gatehouse.Errorf(gatehouse.EConflict, "the user is the only owner of team %d; make another member owner first", teamID).WithReason("last_owner")
		}
	}
	return nil
}
