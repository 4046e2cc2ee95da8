package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

type teamRow struct {
	bun.BaseModel `bun:"table:teams,alias:t"`

	ID          int64     `bun:"id,pk,autoincrement"`
	Name        string    `bun:"name"`
	Description string    `bun:"description"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
	// Version is bumped by every membership change; see 00015_teams_version.sql.
	Version int64 `bun:"version"`
}

type memberRow struct {
	bun.BaseModel `bun:"table:team_members,alias:tm"`

	TeamID    int64     `bun:"team_id,pk"`
	UserID    int64     `bun:"user_id,pk"`
	Role      string    `bun:"role"`
	CreatedAt time.Time `bun:"created_at"`
}

func (r *teamRow) toDomain() *gatehouse.Team {
	return &gatehouse.Team{ID: r.ID, Name: r.Name, Description: r.Description, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}
}

func validateTeam(t *gatehouse.Team) error {
	switch {
	case strings.TrimSpace(t.Name) == "":
		return gatehouse.FieldError("name", "is required")
	case len([]rune(t.Name)) > 200:
		return gatehouse.FieldError("name", "must be at most 200 characters")
	case len([]rune(t.Description)) > 2000:
		return gatehouse.FieldError("description", "must be at most 2000 characters")
	}
	if problem := gatehouse.DisplayTextProblem(t.Name, false); problem != "" {
		return gatehouse.FieldError("name", problem)
	}
	if problem := gatehouse.DisplayTextProblem(t.Description, true); problem != "" {
		return gatehouse.FieldError("description", problem)
	}
	return nil
}

// CreateTeam inserts t and makes owner its owner, in one transaction.
func (s *Store) CreateTeam(ctx context.Context, t *gatehouse.Team, owner int64) error {
	return s.CreateTeamAudited(ctx, t, owner, nil)
}

// CreateTeamAudited is CreateTeam that also records the audit event audit returns for the new
// team (nil: none), in the same transaction: a team is never created without its event.
func (s *Store) CreateTeamAudited(ctx context.Context, t *gatehouse.Team, owner int64, audit func(*gatehouse.Team) gatehouse.AuditEvent) (err error) {
	defer wrapErr(&err, "store.CreateTeam(%q, owner=%d)", t.Name, owner)
	if err := validateTeam(t); err != nil {
		return err
	}
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := &teamRow{Name: t.Name, Description: t.Description, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return err
		}
		m := &memberRow{TeamID: row.ID, UserID: owner, Role: string(gatehouse.TeamOwner), CreatedAt: now}
		if _, err := tx.NewInsert().Model(m).Exec(ctx); err != nil {
			return err
		}
		t.ID, t.CreatedAt, t.UpdatedAt = row.ID, now, now
		if audit != nil {
			return insertAuditAt(ctx, tx, audit(t), now)
		}
		return nil
	})
}

// TeamByID returns the team or ENotFound.
func (s *Store) TeamByID(ctx context.Context, id int64) (t *gatehouse.Team, err error) {
	defer wrapErr(&err, "store.TeamByID(%d)", id)
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := new(teamRow)
		if err := tx.NewSelect().Model(row).Where("id = ?", id).Scan(ctx); err != nil {
			return notFound(err, "team not found")
		}
		t = row.toDomain()
		return nil
	})
	return t, err
}

// SetMembership adds the user to the team with m.Role, or changes the role of a member, keeping
// at least one owner (see ChangeMember).
func (s *Store) SetMembership(ctx context.Context, m *gatehouse.Membership) error {
	if !m.Role.Valid() {
		return gatehouse.FieldError("role", fmt.Sprintf("unknown team role %q", m.Role))
	}
	_, err := s.ChangeMember(ctx, gatehouse.MemberChange{TeamID: m.TeamID, UserID: m.UserID, Role: m.Role})
	return err
}

// Memberships lists the user's memberships, oldest team first. API-key requests of accounts
// without a global role ask it every time (the key's scopes depend on the team roles), so it is a
// prepared single statement (see prepared.go).
func (s *Store) Memberships(ctx context.Context, userID int64) (ms []gatehouse.Membership, err error) {
	defer wrapErr(&err, "store.Memberships(%d)", userID)
	build := func() string {
		return "SELECT " + columnsOf[memberRow](s, "tm") + " FROM team_members tm WHERE tm.user_id = ? ORDER BY tm.team_id"
	}
	err = s.readStmt(ctx, func(ctx context.Context) error {
		ms = []gatehouse.Membership{}
		st, err := s.prepared(ctx, "memberships", build) //nolint:sqlclosecheck // owned by the Store (prepared.go)
		if err != nil {
			return err
		}
		rows, err := st.QueryContext(ctx, userID)
		if err != nil {
			return err
		}
		defer rows.Close()
		var r memberRow
		dest := fieldPtrs(make([]any, 0, 4), &r, fieldsOf[memberRow](s))
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			ms = append(ms, gatehouse.Membership{TeamID: r.TeamID, UserID: r.UserID, Role: gatehouse.TeamRole(r.Role), CreatedAt: utc(r.CreatedAt)})
		}
		return rows.Err()
	})
	return ms, err
}

// insertAuditAt is insertAudit (audit.go) for the events of team changes, whose At defaults to
// now, the transaction's time.
func insertAuditAt(ctx context.Context, tx bun.Tx, ev gatehouse.AuditEvent, now time.Time) error {
	if ev.At.IsZero() {
		ev.At = now
	}
	return insertAudit(ctx, tx, ev)
}
