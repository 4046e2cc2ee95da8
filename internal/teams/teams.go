package teams

import (
	"context"
	"strconv"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// ListTeams lists the teams p may list, by id: every team for a global admin, p's own teams
// for everyone else, each with p's role in it. It returns up to one team more than the page's
// limit when more follow (see page).
func (s *Service) ListTeams(ctx context.Context, p *gatehouse.Principal, in Input[Page]) ([]gatehouse.TeamWithRole, error) {
	all, err := rbac.DecideTeamList(p)
	if err != nil {
		return nil, err
	}
	after, limit, err := page(in)
	if err != nil {
		return nil, err
	}
	return s.store.ListTeams(ctx, p.User.ID, all, after, limit)
}

// CreateTeam creates a team of which p is the owner, with its audit event.
func (s *Service) CreateTeam(ctx context.Context, p *gatehouse.Principal, c Client, in Input[gatehouse.TeamPatch]) (*gatehouse.TeamWithRole, error) {
	if err := rbac.Decide(p, rbac.ActTeamCreate, ""); err != nil {
		return nil, err
	}
	patch, err := in()
	if err != nil {
		return nil, err
	}
	t := &gatehouse.Team{}
	if patch.Name != nil {
		t.Name = *patch.Name
	}
	if patch.Description != nil {
		t.Description = *patch.Description
	}
	err = s.store.CreateTeamAudited(ctx, t, p.User.ID, func(t *gatehouse.Team) gatehouse.AuditEvent {
		return audit(p, c, gatehouse.AuditEvent{Event: gatehouse.AuditTeamCreated, Detail: teamDetail(t.ID)})
	})
	if err != nil {
		return nil, err
	}
	return &gatehouse.TeamWithRole{Team: *t, Role: gatehouse.TeamOwner}, nil
}

// Team returns the team with p's role in it.
func (s *Service) Team(ctx context.Context, p *gatehouse.Principal, teamID int64) (*gatehouse.TeamWithRole, error) {
	role, err := s.access(ctx, p, teamID, rbac.ActTeamRead)
	if err != nil {
		return nil, err
	}
	t, err := s.store.TeamByID(ctx, teamID)
	if err != nil {
		return nil, err
	}
	return &gatehouse.TeamWithRole{Team: *t, Role: role}, nil
}

// withRole makes a precondition on a team with p's role in it (as the API shows a team) one on
// the team alone (as the store reads it).
func withRole(pre Precondition[gatehouse.TeamWithRole], role gatehouse.TeamRole) func(*gatehouse.Team) error {
	if pre == nil {
		return nil
	}
	return func(t *gatehouse.Team) error { return pre(&gatehouse.TeamWithRole{Team: *t, Role: role}) }
}

// UpdateTeam changes the team's settings. pre runs on the team as the change's transaction sees
// it. Team changes are not audited (as before): the event trail is about access.
func (s *Service) UpdateTeam(ctx context.Context, p *gatehouse.Principal, teamID int64, in Input[gatehouse.TeamPatch],
	pre Precondition[gatehouse.TeamWithRole]) (*gatehouse.TeamWithRole, error) {
	role, err := s.access(ctx, p, teamID, rbac.ActTeamUpdate)
	if err != nil {
		return nil, err
	}
	patch, err := in()
	if err != nil {
		return nil, err
	}
	t, err := s.store.UpdateTeam(ctx, teamID, patch, withRole(pre, role))
	if err != nil {
		return nil, err
	}
	return &gatehouse.TeamWithRole{Team: *t, Role: role}, nil
}

// DeleteTeam deletes the team with its memberships, invitations and projects, with its audit
// event. pre runs on the team as the deletion's transaction sees it.
func (s *Service) DeleteTeam(ctx context.Context, p *gatehouse.Principal, c Client, teamID int64, pre Precondition[gatehouse.TeamWithRole]) error {
	role, err := s.access(ctx, p, teamID, rbac.ActTeamDelete)
	if err != nil {
		return err
	}
	return s.store.DeleteTeam(ctx, teamID, withRole(pre, role), func(t *gatehouse.Team) gatehouse.AuditEvent {
		return audit(p, c, gatehouse.AuditEvent{Event: gatehouse.AuditTeamDeleted, Detail: teamDetail(teamID) + " (" + t.Name + ")"})
	})
}

// LeaveTeam ends p's own membership, with its audit event. A team's last owner cannot leave
// (conflict, reason last_owner).
func (s *Service) LeaveTeam(ctx context.Context, p *gatehouse.Principal, c Client, teamID int64) error {
	if _, err := s.access(ctx, p, teamID, rbac.ActTeamLeave); err != nil {
		return err
	}
	uid := p.User.ID
	_, err := s.store.ChangeMember(ctx, gatehouse.MemberChange{TeamID: teamID, UserID: uid,
		Audit: func(prev gatehouse.TeamRole) gatehouse.AuditEvent {
			return audit(p, c, gatehouse.AuditEvent{Event: gatehouse.AuditMemberRemoved, SubjectID: &uid,
				Detail: teamDetail(teamID) + ": left, was " + string(prev)})
		}})
	return err
}
