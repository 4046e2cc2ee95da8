package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/mail"
	"github.com/gatehousehq/gatehouse/internal/rbac"
	"github.com/gatehousehq/gatehouse/internal/store"
)

// InvitationValidity is how long an invitation's link and code work.
const InvitationValidity = 7 * 24 * time.Hour

// invitationAcceptPath is the page, under PUBLIC_URL, that the mailed link opens. Like the
// confirmation and reset pages it only shows a button: the POST to /api/v1/invitations/accept
// consumes the invitation, so a mail scanner following the link does no harm.
const invitationAcceptPath = "/invitations/accept"

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

func invitationData(inv *store.Invitation, now time.Time) invitationResponse {
	status := "pending"
	switch {
	case inv.AcceptedAt != nil:
		status = "accepted"
	case inv.RevokedAt != nil:
		status = "revoked"
	case !inv.Pending(now):
		status = "expired"
	}
	return invitationResponse{ID: inv.ID, TeamID: inv.TeamID, Email: inv.Email, Role: string(inv.Role), Status: status,
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
	switch role := gatehouse.TeamRole(req.Role); {
	case req.Role == "":
		p.Add("role", "is required")
	case !role.Valid():
		msg := "must be owner, admin, member or viewer"
		if gatehouse.Role(req.Role) == gatehouse.RoleMaintainer {
			msg += " (maintainer is a global role, not a team role)"
		}
		p.Add("role", msg)
	}
	return p.Err()
}

// errInvitationsDisabled answers an invitation request on a server without SMTP: the secrets are
// never returned, so an invitation that cannot be mailed could never be accepted.
var errInvitationsDisabled = gatehouse.Errorf(gatehouse.EForbidden,
	"invitations are sent by email, and email is not configured on this server (SMTP_HOST); add the member directly instead").
	WithReason("feature_disabled")

func (s *server) handleInvitations(w http.ResponseWriter, r *http.Request) error {
	_, teamID, _, err := s.teamAccess(r, rbac.ActInvitationsList)
	if err != nil {
		return err
	}
	page, after, err := IDPage(r)
	if err != nil {
		return err
	}
	invs, err := s.store.PendingInvitations(r.Context(), teamID, after, page.Limit)
	if err != nil {
		return err
	}
	now := s.now()
	out := make([]invitationResponse, len(invs))
	for i, inv := range invs {
		out[i] = invitationData(inv, now)
	}
	next := ""
	if len(invs) > 0 {
		next = NextIDCursor(len(invs), page.Limit, invs[len(invs)-1].ID)
	}
	return RespondPage(w, r, out, page.Limit, next)
}

func (s *server) handleInvitationCreate(w http.ResponseWriter, r *http.Request) error {
	// Inviting as member or viewer is the lesser right: without it the caller learns nothing
	// more (404 outside the team, 403 inside); the role asked for is checked once it is known,
	// and the scope with it (see teamRolesAccess).
	p, teamID, callerRole, err := s.teamRolesAccess(r, rbac.ActInvitationCreate)
	if err != nil {
		return err
	}
	if s.mailer == nil {
		return errInvitationsDisabled
	}
	var req invitationRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	role := gatehouse.TeamRole(req.Role)
	if err := rbac.Decide(p, rbac.InvitationCreateAction(role), callerRole); err != nil {
		return err
	}
	team, err := s.store.TeamByID(r.Context(), teamID)
	if err != nil {
		return err
	}
	tok, code := auth.NewOneTimeSecrets()
	inv, err := s.store.CreateInvitation(r.Context(), store.NewInvitation{
		TeamID: teamID, Email: req.Email, Role: role, InvitedBy: p.User.ID,
		TokenHash: s.auth.HashOneTimeSecret(tok), CodeHash: s.auth.HashOneTimeSecret(code), ExpiresAt: s.now().Add(InvitationValidity),
	})
	if err != nil {
		return err
	}
	content := mail.Invitation{
		Team: team.Name, Role: string(role), InvitedBy: p.User.Email,
		Link: s.publicURL + invitationAcceptPath + "?token=" + tok, Code: code, ValidFor: InvitationValidity,
	}
	if err := s.mailer.EnqueueTemplate(r.Context(), inv.Email, content); err != nil {
		// Without its email the invitation can never be accepted: take it back, so that the
		// address is not blocked by a pending invitation nobody received, and say so.
		if _, rerr := s.store.RevokeInvitation(r.Context(), teamID, inv.ID); rerr != nil {
			s.logger.Error("unsent invitation not revoked", "invitation_id", inv.ID, "error", rerr)
		}
		if gatehouse.ErrorCode(err) == gatehouse.EUnavailable {
			return err
		}
		return gatehouse.Wrap(gatehouse.EInternal, err, "the invitation email could not be queued")
	}
	s.audit(r.Context(), r, gatehouse.AuditEvent{Event: gatehouse.AuditInvitationCreated, Email: inv.Email,
		Detail: "team " + strconv.FormatInt(teamID, 10) + ": invitation " + strconv.FormatInt(inv.ID, 10) + " as " + string(role)})
	return RespondResource(w, r, http.StatusCreated, invitationData(inv, s.now()))
}

func (s *server) handleInvitationGet(w http.ResponseWriter, r *http.Request) error {
	_, teamID, _, err := s.teamAccess(r, rbac.ActInvitationRead)
	if err != nil {
		return err
	}
	id, err := pathID(r, "invitation_id", "invitation")
	if err != nil {
		return err
	}
	inv, err := s.store.InvitationByID(r.Context(), teamID, id)
	if err != nil {
		return err
	}
	return RespondResource(w, r, http.StatusOK, invitationData(inv, s.now()))
}

func (s *server) handleInvitationRevoke(w http.ResponseWriter, r *http.Request) error {
	_, teamID, _, err := s.teamAccess(r, rbac.ActInvitationRevoke)
	if err != nil {
		return err
	}
	id, err := pathID(r, "invitation_id", "invitation")
	if err != nil {
		return err
	}
	// If-Match is compared with the invitation as the transaction sees it (its status included,
	// so one that expired since it was read no longer matches).
	inv, err := s.store.RevokeInvitationIf(r.Context(), teamID, id, func(cur *store.Invitation) error {
		return CheckIfMatch(r, ETag(invitationData(cur, s.now())))
	})
	if err != nil {
		return err
	}
	s.audit(r.Context(), r, gatehouse.AuditEvent{Event: gatehouse.AuditInvitationRevoked, Email: inv.Email,
		Detail: "team " + strconv.FormatInt(teamID, 10) + ": invitation " + strconv.FormatInt(id, 10) + " as " + string(inv.Role)})
	return RespondResource(w, r, http.StatusOK, invitationData(inv, s.now()))
}

type acceptInvitationRequest struct {
	// Token is the link token or the code of the email.
	Token string `json:"token"`
}

func (s *server) handleInvitationAccept(w http.ResponseWriter, r *http.Request) error {
	p := gatehouse.PrincipalFrom(r.Context())
	if err := rbac.Decide(p, rbac.ActInvitationAccept, ""); err != nil {
		return err
	}
	var req acceptInvitationRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	if req.Token == "" {
		return gatehouse.FieldError("token", "is required")
	}
	// The lookup is bound to the caller's own address, so guessing codes can only ever find
	// invitations sent to the caller: there is nothing to gain, and nothing to throttle.
	inv, err := s.store.AcceptInvitation(r.Context(), s.auth.HashOneTimeSecret(req.Token), p.User.ID)
	if err != nil {
		return err
	}
	uid := p.User.ID
	s.audit(r.Context(), r, gatehouse.AuditEvent{Event: gatehouse.AuditInvitationAccepted, SubjectID: &uid, Email: inv.Email,
		Detail: "team " + strconv.FormatInt(inv.TeamID, 10) + ": invitation " + strconv.FormatInt(inv.ID, 10) + ", joined as " + string(inv.Role)})
	team, err := s.store.TeamByID(r.Context(), inv.TeamID)
	if err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, teamData(team, inv.Role))
}
