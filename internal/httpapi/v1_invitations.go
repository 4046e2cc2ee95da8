package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/teams"
	"github.com/gatehousehq/gatehouse/rest"
)

// invitationResponse is an invitation on the wire. Its secrets are never part of it: they exist
// only in the email.
type invitationResponse struct {
	ID        int64     `json:"id"`
	TeamID    int64     `json:"team_id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	Status    string    `json:"status"` // pending, accepted, revoked or expired
	InvitedBy *int64    `json:"invited_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func invitationData(inv *gatehouse.Invitation, now time.Time) invitationResponse {
	return invitationResponse{ID: inv.ID, TeamID: inv.TeamID, Email: inv.Email, Role: string(inv.Role), Status: string(inv.Status(now)),
		InvitedBy: inv.InvitedBy, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt}
}

type invitationRequest struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// Validate reports every problem with the address and the role at once.
func (req *invitationRequest) Validate() error {
	var p Problems
	email, err := auth.ValidateNewEmail("email", req.Email)
	if err != nil {
		p.Add("email", gatehouse.ErrorFields(err)["email"])
	}
	req.Email = email
	if req.Role == "" {
		p.Add("role", "is required")
	} else if problem := teamRoleProblem(req.Role); problem != "" {
		p.Add("role", problem)
	}
	return p.Err()
}

// invitationInput is the body of an invitation request, read when the service asks for it.
func invitationInput(r *http.Request) teams.Input[teams.InvitationInput] {
	return func() (teams.InvitationInput, error) {
		var req invitationRequest
		if err := rest.Decode(r, &req); err != nil {
			return teams.InvitationInput{}, err
		}
		return teams.InvitationInput{Email: req.Email, Role: gatehouse.TeamRole(req.Role)}, nil
	}
}

func (s *server) handleInvitations(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTeamID(r)
	if err != nil {
		return err
	}
	pg := &idPage{r: r}
	invs, err := s.teams.Invitations(r.Context(), gatehouse.PrincipalFrom(r.Context()), id, pg.read)
	if err != nil {
		return err
	}
	now := s.now()
	return respondIDPage(w, r, invs, pg, func(inv *gatehouse.Invitation) int64 { return inv.ID },
		func(inv *gatehouse.Invitation) invitationResponse { return invitationData(inv, now) })
}

func (s *server) handleInvitationCreate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTeamID(r)
	if err != nil {
		return err
	}
	inv, err := s.teams.CreateInvitation(r.Context(), gatehouse.PrincipalFrom(r.Context()), s.teamsClient(r), id, invitationInput(r))
	if err != nil {
		return err
	}
	return rest.RespondCreated(w, r, teamPath(id)+"/invitations/"+strconv.FormatInt(inv.ID, 10), invitationData(inv, s.now()))
}

func (s *server) handleInvitationGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTeamID(r)
	if err != nil {
		return err
	}
	inv, err := s.teams.Invitation(r.Context(), gatehouse.PrincipalFrom(r.Context()), id, innerID(r, "invitation_id"))
	if err != nil {
		return err
	}
	return rest.RespondResource(w, r, http.StatusOK, invitationData(inv, s.now()))
}

func (s *server) handleInvitationRevoke(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTeamID(r)
	if err != nil {
		return err
	}
	// If-Match is compared with the invitation as the transaction sees it (its status included,
	// so one that expired since it was read no longer matches).
	inv, err := s.teams.RevokeInvitation(r.Context(), gatehouse.PrincipalFrom(r.Context()), s.teamsClient(r), id, innerID(r, "invitation_id"),
		func(cur *gatehouse.Invitation) error {
			return rest.CheckIfMatch(r, rest.ETag(invitationData(cur, s.now())))
		})
	if err != nil {
		return err
	}
	return rest.RespondResource(w, r, http.StatusOK, invitationData(inv, s.now()))
}

type acceptInvitationRequest struct {
	// Token is the link token or the code of the email.
	Token string `json:"token"`
}

func (s *server) handleInvitationAccept(w http.ResponseWriter, r *http.Request) error {
	inv, team, err := s.teams.AcceptInvitation(r.Context(), gatehouse.PrincipalFrom(r.Context()), s.teamsClient(r), func() (string, error) {
		var req acceptInvitationRequest
		if err := rest.Decode(r, &req); err != nil {
			return "", err
		}
		if req.Token == "" {
			return "", gatehouse.FieldError("token", "is required")
		}
		return req.Token, nil
	})
	if err != nil {
		return err
	}
	return rest.Respond(w, r, http.StatusOK, teamData(team, inv.Role))
}
