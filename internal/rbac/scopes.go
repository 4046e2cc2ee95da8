package rbac

import "github.com/gatehousehq/gatehouse"

// ScopesFor is the role→scope policy: the scopes a token of an account with these global roles
// and team roles may carry. A token (or an API key) never carries more, and its scopes are cut
// down to this again on every request, so a demoted account loses at once what it lost.
//
//   - global admin: read, write and admin; maintainer: read and write; viewer: read;
//   - a team owner, admin or member: read and write too, since team roles grant writes within
//     their team (a team viewer only read);
//   - every account may read (its own profile at least).
//
// It lives next to Decide because the two halves of every decision (roles and scope) must be
// cut from the same policy.
func ScopesFor(roles []gatehouse.Role, teamRoles []gatehouse.TeamRole) []gatehouse.Scope {
	n := 1 // read
	for _, r := range roles {
		switch r {
		case gatehouse.RoleAdmin:
			n = 3
		case gatehouse.RoleMaintainer:
			n = max(n, 2)
		}
	}
	if n < 2 {
		for _, t := range teamRoles {
			if t.Valid() && t != gatehouse.TeamViewer {
				n = 2
				break
			}
		}
	}
	return append([]gatehouse.Scope(nil), gatehouse.AllScopes[:n]...)
}

// NeedsTeamRoles reports whether ScopesFor(roles, teamRoles) can depend on teamRoles: callers
// skip reading the memberships when the global roles already allow read and write.
func NeedsTeamRoles(roles []gatehouse.Role) bool {
	return len(ScopesFor(roles, nil)) < 2
}
