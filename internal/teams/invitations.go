package teams

import (
	"context"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/mail"
	"github.com/gatehousehq/gatehouse/internal/rbac"
)

// ErrInvitationsDisabled answers an invitation on a server without SMTP: the secrets are never
// returned, so an invitation that cannot be mailed could never be accepted.
var ErrInvitationsDisabled = gatehouse.Errorf(gatehouse.EForbidden,
	"invitations are sent by email, and email is not configured on this server (SMTP_HOST); add the member directly instead").
	WithReason("feature_disabled")

// errNoInvitation answers an invitation id that is not a number.
var errNoInvitation = gatehouse.Errorf(gatehouse.ENotFound, "invitation not found")

// InvitationInput is an invitation to send: the address (validated) and the team role offered.
type InvitationInput struct {
	Email string
	Role  gatehouse.TeamRole
}

// Invitations lists the team's pending invitations by id. It returns up to one invitation more
// than the page's limit when more follow (see page).
func (s *Service) Invitations(ctx context.Context, p *gatehouse.Principal, teamID int64, in Input[Page]) ([]*gatehouse.Invitation, error) {
	if _, err := s.access(ctx, p, teamID, rbac.ActInvitationsList); err != nil {
		return nil, err
	}
	after, limit, err := page(in)
	if err != nil {
		return nil, err
	}
	return s.store.PendingInvitations(ctx, teamID, after, limit)
}

// Invitation returns one of the team's invitations, whatever its state.
func (s *Service) Invitation(ctx context.Context, p *gatehouse.Principal, teamID, id int64) (*gatehouse.Invitation, error) {
	if _, err := s.access(ctx, p, teamID, rbac.ActInvitationRead); err != nil {
		return nil, err
	}
	if id <= 0 {
		return nil, errNoInvitation
	}
	return s.store.InvitationByID(ctx, teamID, id)
}

// CreateInvitation invites an address to the team: it makes the link token and the code, renders
// the email, and writes the invitation (with only the secrets' hashes), its audit event and the
// email in one transaction, so that no invitation is ever pending without its email queued.
//
// Inviting as member or viewer is the lesser right: without it, by roles, the caller learns
// nothing more (404 outside the team, 403 inside), whatever it sent and whether or not email is
// configured. The one decision, scope included, is taken once the role offered is known
// (rbac.InvitationCreateAction).
func (s *Service) CreateInvitation(ctx context.Context, p *gatehouse.Principal, c Client, teamID int64, in Input[InvitationInput]) (*gatehouse.Invitation, error) {
	callerRole, err := s.role(ctx, p, teamID)
	if err != nil {
		return nil, err
	}
	if err := rbac.RolesGrant(p, rbac.ActInvitationCreate, callerRole); err != nil {
		return nil, err
	}
	if s.mailer == nil {
		return nil, ErrInvitationsDisabled
	}
	req, err := in()
	if err != nil {
		return nil, err
	}
	if err := rbac.Decide(p, rbac.InvitationCreateAction(req.Role), callerRole); err != nil {
		return nil, err
	}
	sent, err := s.invitationMail(ctx, p, teamID, req.Email, req.Role)
	if err != nil {
		return nil, err
	}
	inv, err := s.store.CreateInvitation(ctx, gatehouse.NewInvitation{
		TeamID: teamID, Email: req.Email, Role: req.Role, InvitedBy: p.User.ID,
		TokenHash: sent.tokenHash, CodeHash: sent.codeHash, ExpiresAt: sent.expiresAt, Mail: sent.mail,
		Audit: func(inv *gatehouse.Invitation) gatehouse.AuditEvent {
			return audit(p, c, gatehouse.AuditEvent{Event: gatehouse.AuditInvitationCreated, Email: inv.Email,
				Detail: invitationDetail(inv) + " as " + string(inv.Role)})
		},
	})
	if err != nil {
		return nil, err
	}
	s.mailer.Wake()
	return inv, nil
}

func invitationDetail(inv *gatehouse.Invitation) string {
	return teamDetail(inv.TeamID) + ": invitation " + itoa(inv.ID)
}

// RevokeInvitation revokes one of the team's invitations (pending or expired), with its audit
// event. pre runs on the invitation as the revocation's transaction sees it.
func (s *Service) RevokeInvitation(ctx context.Context, p *gatehouse.Principal, c Client, teamID, id int64,
	pre Precondition[gatehouse.Invitation]) (*gatehouse.Invitation, error) {
	if _, err := s.access(ctx, p, teamID, rbac.ActInvitationRevoke); err != nil {
		return nil, err
	}
	if id <= 0 {
		return nil, errNoInvitation
	}
	return s.store.RevokeInvitationIf(ctx, teamID, id, pre, func(inv *gatehouse.Invitation) gatehouse.AuditEvent {
		return audit(p, c, gatehouse.AuditEvent{Event: gatehouse.AuditInvitationRevoked, Email: inv.Email,
			Detail: invitationDetail(inv) + " as " + string(inv.Role)})
	})
}

// AcceptInvitation makes p a member of the team of the invitation whose link token or code
// secret is, with the role it offers, with its audit event, and returns the invitation and the
// team joined. The API and the invitation page both accept through it.
//
// The lookup is bound to p's own address, so guessing codes can only ever find invitations sent
// to p: there is nothing to gain, and nothing to throttle. Any other invitation is not_found,
// like an unknown one; one of p's own that was used, revoked or has expired is not_found saying
// which; when p is a member of the team already it is a conflict (reason already_member) and
// the invitation stays unused.
func (s *Service) AcceptInvitation(ctx context.Context, p *gatehouse.Principal, c Client, secret Input[string]) (*gatehouse.Invitation, *gatehouse.Team, error) {
	if err := rbac.Decide(p, rbac.ActInvitationAccept, ""); err != nil {
		return nil, nil, err
	}
	sec, err := secret()
	if err != nil {
		return nil, nil, err
	}
	if sec == "" {
		return nil, nil, gatehouse.FieldError("token", "is required")
	}
	uid := p.User.ID
	return s.store.AcceptInvitationAudited(ctx, s.secrets.HashOneTimeSecret(sec), uid, func(inv *gatehouse.Invitation) gatehouse.AuditEvent {
		return audit(p, c, gatehouse.AuditEvent{Event: gatehouse.AuditInvitationAccepted, SubjectID: &uid, Email: inv.Email,
			Detail: invitationDetail(inv) + ", joined as " + string(inv.Role)})
	})
}

// ResendInvitation mails a pending or expired invitation again with a new link and code, valid
// for InvitationValidity from now; the old link and code stop working. It needs the right to
// invite with the invitation's role (as CreateInvitation), and email. An accepted or revoked
// invitation is EConflict (invitation_final).
func (s *Service) ResendInvitation(ctx context.Context, p *gatehouse.Principal, c Client, teamID, id int64) (*gatehouse.Invitation, error) {
	callerRole, err := s.role(ctx, p, teamID)
	if err != nil {
		return nil, err
	}
	if err := rbac.RolesGrant(p, rbac.ActInvitationCreate, callerRole); err != nil {
		return nil, err
	}
	if s.mailer == nil {
		return nil, ErrInvitationsDisabled
	}
	if id <= 0 {
		return nil, errNoInvitation
	}
	inv, err := s.store.InvitationByID(ctx, teamID, id)
	if err != nil {
		return nil, err
	}
	if err := rbac.Decide(p, rbac.InvitationCreateAction(inv.Role), callerRole); err != nil {
		return nil, err
	}
	sent, err := s.invitationMail(ctx, p, teamID, inv.Email, inv.Role)
	if err != nil {
		return nil, err
	}
	inv, err = s.store.RenewInvitation(ctx, teamID, id, sent.tokenHash, sent.codeHash, sent.expiresAt, sent.mail,
		func(inv *gatehouse.Invitation) gatehouse.AuditEvent {
			return audit(p, c, gatehouse.AuditEvent{Event: gatehouse.AuditInvitationResent, Email: inv.Email,
				Detail: invitationDetail(inv) + " as " + string(inv.Role)})
		})
	if err != nil {
		return nil, err
	}
	s.mailer.Wake()
	return inv, nil
}

// invitationSecrets are an invitation's new link and code (hashed, as stored), their expiry, and
// the mail that carries them.
type invitationSecrets struct {
	tokenHash, codeHash string
	expiresAt           time.Time
	mail                *gatehouse.OutboxMail
}

// invitationMail draws a new link token and code for an invitation of email to the team as role,
// valid for InvitationValidity, and renders the mail from p that carries them: what creating and
// resending an invitation both store.
func (s *Service) invitationMail(ctx context.Context, p *gatehouse.Principal, teamID int64, email string, role gatehouse.TeamRole) (*invitationSecrets, error) {
	team, err := s.store.TeamByID(ctx, teamID)
	if err != nil {
		return nil, err
	}
	tok, code := auth.NewOneTimeSecrets()
	msg, err := mail.Render(s.brand, email, mail.Invitation{
		Team: team.Name, Role: string(role), InvitedBy: p.User.Email,
		Link: s.publicURL + AcceptPath + "?token=" + tok, Code: code, ValidFor: InvitationValidity,
	})
	if err != nil {
		return nil, gatehouse.Wrap(gatehouse.EInternal, err, "the invitation email could not be rendered")
	}
	return &invitationSecrets{tokenHash: s.secrets.HashOneTimeSecret(tok), codeHash: s.secrets.HashOneTimeSecret(code),
		expiresAt: s.now().Add(InvitationValidity), mail: &gatehouse.OutboxMail{Subject: msg.Subject, Text: msg.Text, HTML: msg.HTML}}, nil
}
