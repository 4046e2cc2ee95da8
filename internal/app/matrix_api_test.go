package app_test

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/rbac"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// TestAuthorizationMatrixEndpoints sends every cell of rbac.Matrix() (each action × global role ×
// team role × set of token scopes, the cells docs/authorization.md is rendered from) to the real
// endpoint of its rule and checks the answer against the cell:
//
//   - allowed: a 2xx answer (the fixtures make every allowed request succeed);
//   - forbidden: 403 forbidden;
//   - missing scope: 403 insufficient_scope with WWW-Authenticate naming the rule's scope;
//   - not visible: 404 not_found.
//
// Every rule must have an entry in mxCalls, whose endpoint must be the rule's: a new rule, or a
// rule moved to another route, fails this test until the test knows how to call it.
//
// Tokens: every account logs in for each set of scopes its roles allow (the tokens the server
// issues); the other sets (the empty set, and scopes beyond the roles) are signed with the app's
// own token manager on a real session of the account. Such tokens exist: an access token keeps
// its scopes after its account is demoted (the roles, not the token, are read on every request),
// and an API key is cut down to what the roles allow now, down to no scope at all.
//
// Team roles: each caller has the team role of the column in one team per role (and none in the
// team of the "" column), shared by the requests that change nothing lasting; a request that
// uses something up (deleting, leaving, removing, revoking, accepting) gets a fresh one, made
// directly in the store, once an earlier request consumed it.
func TestAuthorizationMatrixEndpoints(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		began := time.Now()
		calls := mxCalls()
		rules := map[rbac.Action]rbac.Rule{}
		for _, r := range rbac.Rules() {
			rules[r.Action] = r
			call, ok := calls[r.Action]
			switch {
			case !ok:
				t.Errorf("rule %s (%s) has no entry in mxCalls: teach this test to call it", r.Action, r.Endpoint)
			case call.endpoint != r.Endpoint:
				t.Errorf("rule %s guards %q, but mxCalls calls %q", r.Action, r.Endpoint, call.endpoint)
			}
		}
		for a := range calls {
			if _, ok := rules[a]; !ok {
				t.Errorf("mxCalls has an entry for %s, which is not an rbac action", a)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
		m := newMatrixEnv(t, db)
		setup := time.Since(began)

		byAction := map[rbac.Action][]rbac.Case{}
		for _, c := range rbac.Matrix() {
			byAction[c.Action] = append(byAction[c.Action], c)
		}
		// The actions are independent (each uses up only fixtures of its own), so a few workers
		// take them one at a time, biggest first, each as a subtest that lists its mismatches.
		actions := rbac.Actions()
		slices.SortStableFunc(actions, func(a, b rbac.Action) int { return len(byAction[b]) - len(byAction[a]) })
		queue := make(chan rbac.Action, len(actions))
		for _, a := range actions {
			queue <- a
		}
		close(queue)
		var wg sync.WaitGroup
		for range mxWorkers {
			wg.Go(func() {
				for a := range queue {
					t.Run(string(a), func(t *testing.T) {
						m.run(t, rules[a], calls[a], byAction[a], byAction[rbac.ActTeamList])
					})
				}
			})
		}
		wg.Wait()
		t.Logf("%d actions, %d cases in %v (fixtures and tokens %v; %d tokens signed beyond what login grants)",
			len(actions), len(rbac.Matrix()), time.Since(began).Round(time.Millisecond), setup.Round(time.Millisecond), m.minted)
	})
}

// mxWorkers is how many actions run at once: enough to overlap the round trips to a database
// server, few enough not to fight over two CPUs.
const mxWorkers = 3

// run sends the cases of one action and reports every answer that differs from its case.
// listCases are the cases of teams.list, the fallback of teams.list_all.
func (m *mxEnv) run(t *testing.T, rule rbac.Rule, call mxCall, cases, listCases []rbac.Case) {
	mt := m.forTest(t)
	pattern := call.pattern()
	listRule, _ := rbac.RuleFor(rbac.ActTeamList)
	var mismatches []string
	for _, c := range cases {
		caller := m.callers[c.Global]
		req := call.build(mt, caller, c.Team)
		if !pattern.MatchString(req.method + " " + req.path) {
			t.Fatalf("the request %s %s is not on the rule's endpoint %s", req.method, req.path, rule.Endpoint)
		}
		r := mt.e.do(req.method, req.path, caller.tokens[mxScopeKey(c.Scopes)], req.body)
		if r.Status/100 == 2 && req.succeeded != nil {
			req.succeeded()
		}
		want, ok := mxOutcome(c), false
		switch {
		case c.Action == rbac.ActTeamListAll && c.Code == "":
			ok = r.Status == http.StatusOK && mt.listsTeam(r, m.foreignTeam)
			want = "200 listing a team the caller is not a member of"
		case c.Action == rbac.ActTeamListAll:
			// GET /api/v1/teams is also teams.list: a caller refused teams.list_all gets the
			// answer of teams.list, without the teams it is not a member of.
			i := slices.IndexFunc(listCases, func(l rbac.Case) bool {
				return l.Global == c.Global && slices.Equal(l.Scopes, c.Scopes)
			})
			ok = mxMatches(listCases[i], listRule, r) && (r.Status != http.StatusOK || !mt.listsTeam(r, m.foreignTeam))
			want = mxOutcome(listCases[i]) + " as for teams.list, without the teams the caller is not a member of"
		default:
			ok = mxMatches(c, rule, r)
		}
		if !ok {
			mismatches = append(mismatches, fmt.Sprintf("%s %s as global=%s team=%s scopes=[%s]: want %s, got %d %s %s",
				req.method, req.path, mxName(string(c.Global)), mxName(string(c.Team)), mxScopeKey(c.Scopes),
				want, r.Status, r.code(), mxSnippet(r)))
		}
	}
	if len(mismatches) > 0 {
		t.Errorf("%s: %d of %d cases differ from the matrix (docs/authorization.md):\n%s",
			rule.Endpoint, len(mismatches), len(cases), strings.Join(mismatches, "\n"))
	}
}

// mxRequest is one request of a matrix case.
type mxRequest struct {
	method, path string
	body         any
	// succeeded runs after a 2xx answer, to replace what the request used up.
	succeeded func()
}

// mxCall says how to call one action's endpoint as a caller with a team role.
type mxCall struct {
	endpoint string // the rule's Endpoint, checked against the table
	build    func(m *mxT, c *mxCaller, tr gatehouse.TeamRole) mxRequest
}

var mxPlaceholder = regexp.MustCompile(`\\\{[a-z_]+\\\}`)

// pattern matches the method and paths of the endpoint, each {placeholder} one path segment.
func (c mxCall) pattern() *regexp.Regexp {
	return regexp.MustCompile("^" + mxPlaceholder.ReplaceAllString(regexp.QuoteMeta(c.endpoint), `[^/?]+`) + "$")
}

func mxGet(path string) mxRequest { return mxRequest{method: "GET", path: path} }

// mxCalls is every endpoint the test knows how to call, by action.
func mxCalls() map[rbac.Action]mxCall {
	return map[rbac.Action]mxCall{
		rbac.ActUserReadSelf: {"GET /api/v1/me", func(*mxT, *mxCaller, gatehouse.TeamRole) mxRequest {
			return mxGet("/api/v1/me")
		}},
		rbac.ActUserUpdateSelf: {"PATCH /api/v1/me", func(*mxT, *mxCaller, gatehouse.TeamRole) mxRequest {
			return mxRequest{method: "PATCH", path: "/api/v1/me", body: map[string]any{}}
		}},
		rbac.ActAPIKeysList: {"GET /api/v1/api-keys", func(*mxT, *mxCaller, gatehouse.TeamRole) mxRequest {
			return mxGet("/api/v1/api-keys")
		}},
		// Every allowed token carries write, and every caller's roles allow it (the callers
		// without a global role that grants write are members of a team).
		rbac.ActAPIKeyCreate: {"POST /api/v1/api-keys", func(m *mxT, _ *mxCaller, _ gatehouse.TeamRole) mxRequest {
			return mxRequest{method: "POST", path: "/api/v1/api-keys", body: map[string]any{"name": m.name("key"), "scopes": []string{"write"}}}
		}},
		rbac.ActAPIKeyRevoke: {"DELETE /api/v1/api-keys/{id}", func(m *mxT, c *mxCaller, _ gatehouse.TeamRole) mxRequest {
			key := "api-key/" + c.email
			id := m.spare(key, func() int64 { return m.newAPIKey(c.id) })
			return mxRequest{method: "DELETE", path: fmt.Sprintf("/api/v1/api-keys/%d", id), succeeded: m.consume(key)}
		}},

		rbac.ActUsersList: {"GET /api/v1/users", func(*mxT, *mxCaller, gatehouse.TeamRole) mxRequest {
			return mxGet("/api/v1/users")
		}},
		rbac.ActUsersCreate: {"POST /api/v1/users", func(m *mxT, _ *mxCaller, _ gatehouse.TeamRole) mxRequest {
			return mxRequest{method: "POST", path: "/api/v1/users", body: map[string]any{
				"email": m.name("created") + "@example.com", "password": strongPassword, "roles": []string{}, "confirmed": true,
			}}
		}},
		rbac.ActUsersRead: {"GET /api/v1/users/{user_id}", func(m *mxT, _ *mxCaller, _ gatehouse.TeamRole) mxRequest {
			return mxGet(fmt.Sprintf("/api/v1/users/%d", m.userTarget))
		}},
		rbac.ActUsersUpdate: {"PATCH /api/v1/users/{user_id}", func(m *mxT, _ *mxCaller, _ gatehouse.TeamRole) mxRequest {
			return mxRequest{method: "PATCH", path: fmt.Sprintf("/api/v1/users/%d", m.userTarget), body: map[string]any{"must_change_password": false}}
		}},
		rbac.ActUsersDelete: {"DELETE /api/v1/users/{user_id}", func(m *mxT, _ *mxCaller, _ gatehouse.TeamRole) mxRequest {
			id := m.spare("user", func() int64 { return m.newUser("doomed") })
			return mxRequest{method: "DELETE", path: fmt.Sprintf("/api/v1/users/%d", id), succeeded: m.consume("user")}
		}},
		rbac.ActUsersResetAccess: {"POST /api/v1/users/{user_id}/reset-access", func(m *mxT, _ *mxCaller, _ gatehouse.TeamRole) mxRequest {
			return mxRequest{method: "POST", path: fmt.Sprintf("/api/v1/users/%d/reset-access", m.resetTarget)}
		}},
		rbac.ActUsersUnlock: {"POST /api/v1/users/{user_id}/unlock", func(m *mxT, _ *mxCaller, _ gatehouse.TeamRole) mxRequest {
			return mxRequest{method: "POST", path: fmt.Sprintf("/api/v1/users/%d/unlock", m.userTarget)}
		}},
		rbac.ActUsersResetTwoFactor: {"POST /api/v1/users/{user_id}/2fa/reset", func(m *mxT, _ *mxCaller, _ gatehouse.TeamRole) mxRequest {
			return mxRequest{method: "POST", path: fmt.Sprintf("/api/v1/users/%d/2fa/reset", m.resetTarget)}
		}},

		rbac.ActTeamCreate: {"POST /api/v1/teams", func(m *mxT, _ *mxCaller, _ gatehouse.TeamRole) mxRequest {
			return mxRequest{method: "POST", path: "/api/v1/teams", body: map[string]any{"name": m.name("created team")}}
		}},
		rbac.ActTeamList:    {"GET /api/v1/teams", func(*mxT, *mxCaller, gatehouse.TeamRole) mxRequest { return mxGet("/api/v1/teams") }},
		rbac.ActTeamListAll: {"GET /api/v1/teams", func(*mxT, *mxCaller, gatehouse.TeamRole) mxRequest { return mxGet("/api/v1/teams") }},
		rbac.ActTeamRead: {"GET /api/v1/teams/{id}", func(m *mxT, _ *mxCaller, tr gatehouse.TeamRole) mxRequest {
			return mxGet(m.teamPath(tr))
		}},
		rbac.ActTeamUpdate: {"PATCH /api/v1/teams/{id}", func(m *mxT, _ *mxCaller, tr gatehouse.TeamRole) mxRequest {
			return mxRequest{method: "PATCH", path: m.teamPath(tr), body: map[string]any{"description": m.name("description")}}
		}},
		rbac.ActTeamDelete: {"DELETE /api/v1/teams/{id}", func(m *mxT, c *mxCaller, tr gatehouse.TeamRole) mxRequest {
			key := "team/" + string(tr) + "/" + c.email
			id := m.spare(key, func() int64 { return m.newTeam(tr, c.id) })
			return mxRequest{method: "DELETE", path: fmt.Sprintf("/api/v1/teams/%d", id), succeeded: m.consume(key)}
		}},
		// A team of its own per caller and role, so that no other action sees the caller gone;
		// it joins again after leaving.
		rbac.ActTeamLeave: {"POST /api/v1/teams/{id}/leave", func(m *mxT, c *mxCaller, tr gatehouse.TeamRole) mxRequest {
			id := m.spare("leave/"+string(tr)+"/"+c.email, func() int64 { return m.newTeam(tr, c.id) })
			return mxRequest{method: "POST", path: fmt.Sprintf("/api/v1/teams/%d/leave", id), succeeded: func() { m.setMember(id, c.id, tr) }}
		}},

		rbac.ActMembersList: {"GET /api/v1/teams/{id}/members", func(m *mxT, _ *mxCaller, tr gatehouse.TeamRole) mxRequest {
			return mxGet(m.teamPath(tr) + "/members")
		}},
		rbac.ActMemberRead: {"GET /api/v1/teams/{id}/members/{user_id}", func(m *mxT, _ *mxCaller, tr gatehouse.TeamRole) mxRequest {
			return mxGet(fmt.Sprintf("%s/members/%d", m.teamPath(tr), m.viewerTarget))
		}},
		// Setting a member's role to the one it has is the action of that role: viewer to viewer
		// is members.set, admin to admin members.set_privileged; neither changes anything.
		rbac.ActMemberSet: {"PUT /api/v1/teams/{id}/members/{user_id}", func(m *mxT, _ *mxCaller, tr gatehouse.TeamRole) mxRequest {
			return mxRequest{method: "PUT", path: fmt.Sprintf("%s/members/%d", m.teamPath(tr), m.viewerTarget), body: map[string]any{"role": "viewer"}}
		}},
		rbac.ActMemberSetPrivileged: {"PUT /api/v1/teams/{id}/members/{user_id}", func(m *mxT, _ *mxCaller, tr gatehouse.TeamRole) mxRequest {
			return mxRequest{method: "PUT", path: fmt.Sprintf("%s/members/%d", m.teamPath(tr), m.adminTarget), body: map[string]any{"role": "admin"}}
		}},
		rbac.ActMemberRemove: {"DELETE /api/v1/teams/{id}/members/{user_id}", func(m *mxT, _ *mxCaller, tr gatehouse.TeamRole) mxRequest {
			return mxRequest{method: "DELETE", path: fmt.Sprintf("%s/members/%d", m.teamPath(tr), m.removableMember),
				succeeded: func() { m.setMember(m.teams[tr], m.removableMember, gatehouse.TeamMember) }}
		}},
		rbac.ActMemberRemovePrivileged: {"DELETE /api/v1/teams/{id}/members/{user_id}", func(m *mxT, _ *mxCaller, tr gatehouse.TeamRole) mxRequest {
			return mxRequest{method: "DELETE", path: fmt.Sprintf("%s/members/%d", m.teamPath(tr), m.removableAdmin),
				succeeded: func() { m.setMember(m.teams[tr], m.removableAdmin, gatehouse.TeamAdmin) }}
		}},

		rbac.ActInvitationsList: {"GET /api/v1/teams/{id}/invitations", func(m *mxT, _ *mxCaller, tr gatehouse.TeamRole) mxRequest {
			return mxGet(m.teamPath(tr) + "/invitations")
		}},
		// Reading uses nothing up: one invitation per team serves every caller.
		rbac.ActInvitationRead: {"GET /api/v1/teams/{id}/invitations/{invitation_id}", func(m *mxT, _ *mxCaller, tr gatehouse.TeamRole) mxRequest {
			id := m.spare("read-invitation/"+string(tr), func() int64 { id, _ := m.newInvitation(m.teams[tr], m.name("invited")+"@example.com"); return id })
			return mxGet(fmt.Sprintf("%s/invitations/%d", m.teamPath(tr), id))
		}},
		rbac.ActInvitationCreate: {"POST /api/v1/teams/{id}/invitations", func(m *mxT, _ *mxCaller, tr gatehouse.TeamRole) mxRequest {
			return mxRequest{method: "POST", path: m.teamPath(tr) + "/invitations", body: map[string]any{"email": m.name("invited") + "@example.com", "role": "member"}}
		}},
		rbac.ActInvitationCreatePrivileged: {"POST /api/v1/teams/{id}/invitations", func(m *mxT, _ *mxCaller, tr gatehouse.TeamRole) mxRequest {
			return mxRequest{method: "POST", path: m.teamPath(tr) + "/invitations", body: map[string]any{"email": m.name("invited") + "@example.com", "role": "admin"}}
		}},
		rbac.ActInvitationRevoke: {"DELETE /api/v1/teams/{id}/invitations/{invitation_id}", func(m *mxT, _ *mxCaller, tr gatehouse.TeamRole) mxRequest {
			key := "invitation/" + string(tr)
			id := m.spare(key, func() int64 { id, _ := m.newInvitation(m.teams[tr], m.name("invited")+"@example.com"); return id })
			return mxRequest{method: "DELETE", path: fmt.Sprintf("%s/invitations/%d", m.teamPath(tr), id), succeeded: m.consume(key)}
		}},
		// An invitation to the caller's own address, to a team of its own.
		rbac.ActInvitationAccept: {"POST /api/v1/invitations/accept", func(m *mxT, c *mxCaller, _ gatehouse.TeamRole) mxRequest {
			key := "accept/" + c.email
			m.spare(key, func() int64 {
				id, secret := m.newInvitation(m.newTeam(""), c.email)
				m.setSecret(key, secret)
				return id
			})
			return mxRequest{method: "POST", path: "/api/v1/invitations/accept", body: map[string]any{"token": m.secret(key)}, succeeded: m.consume(key)}
		}},

		rbac.ActProjectsList: {"GET /api/v1/teams/{id}/projects", func(m *mxT, _ *mxCaller, tr gatehouse.TeamRole) mxRequest {
			return mxGet(m.teamPath(tr) + "/projects")
		}},
		rbac.ActProjectCreate: {"POST /api/v1/teams/{id}/projects", func(m *mxT, _ *mxCaller, tr gatehouse.TeamRole) mxRequest {
			return mxRequest{method: "POST", path: m.teamPath(tr) + "/projects", body: map[string]any{"name": m.name("project")}}
		}},
		rbac.ActProjectRead: {"GET /api/v1/teams/{id}/projects/{project_id}", func(m *mxT, _ *mxCaller, tr gatehouse.TeamRole) mxRequest {
			return mxGet(fmt.Sprintf("%s/projects/%d", m.teamPath(tr), m.projects[tr]))
		}},
		rbac.ActProjectUpdate: {"PATCH /api/v1/teams/{id}/projects/{project_id}", func(m *mxT, _ *mxCaller, tr gatehouse.TeamRole) mxRequest {
			return mxRequest{method: "PATCH", path: fmt.Sprintf("%s/projects/%d", m.teamPath(tr), m.projects[tr]), body: map[string]any{"description": m.name("description")}}
		}},
		rbac.ActProjectDelete: {"DELETE /api/v1/teams/{id}/projects/{project_id}", func(m *mxT, _ *mxCaller, tr gatehouse.TeamRole) mxRequest {
			key := "project/" + string(tr)
			id := m.spare(key, func() int64 { return m.newProject(m.teams[tr]) })
			return mxRequest{method: "DELETE", path: fmt.Sprintf("%s/projects/%d", m.teamPath(tr), id), succeeded: m.consume(key)}
		}},

		rbac.ActOutboxRead:  {"GET /api/v1/admin/outbox", func(*mxT, *mxCaller, gatehouse.TeamRole) mxRequest { return mxGet("/api/v1/admin/outbox") }},
		rbac.ActAuditRead:   {"GET /api/v1/admin/audit", func(*mxT, *mxCaller, gatehouse.TeamRole) mxRequest { return mxGet("/api/v1/admin/audit") }},
		rbac.ActLicenseRead: {"GET /api/v1/license", func(*mxT, *mxCaller, gatehouse.TeamRole) mxRequest { return mxGet("/api/v1/license") }},
	}
}

// mxCaller is an account with one global role (or none) and an access token per set of scopes.
type mxCaller struct {
	email  string
	id     int64
	tokens map[string]string // by mxScopeKey
}

// mxEnv is the running app and the fixtures the matrix requests act on, shared by the subtests.
type mxEnv struct {
	base    *env
	callers map[gatehouse.Role]*mxCaller
	minted  int

	owner    int64                        // creates the fixture teams; never a caller
	teams    map[gatehouse.TeamRole]int64 // every caller has the role in teams[role]; teams[""] has none of them
	projects map[gatehouse.TeamRole]int64 // one project in each of teams
	// foreignTeam has none of the callers: only a caller who may list every team sees it.
	foreignTeam int64
	// Members of every team of teams, the targets of the member changes.
	viewerTarget, adminTarget, removableMember, removableAdmin int64
	// The targets of the user administration requests.
	userTarget, resetTarget int64

	mu      sync.Mutex
	seq     int
	spares  map[string]int64  // fixtures that a successful request uses up, by kind
	secrets map[string]string // the secrets of spare invitations, by kind
}

// mxT is the fixtures as one (sub)test uses them: its failures are its own.
type mxT struct {
	*mxEnv
	t *testing.T
	e *env
}

func (m *mxEnv) forTest(t *testing.T) *mxT {
	e := *m.base
	e.t = t
	return &mxT{mxEnv: m, t: t, e: &e}
}

func newMatrixEnv(t *testing.T, db config.DB) *mxEnv {
	m := &mxEnv{
		base:    start(t, testConfig(db), true),
		callers: map[gatehouse.Role]*mxCaller{}, teams: map[gatehouse.TeamRole]int64{}, projects: map[gatehouse.TeamRole]int64{},
		spares: map[string]int64{}, secrets: map[string]string{},
	}
	mt := m.forTest(t)
	m.owner = mt.newUser("fixture-owner")
	m.foreignTeam = mt.newTeam("") // first, so that it is on the first page of every list
	m.viewerTarget, m.adminTarget = mt.newUser("viewer-target"), mt.newUser("admin-target")
	m.removableMember, m.removableAdmin = mt.newUser("removable-member"), mt.newUser("removable-admin")
	m.userTarget, m.resetTarget = mt.newUser("user-target"), mt.newUser("reset-target")
	for _, g := range rbac.GlobalColumns {
		email := "mx-" + mxName(string(g)) + "@example.com"
		if g == "" {
			mt.e.createUser(email, strongPassword)
		} else {
			mt.e.createUser(email, strongPassword, string(g))
		}
		m.callers[g] = &mxCaller{email: email, id: mt.e.userID(email), tokens: map[string]string{}}
	}
	for _, tr := range rbac.TeamColumns {
		var members []int64
		if tr != "" {
			for _, g := range rbac.GlobalColumns {
				members = append(members, m.callers[g].id)
			}
		}
		id := mt.newTeam(tr, members...)
		m.teams[tr], m.projects[tr] = id, mt.newProject(id)
		mt.setMember(id, m.viewerTarget, gatehouse.TeamViewer)
		mt.setMember(id, m.adminTarget, gatehouse.TeamAdmin)
		mt.setMember(id, m.removableMember, gatehouse.TeamMember)
		mt.setMember(id, m.removableAdmin, gatehouse.TeamAdmin)
	}
	// Log in once the memberships exist: they widen what accounts without a global role get.
	for _, g := range rbac.GlobalColumns {
		mt.tokensFor(m.callers[g])
	}
	return m
}

// tokensFor gives c a token for every set of scopes: from login when c's roles allow the set,
// else signed by the token manager on c's session (see TestAuthorizationMatrixEndpoints).
func (m *mxT) tokensFor(c *mxCaller) {
	full := m.e.login(c.email, strongPassword)
	allowed, _ := gatehouse.ParseScopes(full.Scope)
	claims, err := m.e.app.Tokens.Verify(full.AccessToken)
	if err != nil {
		m.t.Fatal(err)
	}
	for _, set := range rbac.ScopeSets() {
		key := mxScopeKey(set)
		if len(set) > 0 && mxSubset(set, allowed) {
			r := m.e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": c.email, "password": strongPassword, "scope": key})
			m.e.expect(r, http.StatusOK, "")
			var tk tokens
			r.data(m.t, &tk)
			if tk.Scope != key {
				m.t.Fatalf("%s asked for scopes %q and got %q", c.email, key, tk.Scope)
			}
			c.tokens[key] = tk.AccessToken
			continue
		}
		cl := *claims
		cl.Scope = nil
		for _, s := range set {
			cl.Scope = append(cl.Scope, string(s))
		}
		tok, _, err := m.e.app.Tokens.Issue(cl)
		if err != nil {
			m.t.Fatal(err)
		}
		c.tokens[key] = tok
		m.minted++
	}
}

func mxSubset(set, of []gatehouse.Scope) bool {
	for _, s := range set {
		if !slices.Contains(of, s) {
			return false
		}
	}
	return true
}

// name returns a fresh name with the prefix.
func (m *mxEnv) name(prefix string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	return fmt.Sprintf("mx-%s-%d", strings.ReplaceAll(prefix, " ", "-"), m.seq)
}

func (m *mxT) newUser(prefix string) int64 {
	email := m.name(prefix) + "@example.com"
	m.e.createUser(email, strongPassword)
	return m.e.userID(email)
}

// newTeam creates a team owned by the fixture owner, with members in role tr ("" for none).
func (m *mxT) newTeam(tr gatehouse.TeamRole, members ...int64) int64 {
	team := &gatehouse.Team{Name: m.name("team")}
	if err := m.e.app.Store.CreateTeam(m.t.Context(), team, m.owner); err != nil {
		m.t.Fatal(err)
	}
	if tr != "" {
		for _, id := range members {
			m.setMember(team.ID, id, tr)
		}
	}
	return team.ID
}

func (m *mxT) setMember(team, user int64, tr gatehouse.TeamRole) {
	if err := m.e.app.Store.SetMembership(m.t.Context(), &gatehouse.Membership{TeamID: team, UserID: user, Role: tr}); err != nil {
		m.t.Fatal(err)
	}
}

func (m *mxT) newProject(team int64) int64 {
	p := &gatehouse.Project{TeamID: team, Name: m.name("project")}
	if err := m.e.app.Store.CreateProject(m.t.Context(), p); err != nil {
		m.t.Fatal(err)
	}
	return p.ID
}

// newInvitation invites email to team as a member and returns the invitation and its link token.
func (m *mxT) newInvitation(team int64, email string) (int64, string) {
	tok, code := auth.NewOneTimeSecrets()
	inv, err := m.e.app.Store.CreateInvitation(m.t.Context(), gatehouse.NewInvitation{
		TeamID: team, Email: email, Role: gatehouse.TeamMember, InvitedBy: m.owner,
		TokenHash: m.e.app.Auth.HashOneTimeSecret(tok), CodeHash: m.e.app.Auth.HashOneTimeSecret(code), ExpiresAt: m.e.clock.Now().Add(time.Hour),
	})
	if err != nil {
		m.t.Fatal(err)
	}
	return inv.ID, tok
}

// newAPIKey stores a key of the user; only its id matters (it is revoked, never presented).
func (m *mxT) newAPIKey(user int64) int64 {
	k := &gatehouse.APIKey{UserID: user, Name: m.name("key"), Prefix: "ghk_MATRIX00", Scopes: []gatehouse.Scope{gatehouse.ScopeRead}, Stamp: "matrix"}
	if err := m.e.app.Store.CreateAPIKey(m.t.Context(), k, rand.Text()); err != nil {
		m.t.Fatal(err)
	}
	return k.ID
}

// spare returns the fixture of kind key, making it with mk when there is none (or the last one
// was used up). Each kind belongs to one action, whose cases run one after the other.
func (m *mxEnv) spare(key string, mk func() int64) int64 {
	m.mu.Lock()
	id, ok := m.spares[key]
	m.mu.Unlock()
	if !ok {
		id = mk()
		m.mu.Lock()
		m.spares[key] = id
		m.mu.Unlock()
	}
	return id
}

// consume returns a function that marks the spare fixture of kind key used up.
func (m *mxEnv) consume(key string) func() {
	return func() {
		m.mu.Lock()
		delete(m.spares, key)
		m.mu.Unlock()
	}
}

func (m *mxEnv) secret(key string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.secrets[key]
}

func (m *mxEnv) setSecret(key, secret string) {
	m.mu.Lock()
	m.secrets[key] = secret
	m.mu.Unlock()
}

func (m *mxEnv) teamPath(tr gatehouse.TeamRole) string {
	return fmt.Sprintf("/api/v1/teams/%d", m.teams[tr])
}

// listsTeam reports whether a list of teams holds the team id.
func (m *mxT) listsTeam(r *response, id int64) bool {
	var teams []teamData
	r.data(m.t, &teams)
	return slices.ContainsFunc(teams, func(x teamData) bool { return x.ID == id })
}

// mxOutcome describes the answer a case expects.
func mxOutcome(c rbac.Case) string {
	switch {
	case c.Code == "":
		return "2xx"
	case c.Reason != "":
		return "403 " + c.Reason
	case c.Code == gatehouse.ENotFound:
		return "404 not_found"
	}
	return "403 " + string(c.Code)
}

// mxMatches reports whether the answer r is the one case c expects of rule's endpoint.
func mxMatches(c rbac.Case, rule rbac.Rule, r *response) bool {
	switch {
	case c.Code == "":
		return r.Status/100 == 2
	case c.Reason == rbac.ReasonInsufficientScope:
		return r.Status == http.StatusForbidden && r.code() == rbac.ReasonInsufficientScope &&
			r.Header.Get("WWW-Authenticate") == fmt.Sprintf(`Bearer error="insufficient_scope", scope="%s"`, rule.Scope)
	case c.Code == gatehouse.ENotFound:
		return r.Status == http.StatusNotFound && r.code() == "not_found"
	case c.Code == gatehouse.EForbidden:
		return r.Status == http.StatusForbidden && r.code() == "forbidden"
	}
	return false
}

func mxScopeKey(s []gatehouse.Scope) string { return gatehouse.FormatScopes(s) }

func mxName(role string) string {
	if role == "" {
		return "none"
	}
	return role
}

// mxSnippet is what a mismatch report shows of an answer: the challenge and the error message.
func mxSnippet(r *response) string {
	var parts []string
	if h := r.Header.Get("WWW-Authenticate"); h != "" {
		parts = append(parts, "WWW-Authenticate: "+h)
	}
	if r.Body.Error != nil {
		parts = append(parts, fmt.Sprintf("%q", r.Body.Error.Message))
	}
	return strings.Join(parts, " ")
}
