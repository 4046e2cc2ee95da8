package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// User administration: the filtered, sorted, keyset-paginated list; changes to roles, the active
// flag, confirmation and email; deletion. Every change that could leave the system without an
// active admin is checked inside its transaction, against concurrent changes on every engine.

// UserSort is the order of the user list: a column, descending when prefixed with "-". Ties are
// broken by id in the same direction, so that the order is total and a cursor is stable.
type UserSort string

// The orders of the user list.
const (
	SortIDAsc         UserSort = "id"
	SortIDDesc        UserSort = "-id"
	SortEmailAsc      UserSort = "email"
	SortEmailDesc     UserSort = "-email"
	SortCreatedAsc    UserSort = "created_at"
	SortCreatedDesc   UserSort = "-created_at"
	DefaultUserSort            = SortIDAsc
	maxUserListLimit           = 1000
	maxEmailFilterLen          = 320
)

// UserSorts lists every order of the user list, for messages and documentation.
var UserSorts = []UserSort{SortIDAsc, SortIDDesc, SortEmailAsc, SortEmailDesc, SortCreatedAsc, SortCreatedDesc}

// Valid reports whether o is one of UserSorts.
func (o UserSort) Valid() bool { return slices.Contains(UserSorts, o) }

func (o UserSort) desc() bool { return strings.HasPrefix(string(o), "-") }

func (o UserSort) column() string { return strings.TrimPrefix(string(o), "-") }

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
	// Role keeps users who hold this global role; "" keeps all.
	Role gatehouse.Role
	// Active, when set, keeps only active (true) or only inactive (false) users.
	Active *bool
	// Sort is the order; "" means DefaultUserSort.
	Sort UserSort
	// After, when set, starts the page after this position in Sort's order.
	After *UserPosition
	// Limit is the page size, 1 to 1000.
	Limit int
}

// likeEscape is the LIKE escape character. Not the backslash: MySQL would also read a backslash
// as a string-literal escape, so the same pattern would mean different things on different engines.
const likeEscape = "!"

// likeLiteral makes s match literally inside a LIKE pattern.
func likeLiteral(s string) string {
	return strings.NewReplacer(likeEscape, likeEscape+likeEscape, "%", likeEscape+"%", "_", likeEscape+"_").Replace(s)
}

// ListUsersPage returns one page of users in q's order and whether more follow.
func (s *Store) ListUsersPage(ctx context.Context, q UserQuery) (users []*gatehouse.User, more bool, err error) {
	defer wrapErr(&err, "store.ListUsersPage(sort=%q)", q.Sort)
	if q.Sort == "" {
		q.Sort = DefaultUserSort
	}
	switch {
	case !q.Sort.Valid():
		return nil, false, gatehouse.FieldError("sort", "unknown order")
	case q.Limit < 1 || q.Limit > maxUserListLimit:
		return nil, false, gatehouse.FieldError("limit", "must be from 1 to 1000")
	case q.Role != "" && !q.Role.Valid():
		return nil, false, gatehouse.FieldError("role", fmt.Sprintf("unknown role %q", q.Role))
	case len(q.EmailContains) > maxEmailFilterLen:
		return nil, false, gatehouse.FieldError("email", "must be at most 320 characters")
	}
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []userRow
		sel := tx.NewSelect().Model(&rows)
		if f := NormalizeEmail(q.EmailContains); f != "" {
			sel = sel.Where("u.email_lower LIKE ? ESCAPE '"+likeEscape+"'", "%"+likeLiteral(f)+"%")
		}
		if q.Role != "" {
			sel = sel.Where("EXISTS (SELECT 1 FROM user_roles AS fr JOIN roles AS frr ON frr.id = fr.role_id WHERE fr.user_id = u.id AND frr.name = ?)", string(q.Role))
		}
		if q.Active != nil {
			sel = sel.Where("u.active = ?", *q.Active)
		}
		cmp, dir := ">", "ASC"
		if q.Sort.desc() {
			cmp, dir = "<", "DESC"
		}
		switch q.Sort.column() {
		case "id":
			if q.After != nil {
				sel = sel.Where("u.id "+cmp+" ?", q.After.ID)
			}
			sel = sel.OrderExpr("u.id " + dir)
		case "email":
			if q.After != nil {
				sel = sel.Where("(u.email_lower "+cmp+" ? OR (u.email_lower = ? AND u.id "+cmp+" ?))", q.After.Email, q.After.Email, q.After.ID)
			}
			sel = sel.OrderExpr("u.email_lower " + dir + ", u.id " + dir)
		case "created_at":
			if q.After != nil {
				at := utc(q.After.CreatedAt)
				sel = sel.Where("(u.created_at "+cmp+" ? OR (u.created_at = ? AND u.id "+cmp+" ?))", at, at, q.After.ID)
			}
			sel = sel.OrderExpr("u.created_at " + dir + ", u.id " + dir)
		}
		if err := sel.Limit(int64(q.Limit + 1)).Scan(ctx); err != nil {
			return err
		}
		more = len(rows) > q.Limit
		rows = rows[:min(len(rows), q.Limit)]
		roles, err := rolesOfMany(ctx, tx, rows)
		if err != nil {
			return err
		}
		users = make([]*gatehouse.User, len(rows))
		for i := range rows {
			users[i] = rows[i].toDomain(roles[rows[i].ID])
		}
		return nil
	})
	return users, more, err
}

// rolesOfMany loads the roles of every user in rows with one query, each user's in role id
// order as rolesOf returns them. Every user gets a non-nil slice.
func rolesOfMany(ctx context.Context, tx bun.IDB, rows []userRow) (map[int64][]gatehouse.Role, error) {
	out := make(map[int64][]gatehouse.Role, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
		out[rows[i].ID] = []gatehouse.Role{}
	}
	var pairs []struct {
		UserID int64  `bun:"user_id"`
		Name   string `bun:"name"`
	}
	if err := tx.NewSelect().Model((*userRoleRow)(nil)).ColumnExpr("ur.user_id, r.name").
		Join("JOIN roles AS r ON r.id = ur.role_id").Where("ur.user_id IN (?)", bun.List(ids)).
		OrderExpr("ur.user_id, r.id").Scan(ctx, &pairs); err != nil {
		return nil, err
	}
	for _, p := range pairs {
		out[p.UserID] = append(out[p.UserID], gatehouse.Role(p.Name))
	}
	return out, nil
}

// UserChange is an administrator's change to a user; nil fields stay as they are.
type UserChange struct {
	Email *string
	// Roles replaces the user's global roles (an empty slice removes them all).
	Roles *[]gatehouse.Role
	// Active false deactivates the user and ends every session; true reactivates.
	Active *bool
	// Confirmed true marks the email confirmed now (unless it is already); false unconfirms it.
	Confirmed          *bool
	MustChangePassword *bool
}

// mayRemoveAdmin reports whether the change could take the admin role or the active flag away.
func (c UserChange) mayRemoveAdmin() bool { return c.Roles != nil || c.Active != nil }

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

// Precondition inspects a user as it is inside the transaction that is about to change it, and
// returns an error to refuse the change (If-Match: the ETag of this state). It may run more than
// once when the transaction is retried, so it must not have side effects.
type Precondition func(current *gatehouse.User) error

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
		if ch.mayRemoveAdmin() {
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
				return gatehouse.Wrap(gatehouse.EConflict, err, "a user with this email already exists")
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

// Admin views: the mail outbox and the audit trail, newest first, paged by id.

// MailQuery selects a page of the outbox.
type MailQuery struct {
	Status   gatehouse.MailStatus // "" for every status
	BeforeID int64                // > 0: only messages with a smaller id (the next page)
	Limit    int                  // 1 to 1000
}

// ListMailPage returns one page of outbox messages, newest first, and whether more follow.
func (s *Store) ListMailPage(ctx context.Context, q MailQuery) (ms []gatehouse.OutboxMail, more bool, err error) {
	defer wrapErr(&err, "store.ListMailPage(%q, before=%d)", q.Status, q.BeforeID)
	if q.Status != "" && !q.Status.Valid() {
		return nil, false, gatehouse.FieldError("status", "must be pending, sent or failed")
	}
	if q.Limit < 1 || q.Limit > maxMailList {
		return nil, false, gatehouse.FieldError("limit", "must be from 1 to 1000")
	}
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []mailRow
		sel := tx.NewSelect().Model(&rows).OrderExpr("mo.id DESC").Limit(int64(q.Limit + 1))
		if q.Status != "" {
			sel = sel.Where("mo.status = ?", string(q.Status))
		}
		if q.BeforeID > 0 {
			sel = sel.Where("mo.id < ?", q.BeforeID)
		}
		if err := sel.Scan(ctx); err != nil {
			return err
		}
		more = len(rows) > q.Limit
		rows = rows[:min(len(rows), q.Limit)]
		ms = make([]gatehouse.OutboxMail, len(rows))
		for i := range rows {
			ms[i] = rows[i].toDomain()
		}
		return nil
	})
	return ms, more, err
}

// AuditQuery selects a page of the audit trail.
type AuditQuery struct {
	SubjectID int64  // > 0: only events about this user
	Event     string // "": every kind
	BeforeID  int64  // > 0: only events with a smaller id (the next page)
	Limit     int    // 1 to 1000
}

// ListAuditPage returns one page of audit events, newest first, and whether more follow.
func (s *Store) ListAuditPage(ctx context.Context, q AuditQuery) (evs []gatehouse.AuditEvent, more bool, err error) {
	defer wrapErr(&err, "store.ListAuditPage(subject=%d, event=%q, before=%d)", q.SubjectID, q.Event, q.BeforeID)
	if q.Limit < 1 || q.Limit > maxUserListLimit {
		return nil, false, gatehouse.FieldError("limit", "must be from 1 to 1000")
	}
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []auditRow
		sel := tx.NewSelect().Model(&rows).OrderExpr("ae.id DESC").Limit(int64(q.Limit + 1))
		if q.SubjectID > 0 {
			sel = sel.Where("ae.subject_id = ?", q.SubjectID)
		}
		if q.Event != "" {
			sel = sel.Where("ae.event = ?", q.Event)
		}
		if q.BeforeID > 0 {
			sel = sel.Where("ae.id < ?", q.BeforeID)
		}
		if err := sel.Scan(ctx); err != nil {
			return err
		}
		more = len(rows) > q.Limit
		rows = rows[:min(len(rows), q.Limit)]
		evs = make([]gatehouse.AuditEvent, len(rows))
		for i, r := range rows {
			evs[i] = gatehouse.AuditEvent{ID: r.ID, At: utc(r.At), Event: r.Event, ActorID: r.ActorID, SubjectID: r.SubjectID,
				Email: r.Email, IP: r.IP, UserAgent: r.UserAgent, Detail: r.Detail}
		}
		return nil
	})
	return evs, more, err
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
