package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/teams"
	"github.com/gatehousehq/gatehouse/rest"
)

type teamResponse struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Role        string    `json:"role,omitzero"` // the caller's role in the team
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func teamData(t *gatehouse.Team, role gatehouse.TeamRole) teamResponse {
	return teamResponse{ID: t.ID, Name: t.Name, Description: t.Description, Role: string(role), CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

func teamWithRoleData(t *gatehouse.TeamWithRole) teamResponse { return teamData(&t.Team, t.Role) }

type teamRequest struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

// teamPatch is the body of a team request, read when the service asks for it.
func teamPatch(r *http.Request) teams.Input[gatehouse.TeamPatch] {
	return func() (gatehouse.TeamPatch, error) {
		var req teamRequest
		err := rest.Decode(r, &req)
		return gatehouse.TeamPatch{Name: req.Name, Description: req.Description}, err
	}
}

// pathTeamID reads the team of the path: anything but a positive number names no team (404).
func pathTeamID(r *http.Request) (int64, error) { return rest.PathID(r, "id", "team") }

// innerID reads the id of a resource inside the team. A malformed one is 0, which the service
// answers with not_found once it has decided that the caller may act: a caller who may not
// hears 403 or 404 for the team, whatever the rest of the path.
func innerID(r *http.Request, name string) int64 {
	id, _ := rest.PathID(r, name, "")
	return id
}

// teamsClient is where the request came from, for the audit trail.
func (s *server) teamsClient(r *http.Request) teams.Client { return teams.Client(s.client(r)) }

// idPage is the page of a list ordered by id, read when the service asks for it; limit is the
// page size it asked for.
type idPage struct {
	r     *http.Request
	limit int
}

func (p *idPage) read() (teams.Page, error) {
	pg, after, err := rest.IDPage(p.r)
	p.limit = pg.Limit
	return teams.Page{After: after, Limit: pg.Limit}, err
}

// respondIDPage writes a list the service fetched with one item more than the page (see
// rest.Paginate), each item as wire makes it.
func respondIDPage[T, W any](w http.ResponseWriter, r *http.Request, items []T, pg *idPage, id func(T) int64, wire func(T) W) error {
	items, next := rest.Paginate(items, pg.limit, func(x T) any { return id(x) })
	out := make([]W, len(items))
	for i, x := range items {
		out[i] = wire(x)
	}
	return rest.RespondPage(w, r, out, pg.limit, next)
}

func teamPath(id int64) string { return "/api/v1/teams/" + strconv.FormatInt(id, 10) }

func (s *server) handleTeamCreate(w http.ResponseWriter, r *http.Request) error {
	t, err := s.teams.CreateTeam(r.Context(), gatehouse.PrincipalFrom(r.Context()), s.teamsClient(r), teamPatch(r))
	if err != nil {
		return err
	}
	return rest.RespondCreated(w, r, teamPath(t.ID), teamWithRoleData(t))
}

func (s *server) handleTeamList(w http.ResponseWriter, r *http.Request) error {
	pg := &idPage{r: r}
	ts, err := s.teams.ListTeams(r.Context(), gatehouse.PrincipalFrom(r.Context()), pg.read)
	if err != nil {
		return err
	}
	return respondIDPage(w, r, ts, pg, func(t gatehouse.TeamWithRole) int64 { return t.ID },
		func(t gatehouse.TeamWithRole) teamResponse { return teamWithRoleData(&t) })
}

func (s *server) handleTeamGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTeamID(r)
	if err != nil {
		return err
	}
	t, err := s.teams.Team(r.Context(), gatehouse.PrincipalFrom(r.Context()), id)
	if err != nil {
		return err
	}
	return rest.RespondResource(w, r, http.StatusOK, teamWithRoleData(t))
}

// teamIfMatch checks If-Match against the team as the transaction sees it.
func teamIfMatch(r *http.Request) teams.Precondition[gatehouse.TeamWithRole] {
	return func(cur *gatehouse.TeamWithRole) error { return rest.CheckIfMatch(r, rest.ETag(teamWithRoleData(cur))) }
}

func (s *server) handleTeamPatch(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTeamID(r)
	if err != nil {
		return err
	}
	t, err := s.teams.UpdateTeam(r.Context(), gatehouse.PrincipalFrom(r.Context()), id, teamPatch(r), teamIfMatch(r))
	if err != nil {
		return err
	}
	return rest.RespondResource(w, r, http.StatusOK, teamWithRoleData(t))
}

func (s *server) handleTeamDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTeamID(r)
	if err != nil {
		return err
	}
	if err := s.teams.DeleteTeam(r.Context(), gatehouse.PrincipalFrom(r.Context()), s.teamsClient(r), id, teamIfMatch(r)); err != nil {
		return err
	}
	return rest.Respond(w, r, http.StatusOK, messageResponse{Message: "team deleted"})
}

func (s *server) handleTeamLeave(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTeamID(r)
	if err != nil {
		return err
	}
	if err := s.teams.LeaveTeam(r.Context(), gatehouse.PrincipalFrom(r.Context()), s.teamsClient(r), id); err != nil {
		return err
	}
	return rest.Respond(w, r, http.StatusOK, messageResponse{Message: "you left the team"})
}
