package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// ListTeams lists teams ordered by id after the id after: the user's own teams, or every team
// when all is set (a global admin). The user's own teams are read from its memberships, in
// order, through the team_members (user_id, team_id) index, not by probing every team for a
// membership: a member of three teams costs three rows, however many teams exist. Both shapes
// are prepared single statements (see prepared.go).
func (s *Store) ListTeams(ctx context.Context, userID int64, all bool, after int64, limit int) (out []gatehouse.TeamWithRole, err error) {
	defer wrapErr(&err, "store.ListTeams(user=%d, all=%v)", userID, all)
	key, build := "teams.mine", func() string {
		return "SELECT " + columnsOf[teamRow](s, "t") + `, tm.role
FROM team_members tm JOIN teams t ON t.id = tm.team_id
WHERE tm.user_id = ? AND tm.team_id > ?
ORDER BY tm.team_id LIMIT ?`
	}
	if all {
		key, build = "teams.all", func() string {
			return "SELECT " + columnsOf[teamRow](s, "t") + `, tm.role
FROM teams t LEFT JOIN team_members tm ON tm.team_id = t.id AND tm.user_id = ?
WHERE t.id > ?
ORDER BY t.id LIMIT ?`
		}
	}
	err = s.readStmt(ctx, func(ctx context.Context) error {
		out = out[:0]
		st, err := s.prepared(ctx, key, build) //nolint:sqlclosecheck // owned by the Store (prepared.go)
		if err != nil {
			return err
		}
		rows, err := st.QueryContext(ctx, userID, after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		var (
			t    teamRow
			role sql.NullString
		)
		dest := append(fieldPtrs(make([]any, 0, 8), &t, fieldsOf[teamRow](s)), &role)
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			out = append(out, gatehouse.TeamWithRole{Team: *t.toDomain(), Role: gatehouse.TeamRole(role.String)})
		}
		return rows.Err()
	})
	if out == nil && err == nil {
		out = []gatehouse.TeamWithRole{}
	}
	return out, err
}

// teamRoleSQL is TeamRole's prepared statement.
const teamRoleSQL = `SELECT role FROM team_members WHERE team_id = ? AND user_id = ?`

// TeamRole returns the user's role in the team, "" when not a member (or no such team). Every
// team-scoped request asks it, so it is a prepared single statement (see prepared.go).
func (s *Store) TeamRole(ctx context.Context, teamID, userID int64) (role gatehouse.TeamRole, err error) {
	defer wrapErr(&err, "store.TeamRole(team=%d, user=%d)", teamID, userID)
	err = s.readStmt(ctx, func(ctx context.Context) error {
		st, err := s.prepared(ctx, teamRoleSQL, fixed(teamRoleSQL)) //nolint:sqlclosecheck // owned by the Store (prepared.go)
		if err != nil {
			return err
		}
		var r string
		switch err := st.QueryRowContext(ctx, teamID, userID).Scan(&r); {
		case isNoRows(err):
			role = ""
		case err != nil:
			return err
		default:
			role = gatehouse.TeamRole(r)
		}
		return nil
	})
	return role, err
}

// UpdateTeam applies p and returns the team. check runs on the team as the transaction sees
// it, before anything is written (the If-Match comparison); it may be nil.
func (s *Store) UpdateTeam(ctx context.Context, id int64, p gatehouse.TeamPatch, check func(*gatehouse.Team) error) (t *gatehouse.Team, err error) {
	defer wrapErr(&err, "store.UpdateTeam(%d)", id)
	now := utc(s.now())
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := new(teamRow)
		if err := tx.NewSelect().Model(row).Where("id = ?", id).Scan(ctx); err != nil {
			return notFound(err, "team not found")
		}
		if check != nil {
			if err := check(row.toDomain()); err != nil {
				return err
			}
		}
		before := *row
		if p.Name != nil {
			row.Name = *p.Name
		}
		if p.Description != nil {
			row.Description = *p.Description
		}
		if err := validateTeam(&gatehouse.Team{Name: row.Name, Description: row.Description}); err != nil {
			return err
		}
		if row.Name == before.Name && row.Description == before.Description {
			// Nothing changes: no write, so updated_at (and the ETag made from it) stays, and
			// a client's If-Match on the team is not broken by an empty or repeated PATCH.
			t = row.toDomain()
			return nil
		}
		row.UpdatedAt = now
		if _, err := tx.NewUpdate().Model(row).Column("name", "description", "updated_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		t = row.toDomain()
		return nil
	})
	return t, err
}

// DeleteTeam deletes the team with its memberships and resources; check (may be nil) runs on
// the team first, inside the transaction, and audit (may be nil) returns the audit event of the
// deletion, written in the same transaction.
func (s *Store) DeleteTeam(ctx context.Context, id int64, check func(*gatehouse.Team) error, audit func(*gatehouse.Team) gatehouse.AuditEvent) (err error) {
	defer wrapErr(&err, "store.DeleteTeam(%d)", id)
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var cur *gatehouse.Team
		if check != nil || audit != nil {
			row := new(teamRow)
			if err := tx.NewSelect().Model(row).Where("id = ?", id).Scan(ctx); err != nil {
				return notFound(err, "team not found")
			}
			cur = row.toDomain()
		}
		if check != nil {
			if err := check(cur); err != nil {
				return err
			}
		}
		res, err := tx.NewDelete().Model((*teamRow)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "team not found"); err != nil {
			return err
		}
		if audit != nil {
			return insertAuditAt(ctx, tx, audit(cur), now)
		}
		return nil
	})
}

// Members lists a team's members ordered by user id after the id after.
func (s *Store) Members(ctx context.Context, teamID, after int64, limit int) (out []gatehouse.Member, err error) {
	defer wrapErr(&err, "store.Members(%d)", teamID)
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []struct {
			UserID    int64     `bun:"user_id"`
			Email     string    `bun:"email"`
			Role      string    `bun:"role"`
			CreatedAt time.Time `bun:"created_at"`
		}
		if err := tx.NewSelect().Model((*memberRow)(nil)).Column("tm.user_id", "tm.role", "tm.created_at").
			ColumnExpr("u.email AS email").Join("JOIN users AS u ON u.id = tm.user_id").
			Where("tm.team_id = ?", teamID).Where("tm.user_id > ?", after).OrderExpr("tm.user_id").
			Limit(int64(limit)).Scan(ctx, &rows); err != nil {
			return err
		}
		out = make([]gatehouse.Member, len(rows))
		for i, r := range rows {
			out[i] = gatehouse.Member{UserID: r.UserID, Email: r.Email, Role: gatehouse.TeamRole(r.Role), CreatedAt: utc(r.CreatedAt)}
		}
		return nil
	})
	return out, err
}

// memberWhere reads one membership with the member's email; nil when the user is not a member.
func memberWhere(ctx context.Context, tx bun.IDB, teamID, userID int64) (*gatehouse.Member, error) {
	var rows []struct {
		UserID    int64     `bun:"user_id"`
		Email     string    `bun:"email"`
		Role      string    `bun:"role"`
		CreatedAt time.Time `bun:"created_at"`
	}
	if err := tx.NewSelect().Model((*memberRow)(nil)).Column("tm.user_id", "tm.role", "tm.created_at").
		ColumnExpr("u.email AS email").Join("JOIN users AS u ON u.id = tm.user_id").
		Where("tm.team_id = ? AND tm.user_id = ?", teamID, userID).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	r := rows[0]
	return &gatehouse.Member{UserID: r.UserID, Email: r.Email, Role: gatehouse.TeamRole(r.Role), CreatedAt: utc(r.CreatedAt)}, nil
}

// Member returns one membership of the team; a user who is not a member is ENotFound.
func (s *Store) Member(ctx context.Context, teamID, userID int64) (m *gatehouse.Member, err error) {
	defer wrapErr(&err, "store.Member(team=%d, user=%d)", teamID, userID)
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if m, err = memberWhere(ctx, tx, teamID, userID); err != nil {
			return err
		}
		if m == nil {
			return gatehouse.Errorf(gatehouse.ENotFound, "not a member of this team")
		}
		return nil
	})
	return m, err
}

// errLastOwner refuses a change that would leave a team without an owner.
var errLastOwner = gatehouse.Errorf(gatehouse.EConflict, "a team must keep at least one owner; make another member owner first").WithReason("last_owner")

// lockTeam bumps the team's version, so that concurrent membership changes of one team
// conflict on every engine: a row lock on PostgreSQL and MariaDB, a certification conflict
// (retried whole) on Galera, the write lock on SQLite. It is ENotFound for an unknown team.
func lockTeam(ctx context.Context, tx bun.Tx, teamID int64) error {
	res, err := tx.NewUpdate().Model((*teamRow)(nil)).Set("version = version + 1").Where("id = ?", teamID).Exec(ctx)
	if err != nil {
		return err
	}
	return mustAffect(res, "team not found")
}

func memberRole(ctx context.Context, tx bun.Tx, teamID, userID int64) (gatehouse.TeamRole, error) {
	var r []string
	err := tx.NewSelect().Model((*memberRow)(nil)).Column("role").Where("team_id = ? AND user_id = ?", teamID, userID).Scan(ctx, &r)
	if err != nil || len(r) == 0 {
		return "", err
	}
	return gatehouse.TeamRole(r[0]), nil
}

func countOwners(ctx context.Context, tx bun.Tx, teamID int64) (int, error) {
	n, err := tx.NewSelect().Model((*memberRow)(nil)).Where("team_id = ? AND role = ?", teamID, string(gatehouse.TeamOwner)).Count(ctx)
	return int(n), err
}

// ChangeMember adds, changes or removes a membership, with the audit event c.Audit returns, in
// one transaction (see gatehouse.MemberChange for the order of its callbacks). A team always
// keeps at least one owner: the check runs inside the transaction after the team is locked, so
// concurrent demotions and removals of the last owners cannot both succeed. It returns the role
// the member had.
func (s *Store) ChangeMember(ctx context.Context, c gatehouse.MemberChange) (previous gatehouse.TeamRole, err error) {
	defer wrapErr(&err, "store.ChangeMember(team=%d, user=%d, %q)", c.TeamID, c.UserID, c.Role)
	if c.Role != "" && !c.Role.Valid() {
		return "", gatehouse.FieldError("role", "must be owner, admin, member or viewer")
	}
	now := utc(s.now())
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := lockTeam(ctx, tx, c.TeamID); err != nil {
			return err
		}
		cur, err := memberRole(ctx, tx, c.TeamID, c.UserID)
		if err != nil {
			return err
		}
		previous = cur
		if c.Check != nil {
			if err := c.Check(cur); err != nil {
				return err
			}
		}
		if c.IfMatch != nil {
			m, err := memberWhere(ctx, tx, c.TeamID, c.UserID)
			if err != nil {
				return err
			}
			if err := c.IfMatch(m); err != nil {
				return err
			}
		}
		if cur == gatehouse.TeamOwner && c.Role != gatehouse.TeamOwner {
			n, err := countOwners(ctx, tx, c.TeamID)
			if err != nil {
				return err
			}
			if n <= 1 {
				return errLastOwner
			}
		}
		switch {
		case c.Role == "" && cur == "":
			return gatehouse.Errorf(gatehouse.ENotFound, "not a member of this team")
		case c.Role == cur:
			// The role it has already: nothing to write and nothing to audit.
		case c.Role == "":
			_, err = tx.NewDelete().Model((*memberRow)(nil)).Where("team_id = ? AND user_id = ?", c.TeamID, c.UserID).Exec(ctx)
		case cur == "":
			if _, err := s.userWhere(ctx, tx, "id = ?", c.UserID); err != nil {
				return err
			}
			_, err = tx.NewInsert().Model(&memberRow{TeamID: c.TeamID, UserID: c.UserID, Role: string(c.Role), CreatedAt: now}).Exec(ctx)
		default:
			_, err = tx.NewUpdate().Model((*memberRow)(nil)).Set("role = ?", string(c.Role)).
				Where("team_id = ? AND user_id = ?", c.TeamID, c.UserID).Exec(ctx)
		}
		if err != nil {
			return err
		}
		if c.Audit != nil && c.Role != cur {
			if err := insertAuditAt(ctx, tx, c.Audit(cur), now); err != nil {
				return err
			}
		}
		if c.Result == nil || c.Role == "" {
			return nil
		}
		m, err := memberWhere(ctx, tx, c.TeamID, c.UserID)
		if err != nil {
			return err
		}
		if m != nil {
			*c.Result = *m
		}
		return nil
	})
	return previous, err
}
