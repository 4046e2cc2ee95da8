package servertest

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/authz"
	"github.com/gatehousehq/gatehouse/server"
)

// Request is the request of one matrix case.
type Request struct {
	Method, Path string
	// Body is sent as Do sends it (JSON unless a string); nil for none.
	Body any
	// Header adds request headers as name, value pairs.
	Header []string
}

// Fixture is what a Call makes its request from.
type Fixture struct {
	// Env is the server under test.
	Env *Env
	// TeamID is the team the case's caller has the case's team role in (none, for the
	// "not a member" column); 0 for an action that is not team-scoped.
	TeamID int64
	// OwnerToken is a token of the teams' owner (every scope), to make what the request acts on
	// (the note a delete deletes) as someone other than the caller.
	OwnerToken string
}

// Call makes the request of a case of one action: a request on the action's endpoint that
// succeeds whenever the caller is allowed. It runs once per case, so a request that uses
// something up (a delete) makes a fresh one each time.
type Call func(f Fixture) Request

// CheckMatrix sends every case of the authorization matrix of the resource's actions (each
// global role: admin, maintainer, viewer, none × team role: owner, admin, member, viewer, not a
// member × each of the eight sets of token scopes, as authz.Matrix lists them) to the real route,
// and fails the test for every answer that differs from the case:
//
//   - allowed: a 2xx answer;
//   - forbidden: 403 forbidden;
//   - missing scope: 403 insufficient_scope, with WWW-Authenticate naming the rule's scope;
//   - not visible: 404 not_found.
//
// Every rule of the resource needs a Call, on the rule's endpoint: a new rule fails the test until
// the test knows how to call it. The callers, teams and tokens are made on e.
func CheckMatrix(t *testing.T, e *Env, r server.Resource, calls map[authz.Action]Call) {
	t.Helper()
	rules := map[authz.Action]authz.Rule{}
	for _, rule := range r.Rules {
		full, ok := authz.RuleFor(rule.Action) // with the endpoint New filled in
		if !ok {
			t.Fatalf("servertest: rule %s is not registered: start e with the resource", rule.Action)
		}
		rules[rule.Action] = full
		if calls[rule.Action] == nil {
			t.Errorf("servertest: rule %s (%s) has no Call: teach the test to call it", rule.Action, full.Endpoint)
		}
	}
	for a := range calls {
		if _, ok := rules[a]; !ok {
			t.Errorf("servertest: there is a Call for %s, which is not a rule of resource %s", a, r.Name)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	m := newMatrix(e)
	cases := map[authz.Action][]authz.Case{}
	for _, c := range authz.Matrix() {
		if _, ok := rules[c.Action]; ok {
			cases[c.Action] = append(cases[c.Action], c)
		}
	}
	for _, rule := range r.Rules {
		t.Run(string(rule.Action), func(t *testing.T) {
			m.run(t, rules[rule.Action], calls[rule.Action], cases[rule.Action])
		})
	}
}

// matrix holds the callers (one per global role column), their tokens (one per scope set) and
// the teams (one per team role column; every caller has that role in it, none in the last).
type matrix struct {
	e          *Env
	ownerToken string
	teams      map[gatehouse.TeamRole]int64
	tokens     map[gatehouse.Role]map[string]string // by global role, then by scope set
}

func newMatrix(e *Env) *matrix {
	m := &matrix{e: e, teams: map[gatehouse.TeamRole]int64{}, tokens: map[gatehouse.Role]map[string]string{}}
	prefix := e.Name("mx")
	ownerEmail := prefix + "-owner@example.com"
	e.CreateUser(ownerEmail, gatehouse.RoleMaintainer)
	m.ownerToken = e.Login(ownerEmail)
	callers := map[gatehouse.Role]int64{}
	emails := map[gatehouse.Role]string{}
	for _, g := range globalColumns {
		emails[g] = fmt.Sprintf("%s-%s@example.com", prefix, roleName(string(g)))
		if g == "" {
			callers[g] = e.CreateUser(emails[g])
		} else {
			callers[g] = e.CreateUser(emails[g], g)
		}
	}
	for _, tr := range teamColumns {
		id := e.CreateTeam(m.ownerToken, fmt.Sprintf("%s team %s", prefix, roleName(string(tr))))
		m.teams[tr] = id
		if tr == "" {
			continue
		}
		for _, g := range globalColumns {
			e.SetMember(m.ownerToken, id, callers[g], tr)
		}
	}
	for _, g := range globalColumns {
		m.tokens[g] = map[string]string{}
		sets := scopeSets()
		for i, tok := range e.tokensWithScopes(emails[g], sets...) {
			m.tokens[g][gatehouse.FormatScopes(sets[i])] = tok
		}
	}
	return m
}

// The columns of the matrix, as authz.Matrix walks them.
var (
	globalColumns = []gatehouse.Role{gatehouse.RoleAdmin, gatehouse.RoleMaintainer, gatehouse.RoleViewer, ""}
	teamColumns   = []gatehouse.TeamRole{gatehouse.TeamOwner, gatehouse.TeamAdmin, gatehouse.TeamMember, gatehouse.TeamViewer, ""}
)

// scopeSets is every subset of the scopes.
func scopeSets() [][]gatehouse.Scope {
	var sets [][]gatehouse.Scope
	for mask := range 1 << len(gatehouse.AllScopes) {
		set := []gatehouse.Scope{}
		for i, s := range gatehouse.AllScopes {
			if mask&(1<<i) != 0 {
				set = append(set, s)
			}
		}
		sets = append(sets, set)
	}
	return sets
}

var placeholder = regexp.MustCompile(`\\\{[a-z_]+\\\}`)

func (m *matrix) run(t *testing.T, rule authz.Rule, call Call, cases []authz.Case) {
	endpoint := regexp.MustCompile("^" + placeholder.ReplaceAllString(regexp.QuoteMeta(rule.Endpoint), `[^/?]+`) + "$")
	var mismatches []string
	for _, c := range cases {
		f := Fixture{Env: m.e, OwnerToken: m.ownerToken}
		if rule.TeamScoped {
			f.TeamID = m.teams[c.Team]
		}
		req := call(f)
		if !endpoint.MatchString(req.Method + " " + req.Path) {
			t.Fatalf("servertest: the request %s %s is not on the rule's endpoint %s", req.Method, req.Path, rule.Endpoint)
		}
		tok := m.tokens[c.Global][gatehouse.FormatScopes(c.Scopes)]
		r := do(t, m.e.srv.Client(), m.e.URL, req.Method, req.Path, tok, req.Body, req.Header...)
		if want, ok := matches(c, rule, r); !ok {
			mismatches = append(mismatches, fmt.Sprintf("%s %s as global=%s team=%s scopes=[%s]: want %s, got %d %s %s",
				req.Method, req.Path, roleName(string(c.Global)), roleName(string(c.Team)), gatehouse.FormatScopes(c.Scopes),
				want, r.Status, r.Code(), r.Header.Get("WWW-Authenticate")))
		}
	}
	if len(mismatches) > 0 {
		t.Errorf("%s: %d of %d cases differ from the matrix:\n%s", rule.Endpoint, len(mismatches), len(cases), strings.Join(mismatches, "\n"))
	}
}

// matches reports whether r is the answer case c expects of the rule's endpoint, and what that is.
func matches(c authz.Case, rule authz.Rule, r *Response) (string, bool) {
	switch {
	case c.Code == "":
		return "2xx", r.Status/100 == 2
	case c.Reason == authz.ReasonInsufficientScope:
		challenge := fmt.Sprintf(`Bearer error="insufficient_scope", scope="%s"`, rule.Scope)
		return "403 insufficient_scope", r.Status == http.StatusForbidden && r.Code() == authz.ReasonInsufficientScope &&
			r.Header.Get("WWW-Authenticate") == challenge
	case c.Code == gatehouse.ENotFound:
		return "404 not_found", r.Status == http.StatusNotFound && r.Code() == string(gatehouse.ENotFound)
	}
	return "403 " + string(c.Code), r.Status == http.StatusForbidden && r.Code() == string(c.Code)
}

func roleName(r string) string {
	if r == "" {
		return "none"
	}
	return r
}
