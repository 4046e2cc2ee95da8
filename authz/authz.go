// Package authz is Gatehouse's authorization decision as a host program sees it: the actions, the
// rules that say who may take them, and the one decision function.
//
// Every action has one rule. A rule names the scope the caller's token must carry, the global
// roles that grant the action on every resource, and, for a resource that belongs to a team, the
// team roles that grant it within their own team. Decide reads the rule; nothing else decides.
//
// A host program adds the rules of its own resources with Register (server.New does it for the
// rules of every server.Resource). They join Gatehouse's table: Decide answers for them, and
// Rules, Matrix and MatrixMarkdown (the generated authorization document) list them after
// Gatehouse's own, so documentation and endpoint tests cover them the same way.
package authz

import (
	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
)

// Action is one thing a caller may ask to do, such as "notes.create": dot-separated lower-case
// words, the resource first. It is also the name the logs and the matrix document show.
type Action string

// Group titles a section of the matrix document ("Notes").
type Group string

// Rule is one row of the authorization table.
type Rule struct {
	// Action is the action the rule decides.
	Action Action
	// Group is the section of the matrix document the action is listed in.
	Group Group
	// Endpoint is the route the action guards ("POST /api/v1/teams/{id}/notes"), for the
	// document and the endpoint tests. server.New fills it from the route that names the action
	// when it is empty.
	Endpoint string
	// Summary completes "may …" and "you may not …" ("create notes in this team").
	Summary string
	// Scope is the scope the token must carry. Scopes do not imply one another: a token with
	// only write cannot read.
	Scope gatehouse.Scope
	// AnyAccount grants the action to every signed-in account, even one with no role: the action
	// concerns only the caller's own things.
	AnyAccount bool
	// Global lists the global roles that grant the action on every resource, in every team.
	Global []gatehouse.Role
	// TeamScoped marks an action on a resource that belongs to a team. Only then is the caller's
	// team role looked at, and a caller with no role in the team who is not granted the action by
	// a global role learns nothing about the team: Decide answers not_found, as if it did not
	// exist.
	TeamScoped bool
	// Team lists the team roles that grant the action within their own team (TeamScoped only).
	Team []gatehouse.TeamRole
}

// Role lists that rules commonly use, as Gatehouse's own table does. Register copies the slices
// it is given, so changing these afterwards changes no rule.
var (
	// AdminOnly is the global admin role: granted everywhere, as for every Gatehouse resource.
	AdminOnly = []gatehouse.Role{gatehouse.RoleAdmin}
	// AllTeamRoles grants reading a team's resources to every member, viewers included.
	AllTeamRoles = []gatehouse.TeamRole{gatehouse.TeamOwner, gatehouse.TeamAdmin, gatehouse.TeamMember, gatehouse.TeamViewer}
	// TeamWriters grants changing a team's resources to every member but viewers.
	TeamWriters = []gatehouse.TeamRole{gatehouse.TeamOwner, gatehouse.TeamAdmin, gatehouse.TeamMember}
	// TeamManagers grants managing a team to its owners and admins.
	TeamManagers = []gatehouse.TeamRole{gatehouse.TeamOwner, gatehouse.TeamAdmin}
)

// ReasonInsufficientScope is the wire reason of a 403 whose only cause is a scope the token
// lacks: a token with the scope would succeed. It is also the RFC 6750 error in the
// WWW-Authenticate challenge.
const ReasonInsufficientScope = rbac.ReasonInsufficientScope

// Decide says whether p may take act. teamRole is p's role in the team that owns the resource,
// "" when p is not a member; it is ignored for actions that are not team-scoped. The answer is
// nil (allowed) or a *gatehouse.Error:
//
//   - not_found "team not found": a team-scoped action, p has no role in the team and no global
//     role granting act (callers outside a team cannot tell whether it exists);
//   - forbidden: p's roles do not grant act, whatever the token;
//   - forbidden with Reason ReasonInsufficientScope and a WWW-Authenticate challenge: the roles
//     grant act but the token lacks the rule's scope;
//   - unauthenticated: p is nil or has no user;
//   - internal: act has no rule (a bug: register it).
//
// Handlers of team resources usually call server.Kit.TeamAccess, which finds the caller's team
// role first and then asks Decide.
func Decide(p *gatehouse.Principal, act Action, teamRole gatehouse.TeamRole) error {
	return rbac.Decide(p, rbac.Action(act), teamRole)
}

// Register adds rules to the table after Gatehouse's own and those registered before. Every rule
// is checked (a well-formed action, a group, an endpoint and a summary, a known scope and known
// roles, team roles only on a team-scoped rule, somebody granted), and its action must be new:
// an action registered with a different rule, or one of Gatehouse's own, is an error. The very
// same rule registered again is accepted and changes nothing, so a test binary may build many
// servers with the same resources. Either every rule is added or none is.
//
// The table belongs to the process: rules cannot be removed once added.
func Register(rules ...Rule) error {
	rs := make([]rbac.Rule, len(rules))
	for i, r := range rules {
		rs[i] = toRBAC(r)
	}
	return rbac.Register(rs...)
}

// Validate checks a rule as Register does, without adding it.
func Validate(r Rule) error { return rbac.ValidateRule(toRBAC(r)) }

// Valid reports whether a has a rule (Gatehouse's or a registered one).
func (a Action) Valid() bool { return rbac.Action(a).Valid() }

// Rules returns a copy of the table in order: Gatehouse's rules, then the registered ones.
func Rules() []Rule {
	rs := rbac.Rules()
	out := make([]Rule, len(rs))
	for i, r := range rs {
		out[i] = fromRBAC(r)
	}
	return out
}

// RuleFor returns the rule of a, and false when a has none.
func RuleFor(a Action) (Rule, bool) {
	r, ok := rbac.RuleFor(rbac.Action(a))
	if !ok {
		return Rule{}, false
	}
	return fromRBAC(r), true
}

// Case is one cell of the exhaustive matrix: what Decide answers for a caller with one global
// role (or none), one team role (or none) and one set of token scopes.
type Case struct {
	Action Action
	Global gatehouse.Role     // "" for an account without a global role
	Team   gatehouse.TeamRole // "" for a non-member; always "" for an action that is not team-scoped
	Scopes []gatehouse.Scope
	// Code is "" when the action is allowed, else the error code (forbidden or not_found).
	Code gatehouse.Code
	// Reason is ReasonInsufficientScope when only the scope is missing.
	Reason string
}

// Matrix returns every case of every action: each global role column (admin, maintainer, viewer,
// none) × team role column (owner, admin, member, viewer, none; only none for an action that is
// not team-scoped) × set of scopes (all eight subsets of read, write, admin), as Decide answers
// it. Endpoint tests iterate over it (servertest.CheckMatrix does for a host's resources), so
// the routes, Decide and the document are checked against the same cells.
func Matrix() []Case {
	cs := rbac.Matrix()
	out := make([]Case, len(cs))
	for i, c := range cs {
		out[i] = Case{Action: Action(c.Action), Global: c.Global, Team: c.Team, Scopes: c.Scopes, Code: c.Code, Reason: c.Reason}
	}
	return out
}

// MatrixMarkdown renders the whole table as Markdown, one section per group: the rules as
// written, then every global role × team role cell as Decide answers it. Gatehouse's own
// docs/authorization.md is this text for Gatehouse's rules; a host program can write its own
// document, which then also lists its actions.
func MatrixMarkdown() string { return rbac.MatrixMarkdown() }

func toRBAC(r Rule) rbac.Rule {
	return rbac.Rule{Action: rbac.Action(r.Action), Group: rbac.Group(r.Group), Endpoint: r.Endpoint, Summary: r.Summary,
		Scope: r.Scope, AnyAccount: r.AnyAccount, Global: r.Global, TeamScoped: r.TeamScoped, Team: r.Team}
}

func fromRBAC(r rbac.Rule) Rule {
	return Rule{Action: Action(r.Action), Group: Group(r.Group), Endpoint: r.Endpoint, Summary: r.Summary,
		Scope: r.Scope, AnyAccount: r.AnyAccount, Global: r.Global, TeamScoped: r.TeamScoped, Team: r.Team}
}

// TeamRule is the rule of an action on a resource that belongs to a team, as Gatehouse's own team
// resources have it: granted to global admins in every team and to the team roles in their own
// team, with the token scope, listed in group; the endpoint is filled in from the route by
// server.New.
func TeamRule(group Group, act Action, scope gatehouse.Scope, summary string, team []gatehouse.TeamRole) Rule {
	return Rule{Action: act, Group: group, Summary: summary, Scope: scope, Global: AdminOnly, TeamScoped: true, Team: team}
}
