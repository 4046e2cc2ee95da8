package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/teams"
	"github.com/gatehousehq/gatehouse/rest"
)

// The projects endpoints are the example of an application resource owned by a team: decode,
// call the teams service (which asks rbac with the caller's team role and uses the store),
// answer with a wire type. See docs/extending.md. Routes in teamRoutes.

type projectResponse struct {
	ID          int64     `json:"id"`
	TeamID      int64     `json:"team_id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedBy   *int64    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func projectData(p *gatehouse.Project) projectResponse {
	return projectResponse{ID: p.ID, TeamID: p.TeamID, Name: p.Name, Description: p.Description, CreatedBy: p.CreatedBy,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

type projectRequest struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

// projectPatch is the body of a project request, read when the service asks for it.
func projectPatch(r *http.Request) teams.Input[gatehouse.ProjectPatch] {
	return func() (gatehouse.ProjectPatch, error) {
		var req projectRequest
		err := rest.Decode(r, &req)
		return gatehouse.ProjectPatch{Name: req.Name, Description: req.Description}, err
	}
}

func (s *server) handleProjects(w http.ResponseWriter, r *http.Request) error {
	teamID, err := pathTeamID(r)
	if err != nil {
		return err
	}
	pg := &idPage{r: r}
	ps, err := s.teams.Projects(r.Context(), gatehouse.PrincipalFrom(r.Context()), teamID, pg.read)
	if err != nil {
		return err
	}
	return respondIDPage(w, r, ps, pg, func(p *gatehouse.Project) int64 { return p.ID }, projectData)
}

func (s *server) handleProjectCreate(w http.ResponseWriter, r *http.Request) error {
	teamID, err := pathTeamID(r)
	if err != nil {
		return err
	}
	pr, err := s.teams.CreateProject(r.Context(), gatehouse.PrincipalFrom(r.Context()), teamID, projectPatch(r))
	if err != nil {
		return err
	}
	return rest.RespondCreated(w, r, teamPath(teamID)+"/projects/"+strconv.FormatInt(pr.ID, 10), projectData(pr))
}

func (s *server) handleProjectGet(w http.ResponseWriter, r *http.Request) error {
	teamID, err := pathTeamID(r)
	if err != nil {
		return err
	}
	pr, err := s.teams.Project(r.Context(), gatehouse.PrincipalFrom(r.Context()), teamID, innerID(r, "project_id"))
	if err != nil {
		return err
	}
	return rest.RespondResource(w, r, http.StatusOK, projectData(pr))
}

// projectIfMatch checks If-Match against the project as the transaction sees it.
func projectIfMatch(r *http.Request) teams.Precondition[gatehouse.Project] {
	return func(cur *gatehouse.Project) error { return rest.CheckIfMatch(r, rest.ETag(projectData(cur))) }
}

func (s *server) handleProjectPatch(w http.ResponseWriter, r *http.Request) error {
	teamID, err := pathTeamID(r)
	if err != nil {
		return err
	}
	pr, err := s.teams.UpdateProject(r.Context(), gatehouse.PrincipalFrom(r.Context()), teamID, innerID(r, "project_id"), projectPatch(r), projectIfMatch(r))
	if err != nil {
		return err
	}
	return rest.RespondResource(w, r, http.StatusOK, projectData(pr))
}

func (s *server) handleProjectDelete(w http.ResponseWriter, r *http.Request) error {
	teamID, err := pathTeamID(r)
	if err != nil {
		return err
	}
	if err := s.teams.DeleteProject(r.Context(), gatehouse.PrincipalFrom(r.Context()), teamID, innerID(r, "project_id"), projectIfMatch(r)); err != nil {
		return err
	}
	return rest.Respond(w, r, http.StatusOK, messageResponse{Message: "project deleted"})
}
