package app_test

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/rbac"
)

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

// newFailedMail puts a message in the outbox that has failed for good, for outbox.retry.
func (m *mxT) newFailedMail() int64 {
	mail := &gatehouse.OutboxMail{To: m.name("mail") + "@example.com", Subject: "Matrix", Text: "matrix"}
	if err := m.e.app.Store.EnqueueMail(m.t.Context(), mail, m.e.clock.Now()); err != nil {
		m.t.Fatal(err)
	}
	if _, err := m.e.app.Store.DB().ExecContext(m.t.Context(), "UPDATE mail_outbox SET status = 'failed', last_error = 'matrix' WHERE id = "+strconv.FormatInt(mail.ID, 10)); err != nil {
		m.t.Fatal(err)
	}
	return mail.ID
}
