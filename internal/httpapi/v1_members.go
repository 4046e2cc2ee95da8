package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/teams"
	"github.com/gatehousehq/gatehouse/rest"
)

// The members endpoints of a team (routes in teamRoutes).

type memberResponse struct {
	UserID    int64     `json:"user_id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

func memberData(m *gatehouse.Member) memberResponse {
	return memberResponse{UserID: m.UserID, Email: m.Email, Role: string(m.Role), CreatedAt: m.CreatedAt}
}

type memberRequest struct {
	Role string `json:"role"`
}

// teamRoleProblem says what is wrong with a team role given as role, "" when nothing is.
func teamRoleProblem(role string) string {
	if gatehouse.TeamRole(role).Valid() {
		return ""
	}
	msg := "must be owner, admin, member or viewer"
	if gatehouse.Role(role) == gatehouse.RoleMaintainer {
		msg += " (maintainer is a global role, not a team role)"
	}
	return msg
}

// memberRole is the role of a member request, read when the service asks for it.
func memberRole(r *http.Request) teams.Input[gatehouse.TeamRole] {
	return func() (gatehouse.TeamRole, error) {
		var req memberRequest
		if err := rest.Decode(r, &req); err != nil {
			return "", err
		}
		if problem := teamRoleProblem(req.Role); problem != "" {
			return "", gatehouse.FieldError("role", problem)
		}
		return gatehouse.TeamRole(req.Role), nil
	}
}

func (s *server) handleMembers(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTeamID(r)
	if err != nil {
		return err
	}
	pg := &idPage{r: r}
	ms, err := s.teams.Members(r.Context(), gatehouse.PrincipalFrom(r.Context()), id, pg.read)
	if err != nil {
		return err
	}
	return respondIDPage(w, r, ms, pg, func(m gatehouse.Member) int64 { return m.UserID },
		func(m gatehouse.Member) memberResponse { return memberData(&m) })
}

func (s *server) handleMemberGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTeamID(r)
	if err != nil {
		return err
	}
	m, err := s.teams.Member(r.Context(), gatehouse.PrincipalFrom(r.Context()), id, innerID(r, "user_id"))
	if err != nil {
		return err
	}
	return rest.RespondResource(w, r, http.StatusOK, memberData(m))
}

// memberIfMatch checks If-Match against the membership as the transaction sees it; nil (no
// check, and no extra read) without the header. A membership that no longer exists matches no
// ETag, not even *: the client read a member that has since left.
func memberIfMatch(r *http.Request) teams.Precondition[gatehouse.Member] {
	if r.Header.Get("If-Match") == "" {
		return nil
	}
	return func(cur *gatehouse.Member) error {
		if cur == nil {
			return &gatehouse.Error{Code: gatehouse.EPrecondition, Message: "the member left the team since you read it (If-Match names a membership that no longer exists); read it again"}
		}
		return rest.CheckIfMatch(r, rest.ETag(memberData(cur)))
	}
}

func (s *server) handleMemberPut(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTeamID(r)
	if err != nil {
		return err
	}
	userID := innerID(r, "user_id")
	m, created, err := s.teams.SetMember(r.Context(), gatehouse.PrincipalFrom(r.Context()), s.teamsClient(r), id, userID, memberRole(r), memberIfMatch(r))
	if err != nil {
		return err
	}
	if created {
		return rest.RespondCreated(w, r, teamPath(id)+"/members/"+strconv.FormatInt(userID, 10), memberData(m))
	}
	return rest.RespondResource(w, r, http.StatusOK, memberData(m))
}

func (s *server) handleMemberDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTeamID(r)
	if err != nil {
		return err
	}
	if err := s.teams.RemoveMember(r.Context(), gatehouse.PrincipalFrom(r.Context()), s.teamsClient(r), id, innerID(r, "user_id"), memberIfMatch(r)); err != nil {
		return err
	}
	return rest.Respond(w, r, http.StatusOK, messageResponse{Message: "member removed"})
}
