package authz_test

import (
	"errors"
	"fmt"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/authz"
)

// A host program's resource brings its rules: here, notes that belong to a team, which every
// member reads and every member but viewers writes, and global admins everywhere.
func ExampleRegister() {
	err := authz.Register(
		authz.Rule{Action: "bookmarks.list", Group: "Bookmarks", Endpoint: "GET /api/v1/teams/{id}/bookmarks",
			Summary: "list this team's bookmarks", Scope: gatehouse.ScopeRead,
			Global: authz.AdminOnly, TeamScoped: true, Team: authz.AllTeamRoles},
		authz.Rule{Action: "bookmarks.create", Group: "Bookmarks", Endpoint: "POST /api/v1/teams/{id}/bookmarks",
			Summary: "create bookmarks in this team", Scope: gatehouse.ScopeWrite,
			Global: authz.AdminOnly, TeamScoped: true, Team: authz.TeamWriters},
	)
	fmt.Println(err)
	fmt.Println(authz.Action("bookmarks.create").Valid())
	// Output:
	// <nil>
	// true
}

// Decide answers for a caller, the caller's role in the team that owns the resource, and an
// action. The error says which half failed: the roles, or only the token's scope.
func ExampleDecide() {
	_ = authz.Register(authz.Rule{Action: "bookmarks.delete", Group: "Bookmarks", Endpoint: "DELETE /api/v1/teams/{id}/bookmarks/{bookmark_id}",
		Summary: "delete this team's bookmarks", Scope: gatehouse.ScopeWrite,
		Global: authz.AdminOnly, TeamScoped: true, Team: authz.TeamWriters})

	member := &gatehouse.Principal{User: &gatehouse.User{ID: 7}, Scopes: []gatehouse.Scope{gatehouse.ScopeRead, gatehouse.ScopeWrite}}
	fmt.Println(authz.Decide(member, "bookmarks.delete", gatehouse.TeamMember))
	fmt.Println(gatehouse.ErrorCode(authz.Decide(member, "bookmarks.delete", gatehouse.TeamViewer)))
	fmt.Println(gatehouse.ErrorCode(authz.Decide(member, "bookmarks.delete", ""))) // not in the team

	readOnly := &gatehouse.Principal{User: member.User, Scopes: []gatehouse.Scope{gatehouse.ScopeRead}}
	err := authz.Decide(readOnly, "bookmarks.delete", gatehouse.TeamMember)
	var e *gatehouse.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.Reason)
	}
	// Output:
	// <nil>
	// forbidden
	// not_found
	// forbidden insufficient_scope
}
