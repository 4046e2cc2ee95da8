package app_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
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

		rbac.ActOutboxRead: {"GET /api/v1/admin/outbox", func(*mxT, *mxCaller, gatehouse.TeamRole) mxRequest { return mxGet("/api/v1/admin/outbox") }},
		rbac.ActOutboxRetry: {"POST /api/v1/admin/outbox/{id}/retry", func(m *mxT, _ *mxCaller, _ gatehouse.TeamRole) mxRequest {
			id := m.spare("mail", m.newFailedMail)
			return mxRequest{method: "POST", path: fmt.Sprintf("/api/v1/admin/outbox/%d/retry", id), succeeded: m.consume("mail")}
		}},
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
