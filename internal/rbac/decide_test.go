package rbac_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
)

// The issue's rules, written out plainly and independently of the table in action.go, so that a
// wrong row in the table shows up here as a disagreement.

type outcome string

const (
	allowed           outcome = "allowed"
	forbidden         outcome = "forbidden"
	insufficientScope outcome = "insufficient_scope"
	notFound          outcome = "not_found"
)

// every action the oracle knows. The set is closed: a new action must be added here, with its rule.
var wantActions = []rbac.Action{
	rbac.ActUserReadSelf, rbac.ActUserUpdateSelf, rbac.ActAPIKeysList, rbac.ActAPIKeyCreate, rbac.ActAPIKeyRevoke,
	rbac.ActUsersList, rbac.ActUsersCreate, rbac.ActUsersRead, rbac.ActUsersUpdate, rbac.ActUsersDelete,
	rbac.ActUsersResetAccess, rbac.ActUsersUnlock, rbac.ActUsersResetTwoFactor,
	rbac.ActTeamCreate, rbac.ActTeamList, rbac.ActTeamListAll, rbac.ActTeamRead, rbac.ActTeamUpdate,
	rbac.ActTeamDelete, rbac.ActTeamLeave,
	rbac.ActMembersList, rbac.ActMemberRead, rbac.ActMemberSet, rbac.ActMemberSetPrivileged, rbac.ActMemberRemove, rbac.ActMemberRemovePrivileged,
	rbac.ActInvitationsList, rbac.ActInvitationRead, rbac.ActInvitationCreate, rbac.ActInvitationCreatePrivileged, rbac.ActInvitationRevoke,
	rbac.ActInvitationAccept,
	rbac.ActProjectsList, rbac.ActProjectCreate, rbac.ActProjectRead, rbac.ActProjectUpdate, rbac.ActProjectDelete,
	rbac.ActOutboxRead, rbac.ActOutboxRetry, rbac.ActAuditRead, rbac.ActLicenseRead,
}

// oracle answers from the rules in prose:
//   - user administration, the outbox, the audit trail and the license: global admins, admin scope;
//   - one's own account (profile, API keys, the list of one's teams, accepting an invitation):
//     everyone; reading needs read, changing needs write, accepting needs read;
//   - creating a team: global admins and maintainers, write; listing every team: global admins, read;
//   - within a team: owners everything; team admins the settings, members and viewers (not owners
//     or admins), invitations as member or viewer; members read and write the team's resources;
//     viewers read; any member may leave (read). Global admins may do all of it in every team
//     except leave a team they are not in. Reads need read, changes write;
//   - a caller outside the team who is not a global admin gets not_found;
//   - the roles are checked before the scope: insufficient_scope only when the roles allow.
func oracle(roles []gatehouse.Role, team gatehouse.TeamRole, scopes []gatehouse.Scope, act rbac.Action) outcome {
	isAdmin := slices.Contains(roles, gatehouse.RoleAdmin)
	isMaintainer := slices.Contains(roles, gatehouse.RoleMaintainer)
	owner := team == gatehouse.TeamOwner
	teamAdmin := team == gatehouse.TeamAdmin
	member := team == gatehouse.TeamMember
	teamViewer := team == gatehouse.TeamViewer
	inTeam := owner || teamAdmin || member || teamViewer

	var scope gatehouse.Scope
	var ok, teamScoped bool
	switch act {
	case rbac.ActUsersList, rbac.ActUsersCreate, rbac.ActUsersRead, rbac.ActUsersUpdate, rbac.ActUsersDelete,
		rbac.ActUsersResetAccess, rbac.ActUsersUnlock, rbac.ActUsersResetTwoFactor, rbac.ActOutboxRead, rbac.ActOutboxRetry, rbac.ActAuditRead, rbac.ActLicenseRead:
		scope, ok = gatehouse.ScopeAdmin, isAdmin
	case rbac.ActUserReadSelf, rbac.ActAPIKeysList, rbac.ActTeamList, rbac.ActInvitationAccept:
		scope, ok = gatehouse.ScopeRead, true
	case rbac.ActUserUpdateSelf, rbac.ActAPIKeyCreate, rbac.ActAPIKeyRevoke:
		scope, ok = gatehouse.ScopeWrite, true
	case rbac.ActTeamCreate:
		scope, ok = gatehouse.ScopeWrite, isAdmin || isMaintainer
	case rbac.ActTeamListAll:
		scope, ok = gatehouse.ScopeRead, isAdmin
	case rbac.ActTeamRead, rbac.ActMembersList, rbac.ActMemberRead, rbac.ActProjectsList, rbac.ActProjectRead:
		scope, ok, teamScoped = gatehouse.ScopeRead, isAdmin || inTeam, true
	case rbac.ActTeamLeave:
		scope, ok, teamScoped = gatehouse.ScopeRead, inTeam, true
	case rbac.ActInvitationsList, rbac.ActInvitationRead:
		scope, ok, teamScoped = gatehouse.ScopeRead, isAdmin || owner || teamAdmin, true
	case rbac.ActTeamUpdate, rbac.ActMemberSet, rbac.ActMemberRemove, rbac.ActInvitationCreate, rbac.ActInvitationRevoke:
		scope, ok, teamScoped = gatehouse.ScopeWrite, isAdmin || owner || teamAdmin, true
	case rbac.ActTeamDelete, rbac.ActMemberSetPrivileged, rbac.ActMemberRemovePrivileged, rbac.ActInvitationCreatePrivileged:
		scope, ok, teamScoped = gatehouse.ScopeWrite, isAdmin || owner, true
	case rbac.ActProjectCreate, rbac.ActProjectUpdate, rbac.ActProjectDelete:
		scope, ok, teamScoped = gatehouse.ScopeWrite, isAdmin || owner || teamAdmin || member, true
	default:
		panic("oracle: no rule for " + string(act))
	}
	switch {
	case !ok && teamScoped && !inTeam:
		return notFound
	case !ok:
		return forbidden
	case !slices.Contains(scopes, scope):
		return insufficientScope
	}
	return allowed
}

// outcomeOf classifies Decide's answer and checks its shape.
func outcomeOf(t *testing.T, err error) outcome {
	t.Helper()
	if err == nil {
		return allowed
	}
	e, ok := errors.AsType[*gatehouse.Error](err)
	if !ok {
		t.Fatalf("Decide returned %T %v, want *gatehouse.Error", err, err)
	}
	switch {
	case e.Code == gatehouse.EForbidden && e.Reason == "insufficient_scope":
		if !strings.HasPrefix(e.Challenge, `Bearer error="insufficient_scope", scope="`) {
			t.Errorf("insufficient_scope challenge = %q", e.Challenge)
		}
		return insufficientScope
	case e.Code == gatehouse.EForbidden && e.Reason == "" && e.Challenge == "":
		return forbidden
	case e.Code == gatehouse.ENotFound && e.Reason == "" && e.Challenge == "":
		return notFound
	}
	t.Fatalf("Decide returned an unexpected error: %#v", e)
	return ""
}

func TestActionsAreTheClosedSet(t *testing.T) {
	got := rbac.Actions()
	if len(got) != len(wantActions) {
		t.Errorf("rbac has %d actions, the oracle knows %d", len(got), len(wantActions))
	}
	seen := map[rbac.Action]bool{}
	for _, a := range got {
		if seen[a] {
			t.Errorf("action %q is listed twice in the table", a)
		}
		seen[a] = true
		if !slices.Contains(wantActions, a) {
			t.Errorf("action %q has no rule in the oracle", a)
		}
		if !a.Valid() {
			t.Errorf("%q.Valid() = false", a)
		}
		r, ok := rbac.RuleFor(a)
		if !ok || r.Action != a || r.Endpoint == "" || r.Summary == "" || r.Group == "" {
			t.Errorf("RuleFor(%q) = %+v, %v: incomplete", a, r, ok)
		}
	}
	for _, a := range wantActions {
		if !seen[a] {
			t.Errorf("action %q is missing from the table", a)
		}
	}
	if rbac.Action("teams.frobnicate").Valid() {
		t.Error("an unknown action is Valid")
	}
}

// TestDecideMatchesOracle runs every action against every combination of global roles (each
// subset, so several roles at once too), team role (including none and a bogus one) and scopes.
func TestDecideMatchesOracle(t *testing.T) {
	var roleSets [][]gatehouse.Role
	for mask := range 1 << len(gatehouse.Roles) {
		set := []gatehouse.Role{}
		for i, r := range gatehouse.Roles {
			if mask&(1<<i) != 0 {
				set = append(set, r)
			}
		}
		roleSets = append(roleSets, set)
	}
	roleSets = append(roleSets, []gatehouse.Role{"superuser"}, []gatehouse.Role{"Admin"})
	teamRoles := []gatehouse.TeamRole{gatehouse.TeamOwner, gatehouse.TeamAdmin, gatehouse.TeamMember, gatehouse.TeamViewer, "", "superowner", "Owner"}
	scopeSets := rbac.ScopeSets()
	if len(scopeSets) != 8 {
		t.Fatalf("ScopeSets() has %d sets, want 8", len(scopeSets))
	}
	scopeSets = append(scopeSets, []gatehouse.Scope{"superuser"}, []gatehouse.Scope{"READ", "Write"})

	n := 0
	for _, act := range rbac.Actions() {
		for _, roles := range roleSets {
			for _, team := range teamRoles {
				for _, scopes := range scopeSets {
					p := &gatehouse.Principal{User: &gatehouse.User{ID: 7, Roles: roles}, Scopes: scopes}
					got := outcomeOf(t, rbac.Decide(p, act, team))
					want := oracle(roles, team, scopes, act)
					if got != want {
						t.Errorf("Decide(roles=%v, team=%q, scopes=%v, %s) = %s, want %s", roles, team, scopes, act, got, want)
					}
					n++
				}
			}
		}
	}
	t.Logf("%d combinations checked", n)
}

// TestMatrixMatchesOracle checks the cases endpoint tests will iterate over.
func TestMatrixMatchesOracle(t *testing.T) {
	cases := rbac.Matrix()
	teamScoped := 0
	for _, r := range rbac.Rules() {
		if r.TeamScoped {
			teamScoped++
		}
	}
	others := len(rbac.Actions()) - teamScoped
	if want := (teamScoped*5 + others) * 4 * 8; len(cases) != want {
		t.Fatalf("Matrix() has %d cases, want %d", len(cases), want)
	}
	for _, c := range cases {
		var roles []gatehouse.Role
		if c.Global != "" {
			roles = []gatehouse.Role{c.Global}
		}
		var got outcome
		switch {
		case c.Code == "":
			got = allowed
		case c.Code == gatehouse.EForbidden && c.Reason == "insufficient_scope":
			got = insufficientScope
		case c.Code == gatehouse.EForbidden:
			got = forbidden
		case c.Code == gatehouse.ENotFound:
			got = notFound
		}
		if want := oracle(roles, c.Team, c.Scopes, c.Action); got != want {
			t.Errorf("Matrix case %+v = %s, want %s", c, got, want)
		}
	}
}

// The three examples the issue gives.
func TestIssueExamples(t *testing.T) {
	user := func(roles ...gatehouse.Role) *gatehouse.User {
		return &gatehouse.User{ID: 42, Email: "someone@example.com", Active: true, Roles: roles}
	}
	rw := []gatehouse.Scope{gatehouse.ScopeRead, gatehouse.ScopeWrite}
	rwa := []gatehouse.Scope{gatehouse.ScopeRead, gatehouse.ScopeWrite, gatehouse.ScopeAdmin}

	t.Run("a maintainer with a read-only token cannot write", func(t *testing.T) {
		p := &gatehouse.Principal{User: user(gatehouse.RoleMaintainer), Scopes: []gatehouse.Scope{gatehouse.ScopeRead}}
		for _, c := range []struct {
			act  rbac.Action
			team gatehouse.TeamRole
		}{
			{rbac.ActTeamCreate, ""},
			{rbac.ActUserUpdateSelf, ""},
			{rbac.ActProjectCreate, gatehouse.TeamMember},
			{rbac.ActTeamUpdate, gatehouse.TeamOwner},
		} {
			if got := outcomeOf(t, rbac.Decide(p, c.act, c.team)); got != insufficientScope {
				t.Errorf("%s as team %q = %s, want insufficient_scope", c.act, c.team, got)
			}
		}
		// Reading still works, and the same writes work with a write token.
		if err := rbac.Decide(p, rbac.ActProjectRead, gatehouse.TeamMember); err != nil {
			t.Errorf("read with a read token: %v", err)
		}
		p.Scopes = rw
		if err := rbac.Decide(p, rbac.ActTeamCreate, ""); err != nil {
			t.Errorf("create a team with a write token: %v", err)
		}
	})

	t.Run("a global viewer who owns team T can manage T but nothing else", func(t *testing.T) {
		p := &gatehouse.Principal{User: user(gatehouse.RoleViewer), Scopes: rw}
		for _, act := range []rbac.Action{
			rbac.ActTeamRead, rbac.ActTeamUpdate, rbac.ActTeamDelete, rbac.ActMembersList,
			rbac.ActMemberSet, rbac.ActMemberSetPrivileged, rbac.ActMemberRemove, rbac.ActMemberRemovePrivileged,
			rbac.ActInvitationsList, rbac.ActInvitationCreate, rbac.ActInvitationCreatePrivileged, rbac.ActInvitationRevoke,
			rbac.ActProjectCreate, rbac.ActProjectUpdate, rbac.ActProjectDelete, rbac.ActTeamLeave,
		} {
			if err := rbac.Decide(p, act, gatehouse.TeamOwner); err != nil {
				t.Errorf("%s in T: %v", act, err)
			}
			// Another team, where the viewer has no role: it does not even exist for them.
			if got := outcomeOf(t, rbac.Decide(p, act, "")); got != notFound {
				t.Errorf("%s in another team = %s, want not_found", act, got)
			}
		}
		for _, act := range []rbac.Action{rbac.ActTeamCreate, rbac.ActTeamListAll, rbac.ActUsersList, rbac.ActAuditRead} {
			p.Scopes = rwa // even a token with every scope does not help
			if got := outcomeOf(t, rbac.Decide(p, act, gatehouse.TeamOwner)); got != forbidden {
				t.Errorf("%s = %s, want forbidden", act, got)
			}
		}
	})

	t.Run("a global admin can manage users only with an admin-scoped token", func(t *testing.T) {
		p := &gatehouse.Principal{User: user(gatehouse.RoleAdmin), Scopes: rw}
		for _, act := range []rbac.Action{
			rbac.ActUsersList, rbac.ActUsersCreate, rbac.ActUsersRead, rbac.ActUsersUpdate,
			rbac.ActUsersDelete, rbac.ActUsersResetAccess, rbac.ActUsersUnlock, rbac.ActUsersResetTwoFactor,
		} {
			p.Scopes = rw
			err := rbac.Decide(p, act, "")
			if got := outcomeOf(t, err); got != insufficientScope {
				t.Errorf("%s with read write = %s, want insufficient_scope", act, got)
			}
			if e, _ := errors.AsType[*gatehouse.Error](err); e != nil && e.Challenge != `Bearer error="insufficient_scope", scope="admin"` {
				t.Errorf("%s challenge = %q", act, e.Challenge)
			}
			p.Scopes = rwa
			if err := rbac.Decide(p, act, ""); err != nil {
				t.Errorf("%s with read write admin: %v", act, err)
			}
			p.Scopes = []gatehouse.Scope{gatehouse.ScopeAdmin}
			if err := rbac.Decide(p, act, ""); err != nil {
				t.Errorf("%s with admin alone: %v", act, err)
			}
		}
	})
}

func TestInsufficientScopeErrorShape(t *testing.T) {
	for _, s := range gatehouse.AllScopes {
		var act rbac.Action
		for _, r := range rbac.Rules() {
			if r.Scope == s && r.AnyAccount || r.Scope == s && slices.Contains(r.Global, gatehouse.RoleAdmin) {
				act = r.Action
				break
			}
		}
		p := &gatehouse.Principal{User: &gatehouse.User{ID: 1, Roles: []gatehouse.Role{gatehouse.RoleAdmin}}}
		err := rbac.Decide(p, act, "")
		e, ok := errors.AsType[*gatehouse.Error](err)
		if !ok {
			t.Fatalf("%s with no scopes: %v, want *gatehouse.Error", act, err)
		}
		if e.Code != gatehouse.EForbidden || gatehouse.ErrorCode(err) != gatehouse.EForbidden {
			t.Errorf("%s: code %q, want forbidden", act, e.Code)
		}
		if e.Reason != "insufficient_scope" || rbac.ReasonInsufficientScope != "insufficient_scope" {
			t.Errorf("%s: reason %q", act, e.Reason)
		}
		if want := fmt.Sprintf(`Bearer error="insufficient_scope", scope="%s"`, s); e.Challenge != want {
			t.Errorf("%s: challenge %q, want %q", act, e.Challenge, want)
		}
		if !strings.Contains(e.Message, `"`+string(s)+`"`) {
			t.Errorf("%s: message %q does not name the scope", act, e.Message)
		}
	}
}

func TestOtherErrors(t *testing.T) {
	p := &gatehouse.Principal{User: &gatehouse.User{ID: 1, Roles: []gatehouse.Role{gatehouse.RoleViewer}}, Scopes: gatehouse.AllScopes}
	err := rbac.Decide(p, rbac.ActUsersDelete, "")
	e, ok := errors.AsType[*gatehouse.Error](err)
	if !ok || e.Code != gatehouse.EForbidden || e.Reason != "" || e.Challenge != "" || e.Message != "your roles do not allow you to delete users" {
		t.Errorf("forbidden: %#v", err)
	}
	err = rbac.Decide(p, rbac.ActProjectRead, "")
	if e, ok := errors.AsType[*gatehouse.Error](err); !ok || e.Code != gatehouse.ENotFound || e.Message != "team not found" {
		t.Errorf("not a member: %#v", err)
	}
	for _, np := range []*gatehouse.Principal{nil, {Scopes: gatehouse.AllScopes}} {
		if code := gatehouse.ErrorCode(rbac.Decide(np, rbac.ActUserReadSelf, "")); code != gatehouse.EUnauthenticated {
			t.Errorf("no principal: %q, want unauthenticated", code)
		}
	}
	if code := gatehouse.ErrorCode(rbac.Decide(p, "teams.frobnicate", "")); code != gatehouse.EInternal {
		t.Errorf("unknown action: %q, want internal", code)
	}
}

func TestMemberActions(t *testing.T) {
	const (
		o, a, m, v = gatehouse.TeamOwner, gatehouse.TeamAdmin, gatehouse.TeamMember, gatehouse.TeamViewer
		none       = gatehouse.TeamRole("")
		bogus      = gatehouse.TeamRole("superowner")
	)
	set := []struct {
		current, next gatehouse.TeamRole
		want          rbac.Action
	}{
		{none, m, rbac.ActMemberSet},
		{none, v, rbac.ActMemberSet},
		{m, v, rbac.ActMemberSet},
		{v, m, rbac.ActMemberSet},
		{m, m, rbac.ActMemberSet},
		{none, a, rbac.ActMemberSetPrivileged},
		{none, o, rbac.ActMemberSetPrivileged},
		{m, a, rbac.ActMemberSetPrivileged},
		{v, o, rbac.ActMemberSetPrivileged},
		{a, m, rbac.ActMemberSetPrivileged},
		{o, v, rbac.ActMemberSetPrivileged},
		{o, a, rbac.ActMemberSetPrivileged},
		{a, a, rbac.ActMemberSetPrivileged},
		{m, bogus, rbac.ActMemberSetPrivileged},
		{bogus, m, rbac.ActMemberSetPrivileged},
		{m, none, rbac.ActMemberSetPrivileged},
	}
	for _, c := range set {
		if got := rbac.MemberSetAction(c.current, c.next); got != c.want {
			t.Errorf("MemberSetAction(%q, %q) = %s, want %s", c.current, c.next, got, c.want)
		}
	}
	remove := map[gatehouse.TeamRole]rbac.Action{
		o: rbac.ActMemberRemovePrivileged, a: rbac.ActMemberRemovePrivileged,
		m: rbac.ActMemberRemove, v: rbac.ActMemberRemove, bogus: rbac.ActMemberRemovePrivileged, none: rbac.ActMemberRemovePrivileged,
	}
	for current, want := range remove {
		if got := rbac.MemberRemoveAction(current); got != want {
			t.Errorf("MemberRemoveAction(%q) = %s, want %s", current, got, want)
		}
	}
	invite := map[gatehouse.TeamRole]rbac.Action{
		o: rbac.ActInvitationCreatePrivileged, a: rbac.ActInvitationCreatePrivileged,
		m: rbac.ActInvitationCreate, v: rbac.ActInvitationCreate, bogus: rbac.ActInvitationCreatePrivileged,
	}
	for role, want := range invite {
		if got := rbac.InvitationCreateAction(role); got != want {
			t.Errorf("InvitationCreateAction(%q) = %s, want %s", role, got, want)
		}
	}

	// The issue's rule end to end: a team admin manages members and viewers, not owners or admins.
	p := &gatehouse.Principal{User: &gatehouse.User{ID: 3}, Scopes: []gatehouse.Scope{gatehouse.ScopeRead, gatehouse.ScopeWrite}}
	for _, c := range set {
		err := rbac.Decide(p, rbac.MemberSetAction(c.current, c.next), a)
		if wantOK := c.want == rbac.ActMemberSet; (err == nil) != wantOK {
			t.Errorf("team admin sets %q -> %q: %v", c.current, c.next, err)
		}
		if err := rbac.Decide(p, rbac.MemberSetAction(c.current, c.next), o); err != nil {
			t.Errorf("team owner sets %q -> %q: %v", c.current, c.next, err)
		}
		if got := outcomeOf(t, rbac.Decide(p, rbac.MemberSetAction(c.current, c.next), m)); got != forbidden {
			t.Errorf("team member sets %q -> %q: %s, want forbidden", c.current, c.next, got)
		}
	}
}

func TestRulesAreCopies(t *testing.T) {
	rs := rbac.Rules()
	for i := range rs {
		if len(rs[i].Global) > 0 {
			rs[i].Global[0] = gatehouse.RoleViewer
		}
		rs[i].Team = append(rs[i].Team[:0], gatehouse.TeamViewer)
	}
	p := &gatehouse.Principal{User: &gatehouse.User{ID: 1, Roles: []gatehouse.Role{gatehouse.RoleViewer}}, Scopes: gatehouse.AllScopes}
	if rbac.Decide(p, rbac.ActUsersList, "") == nil || rbac.Decide(p, rbac.ActTeamDelete, gatehouse.TeamViewer) == nil {
		t.Fatal("changing what Rules returned changed the decisions")
	}
}
