package rbac

import (
	"errors"

	"github.com/gatehousehq/gatehouse"
)

// Team-role policy that is not a single Decide: how team roles compare, the roles half of a
// decision whose exact action is known only later, and which list of teams a caller gets.

// TeamRoleRank orders the team roles by power: viewer 1, member 2, admin 3, owner 4; 0 for no
// role ("") and for anything that is not a team role, so that any real role outranks them.
func TeamRoleRank(r gatehouse.TeamRole) int {
	switch r {
	case gatehouse.TeamViewer:
		return 1
	case gatehouse.TeamMember:
		return 2
	case gatehouse.TeamAdmin:
		return 3
	case gatehouse.TeamOwner:
		return 4
	}
	return 0
}

// StrongerTeamRole returns the more powerful of a and b (a when they rank the same): the role
// to give when several rules grant a role in one team.
func StrongerTeamRole(a, b gatehouse.TeamRole) gatehouse.TeamRole {
	if TeamRoleRank(b) > TeamRoleRank(a) {
		return b
	}
	return a
}

// RolesGrant is the roles half of Decide: nil when p's roles (global, or teamRole within its
// team) grant act, whatever the token's scopes; otherwise Decide's answer (not_found outside
// the team, forbidden inside, unauthenticated without a principal).
//
// It is for an operation whose exact action is known only later — from the request body (the
// role an invitation offers), or from the member's current role, read inside the transaction
// that changes it. The operation checks the lesser of the candidate actions with RolesGrant
// first, so that a caller whose roles grant none of them learns nothing more (404 outside the
// team, 403 inside, before its input is even read); then it takes the one decision, Decide with
// the exact action, scope included. A caller whose roles do not grant the exact action so hears
// forbidden rather than that a token with another scope would do (insufficient_scope).
func RolesGrant(p *gatehouse.Principal, act Action, teamRole gatehouse.TeamRole) error {
	err := Decide(p, act, teamRole)
	if e, ok := errors.AsType[*gatehouse.Error](err); ok && e.Reason == ReasonInsufficientScope {
		return nil
	}
	return err
}

// DecideTeamList is the decision of GET /api/v1/teams, one endpoint for two actions: all is
// true when p may list every team (ActTeamListAll), false when p may list only its own teams
// (ActTeamList). A caller refused ActTeamListAll gets the answer of ActTeamList.
func DecideTeamList(p *gatehouse.Principal) (all bool, err error) {
	if Decide(p, ActTeamListAll, "") == nil {
		return true, nil
	}
	return false, Decide(p, ActTeamList, "")
}
