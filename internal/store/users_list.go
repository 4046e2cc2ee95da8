package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// The user list of the administration: filtered, sorted, keyset-paginated.

// The user list's types are the domain's (gatehouse.UserQuery and its parts); these names stay
// for the store's callers and tests.
type (
	UserSort     = gatehouse.UserSort
	UserPosition = gatehouse.UserPosition
	UserQuery    = gatehouse.UserQuery
)

// The orders of the user list.
const (
	SortIDAsc       = gatehouse.SortIDAsc
	SortIDDesc      = gatehouse.SortIDDesc
	SortEmailAsc    = gatehouse.SortEmailAsc
	SortEmailDesc   = gatehouse.SortEmailDesc
	SortCreatedAsc  = gatehouse.SortCreatedAsc
	SortCreatedDesc = gatehouse.SortCreatedDesc
	DefaultUserSort = gatehouse.DefaultUserSort

	maxUserListLimit  = 1000
	maxEmailFilterLen = 320
)

// UserSorts lists every order of the user list, for messages and documentation.
var UserSorts = gatehouse.UserSorts

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
	case len(q.UsernameContains) > maxEmailFilterLen:
		return nil, false, gatehouse.FieldError("username", "must be at most 320 characters")
	}
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []userRow
		sel := tx.NewSelect().Model(&rows)
		if f := NormalizeEmail(q.EmailContains); f != "" {
			sel = sel.Where("u.email_lower LIKE ? ESCAPE '"+likeEscape+"'", "%"+likeLiteral(f)+"%")
		}
		if f := usernameFilter(q.UsernameContains); f != "" {
			sel = sel.Where("u.username_norm LIKE ? ESCAPE '"+likeEscape+"'", "%"+likeLiteral(f)+"%")
		}
		if q.Role != "" {
			sel = sel.Where("EXISTS (SELECT 1 FROM user_roles AS fr JOIN roles AS frr ON frr.id = fr.role_id WHERE fr.user_id = u.id AND frr.name = ?)", string(q.Role))
		}
		if q.Active != nil {
			sel = sel.Where("u.active = ?", *q.Active)
		}
		if q.SSOOnly != nil {
			sel = sel.Where("u.sso_only = ?", *q.SSOOnly)
		}
		if q.Confirmed != nil {
			if *q.Confirmed {
				sel = sel.Where("u.confirmed_at IS NOT NULL")
			} else {
				sel = sel.Where("u.confirmed_at IS NULL")
			}
		}
		if q.Locked != nil {
			if now := utc(s.now()); *q.Locked {
				sel = sel.Where("u.locked_until > ?", now)
			} else {
				sel = sel.Where("(u.locked_until IS NULL OR u.locked_until <= ?)", now)
			}
		}
		if q.TwoFactor != nil {
			has := "(EXISTS (SELECT 1 FROM two_factor AS ftf WHERE ftf.user_id = u.id AND (ftf.totp_enabled_at IS NOT NULL OR ftf.email_enabled_at IS NOT NULL))" +
				" OR EXISTS (SELECT 1 FROM webauthn_credentials AS fwc WHERE fwc.user_id = u.id))"
			if !*q.TwoFactor {
				has = "NOT " + has
			}
			sel = sel.Where(has)
		}
		cmp, dir := ">", "ASC"
		if q.Sort.Desc() {
			cmp, dir = "<", "DESC"
		}
		switch q.Sort.Column() {
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
