package teams

import (
	"context"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
)

// Projects are the example of an application resource owned by a team (docs/extending.md):
// the team's roles decide, with the caller's role in the team that owns the project.

// errNoProject answers a project id that is not a number.
var errNoProject = gatehouse.Errorf(gatehouse.ENotFound, "project not found")

// Projects lists the team's projects by id. It returns up to one project more than the page's
// limit when more follow (see page).
func (s *Service) Projects(ctx context.Context, p *gatehouse.Principal, teamID int64, in Input[Page]) ([]*gatehouse.Project, error) {
	if _, err := s.access(ctx, p, teamID, rbac.ActProjectsList); err != nil {
		return nil, err
	}
	after, limit, err := page(in)
	if err != nil {
		return nil, err
	}
	return s.store.Projects(ctx, teamID, after, limit)
}

// CreateProject creates a project in the team, created by p.
func (s *Service) CreateProject(ctx context.Context, p *gatehouse.Principal, teamID int64, in Input[gatehouse.ProjectPatch]) (*gatehouse.Project, error) {
	if _, err := s.access(ctx, p, teamID, rbac.ActProjectCreate); err != nil {
		return nil, err
	}
	patch, err := in()
	if err != nil {
		return nil, err
	}
	uid := p.User.ID
	pr := &gatehouse.Project{TeamID: teamID, CreatedBy: &uid}
	if patch.Name != nil {
		pr.Name = *patch.Name
	}
	if patch.Description != nil {
		pr.Description = *patch.Description
	}
	if err := s.store.CreateProject(ctx, pr); err != nil {
		return nil, err
	}
	return pr, nil
}

// Project returns one of the team's projects.
func (s *Service) Project(ctx context.Context, p *gatehouse.Principal, teamID, id int64) (*gatehouse.Project, error) {
	if _, err := s.access(ctx, p, teamID, rbac.ActProjectRead); err != nil {
		return nil, err
	}
	if id <= 0 {
		return nil, errNoProject
	}
	return s.store.ProjectByID(ctx, teamID, id)
}

// UpdateProject changes one of the team's projects; pre runs on it as the change's transaction
// sees it.
func (s *Service) UpdateProject(ctx context.Context, p *gatehouse.Principal, teamID, id int64, in Input[gatehouse.ProjectPatch],
	pre Precondition[gatehouse.Project]) (*gatehouse.Project, error) {
	if _, err := s.access(ctx, p, teamID, rbac.ActProjectUpdate); err != nil {
		return nil, err
	}
	if id <= 0 {
		return nil, errNoProject
	}
	patch, err := in()
	if err != nil {
		return nil, err
	}
	return s.store.UpdateProject(ctx, teamID, id, patch, pre)
}

// DeleteProject deletes one of the team's projects; pre runs on it as the deletion's
// transaction sees it.
func (s *Service) DeleteProject(ctx context.Context, p *gatehouse.Principal, teamID, id int64, pre Precondition[gatehouse.Project]) error {
	if _, err := s.access(ctx, p, teamID, rbac.ActProjectDelete); err != nil {
		return err
	}
	if id <= 0 {
		return errNoProject
	}
	return s.store.DeleteProject(ctx, teamID, id, pre)
}
