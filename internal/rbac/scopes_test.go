package rbac_test

import (
	"slices"
	"testing"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
)

func TestScopesFor(t *testing.T) {
	const (
		r = gatehouse.ScopeRead
		w = gatehouse.ScopeWrite
		a = gatehouse.ScopeAdmin
	)
	for _, tc := range []struct {
		roles []gatehouse.Role
		teams []gatehouse.TeamRole
		want  []gatehouse.Scope
	}{
		{nil, nil, []gatehouse.Scope{r}},
		{[]gatehouse.Role{gatehouse.RoleViewer}, nil, []gatehouse.Scope{r}},
		{[]gatehouse.Role{gatehouse.RoleMaintainer}, nil, []gatehouse.Scope{r, w}},
		{[]gatehouse.Role{gatehouse.RoleAdmin}, nil, []gatehouse.Scope{r, w, a}},
		{[]gatehouse.Role{gatehouse.RoleViewer, gatehouse.RoleAdmin}, nil, []gatehouse.Scope{r, w, a}},
		{[]gatehouse.Role{gatehouse.RoleViewer}, []gatehouse.TeamRole{gatehouse.TeamViewer}, []gatehouse.Scope{r}},
		{[]gatehouse.Role{gatehouse.RoleViewer}, []gatehouse.TeamRole{gatehouse.TeamViewer, gatehouse.TeamMember}, []gatehouse.Scope{r, w}},
		{nil, []gatehouse.TeamRole{gatehouse.TeamOwner}, []gatehouse.Scope{r, w}},
		{nil, []gatehouse.TeamRole{gatehouse.TeamAdmin}, []gatehouse.Scope{r, w}},
		{[]gatehouse.Role{gatehouse.RoleAdmin}, []gatehouse.TeamRole{gatehouse.TeamViewer}, []gatehouse.Scope{r, w, a}},
		// Unknown names grant nothing.
		{[]gatehouse.Role{"superuser"}, []gatehouse.TeamRole{"superowner"}, []gatehouse.Scope{r}},
	} {
		if got := rbac.ScopesFor(tc.roles, tc.teams); !slices.Equal(got, tc.want) {
			t.Errorf("ScopesFor(%v, %v) = %v, want %v", tc.roles, tc.teams, got, tc.want)
		}
		if need := rbac.NeedsTeamRoles(tc.roles); need != (len(rbac.ScopesFor(tc.roles, nil)) < 2) {
			t.Errorf("NeedsTeamRoles(%v) = %v", tc.roles, need)
		}
	}
}
