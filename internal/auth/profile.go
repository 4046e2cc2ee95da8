package auth

import (
	"context"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
)

// What the profile page shows of the caller beyond its sessions, keys and factors.

// MemberTeam is one team of the caller, with the caller's role in it.
type MemberTeam struct {
	Team gatehouse.Team
	Role gatehouse.TeamRole
}

// MyTeams lists the teams the caller belongs to, with its role in each, in the order of its
// memberships. A team deleted meanwhile is left out.
func (s *Service) MyTeams(ctx context.Context, p *gatehouse.Principal) ([]MemberTeam, error) {
	if err := rbac.Decide(p, rbac.ActTeamList, ""); err != nil {
		return nil, err
	}
	ms, err := s.store.Memberships(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	out := make([]MemberTeam, 0, len(ms))
	for _, m := range ms {
		t, err := s.store.TeamByID(ctx, m.TeamID)
		if err != nil {
			continue // deleted meanwhile
		}
		out = append(out, MemberTeam{Team: *t, Role: m.Role})
	}
	return out, nil
}

// MayCreateAPIKeys reports whether p's roles and credential allow it to make API keys, so that
// a page offers the form only to those CreateAPIKey would not refuse for that reason.
func (s *Service) MayCreateAPIKeys(p *gatehouse.Principal) bool {
	return rbac.Decide(p, rbac.ActAPIKeyCreate, "") == nil
}
