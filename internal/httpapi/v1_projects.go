package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehousehq/gatehouse/internal/rbac"
	"github.com/gatehousehq/gatehouse/internal/store"
)

// The projects endpoints are the example of an application resource owned by a team: decode,
// ask rbac with the caller's team role, call the store, answer with a wire type. See
// docs/extending.md.

type projectResponse struct {
	ID          int64     `json:"id"`
	TeamID      int64     `json:"team_id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedBy   *int64    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func projectData(p *store.Project) projectResponse {
	return projectResponse{ID: p.ID, TeamID: p.TeamID, Name: p.Name, Description: p.Description, CreatedBy: p.CreatedBy,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

type projectRequest struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

func (s *server) handleProjects(w http.ResponseWriter, r *http.Request) error {
	_, teamID, _, err := s.teamAccess(r, rbac.ActProjectsList)
	if err != nil {
		return err
	}
	page, after, err := IDPage(r)
	if err != nil {
		return err
	}
	ps, err := s.store.Projects(r.Context(), teamID, after, page.Limit)
	if err != nil {
		return err
	}
	out := make([]projectResponse, len(ps))
	for i, p := range ps {
		out[i] = projectData(p)
	}
	next := ""
	if len(ps) > 0 {
		next = NextIDCursor(len(ps), page.Limit, ps[len(ps)-1].ID)
	}
	return RespondPage(w, r, out, page.Limit, next)
}

func (s *server) handleProjectCreate(w http.ResponseWriter, r *http.Request) error {
	p, teamID, _, err := s.teamAccess(r, rbac.ActProjectCreate)
	if err != nil {
		return err
	}
	var req projectRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	uid := p.User.ID
	pr := &store.Project{TeamID: teamID, CreatedBy: &uid}
	if req.Name != nil {
		pr.Name = *req.Name
	}
	if req.Description != nil {
		pr.Description = *req.Description
	}
	if err := s.store.CreateProject(r.Context(), pr); err != nil {
		return err
	}
	return RespondResource(w, r, http.StatusCreated, projectData(pr))
}

func (s *server) handleProjectGet(w http.ResponseWriter, r *http.Request) error {
	_, teamID, _, err := s.teamAccess(r, rbac.ActProjectRead)
	if err != nil {
		return err
	}
	id, err := pathID(r, "project_id", "project")
	if err != nil {
		return err
	}
	pr, err := s.store.ProjectByID(r.Context(), teamID, id)
	if err != nil {
		return err
	}
	return RespondResource(w, r, http.StatusOK, projectData(pr))
}

// ifMatch checks If-Match against the resource as the transaction sees it.
func ifMatch(r *http.Request) func(*store.Project) error {
	return func(cur *store.Project) error { return CheckIfMatch(r, ETag(projectData(cur))) }
}

func (s *server) handleProjectPatch(w http.ResponseWriter, r *http.Request) error {
	_, teamID, _, err := s.teamAccess(r, rbac.ActProjectUpdate)
	if err != nil {
		return err
	}
	id, err := pathID(r, "project_id", "project")
	if err != nil {
		return err
	}
	var req projectRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	pr, err := s.store.UpdateProject(r.Context(), teamID, id, req.Name, req.Description, ifMatch(r))
	if err != nil {
		return err
	}
	return RespondResource(w, r, http.StatusOK, projectData(pr))
}

func (s *server) handleProjectDelete(w http.ResponseWriter, r *http.Request) error {
	_, teamID, _, err := s.teamAccess(r, rbac.ActProjectDelete)
	if err != nil {
		return err
	}
	id, err := pathID(r, "project_id", "project")
	if err != nil {
		return err
	}
	if err := s.store.DeleteProject(r.Context(), teamID, id, ifMatch(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, messageResponse{Message: "project deleted"})
}
