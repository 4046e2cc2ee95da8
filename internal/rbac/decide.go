package rbac

import (
	"fmt"
	"slices"

	"github.com/gatehousehq/gatehouse"
)

// ReasonInsufficientScope is the wire code (gatehouse.Error.Reason) of a 403 whose only cause is a
// scope the token lacks; it is also the RFC 6750 error name in the challenge.
const ReasonInsufficientScope = "insufficient_scope"

// Decide says whether p may perform act. teamRole is p's role in the team that owns the resource:
// "" when p is not a member, and ignored for actions that are not team-scoped (Rule.TeamScoped).
//
// The decision is: the roles grant act (a global role of p on every resource, or teamRole within
// its team) AND p's token carries act's scope. The error tells the client which half failed:
//
//   - nil: allowed.
//   - ENotFound "team not found": act is team-scoped, p has no role in the team and no global
//     role granting act. Callers outside a team cannot tell whether it exists.
//   - EForbidden: the roles do not grant act, whatever the token.
//   - EForbidden with Reason "insufficient_scope" and Challenge
//     `Bearer error="insufficient_scope", scope="write"`: the roles grant act but the token lacks
//     the scope; a token with it would succeed (RFC 6750 §3.1).
//   - EUnauthenticated: p is nil or has no user.
//   - EInternal: act is not an action (a bug).
func Decide(p *gatehouse.Principal, act Action, teamRole gatehouse.TeamRole) error {
	if p == nil || p.User == nil {
		return gatehouse.Errorf(gatehouse.EUnauthenticated, "authentication required")
	}
	t := active()
	i, ok := t.index[act]
	if !ok {
		return gatehouse.Errorf(gatehouse.EInternal, "rbac: unknown action %q", act)
	}
	r := &t.rules[i]
	member := r.TeamScoped && teamRole.Valid()
	granted := r.grantedByGlobal(p.User.Roles) || (member && slices.Contains(r.Team, teamRole))
	if !granted {
		if r.TeamScoped && !member {
			return gatehouse.Errorf(gatehouse.ENotFound, "team not found")
		}
		return gatehouse.Errorf(gatehouse.EForbidden, "your roles do not allow you to %s", r.Summary)
	}
	if !p.HasScope(r.Scope) {
		return insufficientScope(r.Scope)
	}
	return nil
}

// grantedByGlobal reports whether any of roles grants the rule on every resource.
func (r *Rule) grantedByGlobal(roles []gatehouse.Role) bool {
	if r.AnyAccount {
		return true
	}
	for _, have := range roles {
		if slices.Contains(r.Global, have) {
			return true
		}
	}
	return false
}

// insufficientScope is the error for a token that lacks scope s.
func insufficientScope(s gatehouse.Scope) *gatehouse.Error {
	return &gatehouse.Error{
		Code:      gatehouse.EForbidden,
		Message:   fmt.Sprintf("this request needs an access token with the %q scope", s),
		Reason:    ReasonInsufficientScope,
		Challenge: fmt.Sprintf(`Bearer error="insufficient_scope", scope="%s"`, s),
	}
}

// privileged reports whether r is a team role only owners may give, take or invite to. Anything
// that is not member or viewer counts, so an invalid role can never slip through as unprivileged.
func privileged(r gatehouse.TeamRole) bool {
	return r != gatehouse.TeamMember && r != gatehouse.TeamViewer
}

// MemberSetAction is the action for giving a user the team role next, where current is the user's
// role in the team now ("" when not a member yet): ActMemberSetPrivileged when either role is
// owner or admin (only owners may), ActMemberSet otherwise (owners and team admins may).
func MemberSetAction(current, next gatehouse.TeamRole) Action {
	if (current != "" && privileged(current)) || privileged(next) {
		return ActMemberSetPrivileged
	}
	return ActMemberSet
}

// MemberRemoveAction is the action for removing a member whose role is current:
// ActMemberRemovePrivileged for an owner or admin, ActMemberRemove for a member or viewer.
func MemberRemoveAction(current gatehouse.TeamRole) Action {
	if privileged(current) {
		return ActMemberRemovePrivileged
	}
	return ActMemberRemove
}

// InvitationCreateAction is the action for inviting someone to a team with role:
// ActInvitationCreatePrivileged for owner or admin, ActInvitationCreate for member or viewer.
func InvitationCreateAction(role gatehouse.TeamRole) Action {
	if privileged(role) {
		return ActInvitationCreatePrivileged
	}
	return ActInvitationCreate
}
