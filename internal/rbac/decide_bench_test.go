package rbac

import (
	"testing"

	"github.com/gatehousehq/gatehouse"
)

// BenchmarkDecide is the authorization decision every request makes: a global-role grant
// (GET /me) and a team-role grant (creating a project as a team member).
func BenchmarkDecide(b *testing.B) {
	p := &gatehouse.Principal{
		User:   &gatehouse.User{ID: 1, Roles: []gatehouse.Role{gatehouse.RoleViewer}},
		Scopes: []gatehouse.Scope{gatehouse.ScopeRead, gatehouse.ScopeWrite},
	}
	for _, tc := range []struct {
		name string
		act  Action
		role gatehouse.TeamRole
	}{
		{"global", ActUserReadSelf, ""},
		{"team", ActProjectCreate, gatehouse.TeamMember},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Decide(p, tc.act, tc.role); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
