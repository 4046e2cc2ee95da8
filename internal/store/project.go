package store

import (
	"context"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

type projectRow struct {
	bun.BaseModel `bun:"table:projects,alias:p"`

	ID          int64     `bun:"id,pk,autoincrement"`
	TeamID      int64     `bun:"team_id"`
	Name        string    `bun:"name"`
	Description string    `bun:"description"`
	CreatedBy   *int64    `bun:"created_by"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

func (r *projectRow) toProject() *gatehouse.Project {
	return &gatehouse.Project{ID: r.ID, TeamID: r.TeamID, Name: r.Name, Description: r.Description, CreatedBy: r.CreatedBy,
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}
}

func validateProject(p *gatehouse.Project) error {
	switch {
	case strings.TrimSpace(p.Name) == "":
		return gatehouse.FieldError("name", "is required")
	case len([]rune(p.Name)) > 200:
		return gatehouse.FieldError("name", "must be at most 200 characters")
	case len([]rune(p.Description)) > 2000:
		return gatehouse.FieldError("description", "must be at most 2000 characters")
	}
	if problem := gatehouse.DisplayTextProblem(p.Name, false); problem != "" {
		return gatehouse.FieldError("name", problem)
	}
	if problem := gatehouse.DisplayTextProblem(p.Description, true); problem != "" {
		return gatehouse.FieldError("description", problem)
	}
	return nil
}

// CreateProject inserts p in its team.
func (s *Store) CreateProject(ctx context.Context, p *gatehouse.Project) (err error) {
	defer wrapErr(&err, "store.CreateProject(team=%d)", p.TeamID)
	if err := validateProject(p); err != nil {
		return err
	}
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := &projectRow{TeamID: p.TeamID, Name: p.Name, Description: p.Description, CreatedBy: p.CreatedBy, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return err
		}
		*p = *row.toProject()
		return nil
	})
}

// Projects lists a team's projects by id after the id after.
func (s *Store) Projects(ctx context.Context, teamID, after int64, limit int) (out []*gatehouse.Project, err error) {
	defer wrapErr(&err, "store.Projects(team=%d)", teamID)
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []projectRow
		if err := tx.NewSelect().Model(&rows).Where("team_id = ? AND id > ?", teamID, after).OrderExpr("id").Limit(int64(limit)).Scan(ctx); err != nil {
			return err
		}
		out = make([]*gatehouse.Project, len(rows))
		for i := range rows {
			out[i] = rows[i].toProject()
		}
		return nil
	})
	return out, err
}

// ProjectByID returns the team's project, or ENotFound (also when it belongs to another team).
func (s *Store) ProjectByID(ctx context.Context, teamID, id int64) (p *gatehouse.Project, err error) {
	defer wrapErr(&err, "store.ProjectByID(team=%d, %d)", teamID, id)
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := new(projectRow)
		if err := tx.NewSelect().Model(row).Where("team_id = ? AND id = ?", teamID, id).Scan(ctx); err != nil {
			return notFound(err, "project not found")
		}
		p = row.toProject()
		return nil
	})
	return p, err
}

// UpdateProject applies patch to a project; check runs on the current version inside the
// transaction (the If-Match comparison) before anything is written.
func (s *Store) UpdateProject(ctx context.Context, teamID, id int64, patch gatehouse.ProjectPatch, check func(*gatehouse.Project) error) (p *gatehouse.Project, err error) {
	defer wrapErr(&err, "store.UpdateProject(team=%d, %d)", teamID, id)
	now := utc(s.now())
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := new(projectRow)
		if err := tx.NewSelect().Model(row).Where("team_id = ? AND id = ?", teamID, id).Scan(ctx); err != nil {
			return notFound(err, "project not found")
		}
		if check != nil {
			if err := check(row.toProject()); err != nil {
				return err
			}
		}
		before := *row
		if patch.Name != nil {
			row.Name = *patch.Name
		}
		if patch.Description != nil {
			row.Description = *patch.Description
		}
		cand := row.toProject()
		if err := validateProject(cand); err != nil {
			return err
		}
		if row.Name == before.Name && row.Description == before.Description {
			// Nothing changes: no write, and updated_at and the ETag stay (see UpdateTeam).
			p = cand
			return nil
		}
		row.UpdatedAt = now
		if _, err := tx.NewUpdate().Model(row).Column("name", "description", "updated_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		p = row.toProject()
		return nil
	})
	return p, err
}

// DeleteProject deletes a team's project; check runs on it first, inside the transaction.
func (s *Store) DeleteProject(ctx context.Context, teamID, id int64, check func(*gatehouse.Project) error) (err error) {
	defer wrapErr(&err, "store.DeleteProject(team=%d, %d)", teamID, id)
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := new(projectRow)
		if err := tx.NewSelect().Model(row).Where("team_id = ? AND id = ?", teamID, id).Scan(ctx); err != nil {
			return notFound(err, "project not found")
		}
		if check != nil {
			if err := check(row.toProject()); err != nil {
				return err
			}
		}
		_, err := tx.NewDelete().Model((*projectRow)(nil)).Where("id = ?", id).Exec(ctx)
		return err
	})
}
