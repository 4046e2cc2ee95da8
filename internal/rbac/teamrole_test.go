package rbac_test

import (
	"errors"
	"testing"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
)

func TestTeamRoleRank(t *testing.T) {
	order := []gatehouse.TeamRole{"", gatehouse.TeamViewer, gatehouse.TeamMember, gatehouse.TeamAdmin, gatehouse.TeamOwner}
	for i := 1; i < len(order); i++ {
		if rbac.TeamRoleRank(order[i]) <= rbac.TeamRoleRank(order[i-1]) {
			t.Errorf("%q does not outrank %q", order[i], order[i-1])
		}
		if got := rbac.StrongerTeamRole(order[i-1], order[i]); got != order[i] {
			t.Errorf("StrongerTeamRole(%q, %q) = %q", order[i-1], order[i], got)
		}
		if got := rbac.StrongerTeamRole(order[i], order[i-1]); got != order[i] {
			t.Errorf("StrongerTeamRole(%q, %q) = %q", order[i], order[i-1], got)
		}
	}
	// Something that is not a team role ranks with no role, so it never wins.
	if rbac.TeamRoleRank("superowner") != 0 || rbac.StrongerTeamRole("", "superowner") != "" {
		t.Error("an unknown role ranks above none")
	}
}

// RolesGrant is Decide without the scope half: its answer differs from Decide's exactly where
// Decide says insufficient_scope, on every cell of the matrix.
func TestRolesGrant(t *testing.T) {
	for _, c := range rbac.Matrix() {
		p := &gatehouse.Principal{User: &gatehouse.User{ID: 1}, Scopes: c.Scopes}
		if c.Global != "" {
			p.User.Roles = []gatehouse.Role{c.Global}
		}
		decided := rbac.Decide(p, c.Action, c.Team)
		got := rbac.RolesGrant(p, c.Action, c.Team)
		want := decided
		if c.Reason == rbac.ReasonInsufficientScope {
			want = nil
		}
		if gatehouse.ErrorCode(got) != gatehouse.ErrorCode(want) || gatehouse.ErrorMessage(got) != gatehouse.ErrorMessage(want) {
			t.Errorf("%s global=%q team=%q scopes=%v: RolesGrant = %v, want %v", c.Action, c.Global, c.Team, c.Scopes, got, want)
		}
	}
	if err := rbac.RolesGrant(nil, rbac.ActTeamRead, ""); gatehouse.ErrorCode(err) != gatehouse.EUnauthenticated {
		t.Errorf("no principal: %v", err)
	}
}

func TestDecideTeamList(t *testing.T) {
	read := []gatehouse.Scope{gatehouse.ScopeRead}
	for _, tc := range []struct {
		name   string
		roles  []gatehouse.Role
		scopes []gatehouse.Scope
		all    bool
		code   gatehouse.Code
		reason string
	}{
		{"admin", []gatehouse.Role{gatehouse.RoleAdmin}, read, true, "", ""},
		{"maintainer", []gatehouse.Role{gatehouse.RoleMaintainer}, read, false, "", ""},
		{"no role", nil, read, false, "", ""},
		{"admin without read", []gatehouse.Role{gatehouse.RoleAdmin}, []gatehouse.Scope{gatehouse.ScopeWrite}, false, gatehouse.EForbidden, rbac.ReasonInsufficientScope},
		{"viewer without read", []gatehouse.Role{gatehouse.RoleViewer}, nil, false, gatehouse.EForbidden, rbac.ReasonInsufficientScope},
	} {
		p := &gatehouse.Principal{User: &gatehouse.User{ID: 1, Roles: tc.roles}, Scopes: tc.scopes}
		all, err := rbac.DecideTeamList(p)
		if all != tc.all || gatehouse.ErrorCode(err) != tc.code {
			t.Errorf("%s: all=%v err=%v, want all=%v code %q", tc.name, all, err, tc.all, tc.code)
		}
		if e, ok := errors.AsType[*gatehouse.Error](err); ok && e.Reason != tc.reason {
			t.Errorf("%s: reason %q, want %q", tc.name, e.Reason, tc.reason)
		}
	}
}
