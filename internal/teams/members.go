package teams

import (
	"context"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
)

// errNoUser answers a member id that is not a number: it names no user.
var errNoUser = gatehouse.Errorf(gatehouse.ENotFound, "user not found")

// errNotMember answers a change of someone who is not a member of the team.
var errNotMember = gatehouse.Errorf(gatehouse.ENotFound, "not a member of this team")

// Members lists the team's members by user id. It returns up to one member more than the page's
// limit when more follow (see page).
func (s *Service) Members(ctx context.Context, p *gatehouse.Principal, teamID int64, in Input[Page]) ([]gatehouse.Member, error) {
	if _, err := s.access(ctx, p, teamID, rbac.ActMembersList); err != nil {
		return nil, err
	}
	after, limit, err := page(in)
	if err != nil {
		return nil, err
	}
	return s.store.Members(ctx, teamID, after, limit)
}

// Member returns one membership of the team; a user who is not a member is not_found.
func (s *Service) Member(ctx context.Context, p *gatehouse.Principal, teamID, userID int64) (*gatehouse.Member, error) {
	if _, err := s.access(ctx, p, teamID, rbac.ActMemberRead); err != nil {
		return nil, err
	}
	if userID <= 0 {
		return nil, errNoUser
	}
	return s.store.Member(ctx, teamID, userID)
}

// SetMember gives the user the role in the team: adds a member (created) or changes one. Which
// action that is depends on the member's current role, known only inside the change's
// transaction: until then only the roles half of the lesser action (members.set) is checked,
// so that a caller whose roles grant neither learns nothing more (404 outside the team, 403
// inside); the one decision, scope included, is taken in the transaction on the role as it is
// there (rbac.MemberSetAction). pre is compared after that decision, so that a caller without
// the right learns nothing from it; it receives nil when the user is not a member.
func (s *Service) SetMember(ctx context.Context, p *gatehouse.Principal, c Client, teamID, userID int64,
	in Input[gatehouse.TeamRole], pre Precondition[gatehouse.Member]) (m *gatehouse.Member, created bool, err error) {
	callerRole, err := s.role(ctx, p, teamID)
	if err != nil {
		return nil, false, err
	}
	if err := rbac.RolesGrant(p, rbac.ActMemberSet, callerRole); err != nil {
		return nil, false, err
	}
	if userID <= 0 {
		return nil, false, errNoUser
	}
	next, err := in()
	if err != nil {
		return nil, false, err
	}
	var after gatehouse.Member
	prev, err := s.store.ChangeMember(ctx, gatehouse.MemberChange{
		TeamID: teamID, UserID: userID, Role: next, IfMatch: pre, Result: &after,
		Check: func(cur gatehouse.TeamRole) error {
			return rbac.Decide(p, rbac.MemberSetAction(cur, next), callerRole)
		},
		Audit: func(prev gatehouse.TeamRole) gatehouse.AuditEvent {
			return audit(p, c, gatehouse.AuditEvent{Event: gatehouse.AuditMemberChanged, SubjectID: &userID,
				Detail: teamDetail(teamID) + ": " + roleOrNone(prev) + " -> " + string(next)})
		},
	})
	if err != nil {
		return nil, false, err
	}
	return &after, prev == "", nil
}

func roleOrNone(r gatehouse.TeamRole) string {
	if r == "" {
		return "none"
	}
	return string(r)
}

// RemoveMember removes the user from the team. As for SetMember, the lesser action
// (members.remove) is checked first by roles only, and the decision on the exact action taken
// in the transaction on the member's role as it is there (rbac.MemberRemoveAction).
func (s *Service) RemoveMember(ctx context.Context, p *gatehouse.Principal, c Client, teamID, userID int64, pre Precondition[gatehouse.Member]) error {
	callerRole, err := s.role(ctx, p, teamID)
	if err != nil {
		return err
	}
	if err := rbac.RolesGrant(p, rbac.ActMemberRemove, callerRole); err != nil {
		return err
	}
	if userID <= 0 {
		return errNoUser
	}
	_, err = s.store.ChangeMember(ctx, gatehouse.MemberChange{
		TeamID: teamID, UserID: userID, IfMatch: pre,
		Check: func(cur gatehouse.TeamRole) error {
			if cur == "" {
				return errNotMember
			}
			return rbac.Decide(p, rbac.MemberRemoveAction(cur), callerRole)
		},
		Audit: func(prev gatehouse.TeamRole) gatehouse.AuditEvent {
			return audit(p, c, gatehouse.AuditEvent{Event: gatehouse.AuditMemberRemoved, SubjectID: &userID,
				Detail: teamDetail(teamID) + ": was " + string(prev)})
		},
	})
	return err
}
