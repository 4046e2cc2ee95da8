package rbac

import (
	"slices"

	"github.com/gatehousehq/gatehouse"
)

// Action is one thing a caller may ask to do. The set is closed: every action is a row of the
// rules table, and its string is the name docs/authorization.md and the logs use.
type Action string

// Your own account. Every signed-in account may act on itself; the token's scope is the limit.
// The API key actions list, create and revoke the caller's own keys.
const (
	ActUserReadSelf   Action = "me.read"         // GET /api/v1/me
	ActUserUpdateSelf Action = "me.update"       // PATCH /api/v1/me
	ActAPIKeysList    Action = "api_keys.list"   //nolint:gosec // G101 matches the name: an action, not a credential
	ActAPIKeyCreate   Action = "api_keys.create" // create an API key for oneself
	ActAPIKeyRevoke   Action = "api_keys.revoke" // revoke one of one's own API keys
)

// User administration: global admins with an admin-scoped token.
const (
	ActUsersList        Action = "users.list"
	ActUsersCreate      Action = "users.create"
	ActUsersRead        Action = "users.read"
	ActUsersUpdate      Action = "users.update"
	ActUsersDelete      Action = "users.delete"
	ActUsersResetAccess Action = "users.reset_access"
	ActUsersUnlock      Action = "users.unlock"
	// ActUsersResetTwoFactor removes every second factor of a user who lost theirs.
	ActUsersResetTwoFactor Action = "users.reset_two_factor"
)

// Teams.
const (
	ActTeamCreate  Action = "teams.create"
	ActTeamList    Action = "teams.list"     // the teams the caller belongs to
	ActTeamListAll Action = "teams.list_all" // every team (same endpoint as ActTeamList)
	ActTeamRead    Action = "teams.read"
	ActTeamUpdate  Action = "teams.update"
	ActTeamDelete  Action = "teams.delete"
	ActTeamLeave   Action = "teams.leave"
)

// Team members. Changes that involve the owner or admin team role, as the member's current role or
// as the new one, are separate actions that only owners may take; MemberSetAction and
// MemberRemoveAction pick the right one.
const (
	ActMembersList            Action = "members.list"
	ActMemberRead             Action = "members.read"
	ActMemberSet              Action = "members.set"               // add or change a member or viewer, to member or viewer
	ActMemberSetPrivileged    Action = "members.set_privileged"    // any change that makes or unmakes an owner or admin
	ActMemberRemove           Action = "members.remove"            // remove a member or viewer
	ActMemberRemovePrivileged Action = "members.remove_privileged" // remove an owner or admin
)

// Invitations to a team. InvitationCreateAction picks the create action for the offered role.
const (
	ActInvitationsList            Action = "invitations.list"
	ActInvitationRead             Action = "invitations.read"
	ActInvitationCreate           Action = "invitations.create"            // invite as member or viewer
	ActInvitationCreatePrivileged Action = "invitations.create_privileged" // invite as owner or admin
	ActInvitationRevoke           Action = "invitations.revoke"
	ActInvitationAccept           Action = "invitations.accept" // by the invited account itself
)

// Projects: the example of a resource that belongs to a team; an application adds its own
// resources the same way.
const (
	ActProjectsList  Action = "projects.list"
	ActProjectCreate Action = "projects.create"
	ActProjectRead   Action = "projects.read"
	ActProjectUpdate Action = "projects.update"
	ActProjectDelete Action = "projects.delete"
)

// Operations views for global admins.
const (
	ActOutboxRead  Action = "outbox.read"
	ActOutboxRetry Action = "outbox.retry"
	ActAuditRead   Action = "audit.read"
	ActLicenseRead Action = "license.read"
)

// Group names a section of the matrix in docs/authorization.md.
type Group string

// The groups, in the order the document shows them.
const (
	GroupAccount     Group = "Your own account"
	GroupUsers       Group = "User administration"
	GroupTeams       Group = "Teams"
	GroupMembers     Group = "Team members"
	GroupInvitations Group = "Invitations"
	GroupProjects    Group = "Projects (example team resource)"
	GroupOperations  Group = "Operations"
)

// Rule is one row of the authorization table.
type Rule struct {
	Action Action
	Group  Group
	// Endpoint is the route the action guards, for the document and the endpoint tests.
	Endpoint string
	// Summary completes "may …" and "you may not …".
	Summary string
	// Scope is the scope the token must carry. Scopes do not imply one another: a token with only
	// admin does not read.
	Scope gatehouse.Scope
	// AnyAccount grants the action to every signed-in account whatever its global roles, even
	// none: the action concerns only the caller's own account.
	AnyAccount bool
	// Global lists the global roles that grant the action on every resource, in every team.
	Global []gatehouse.Role
	// TeamScoped marks an action on a resource that belongs to a team. Only for these is the
	// caller's team role looked at, and a caller with no role in the team who is not granted the
	// action by a global role learns nothing about the team (not_found).
	TeamScoped bool
	// Team lists the team roles that grant the action within their own team.
	Team []gatehouse.TeamRole
}

var (
	adminOnly       = []gatehouse.Role{gatehouse.RoleAdmin}
	adminMaintainer = []gatehouse.Role{gatehouse.RoleAdmin, gatehouse.RoleMaintainer}

	allTeamRoles  = []gatehouse.TeamRole{gatehouse.TeamOwner, gatehouse.TeamAdmin, gatehouse.TeamMember, gatehouse.TeamViewer}
	teamWriters   = []gatehouse.TeamRole{gatehouse.TeamOwner, gatehouse.TeamAdmin, gatehouse.TeamMember}
	teamManagers  = []gatehouse.TeamRole{gatehouse.TeamOwner, gatehouse.TeamAdmin}
	teamOwnerOnly = []gatehouse.TeamRole{gatehouse.TeamOwner}
)

const (
	read  = gatehouse.ScopeRead
	write = gatehouse.ScopeWrite
	admin = gatehouse.ScopeAdmin
)

// rules is the authorization table: Decide, Matrix and MatrixMarkdown all read it, in this order.
var rules = []Rule{
	{Action: ActUserReadSelf, Group: GroupAccount, Endpoint: "GET /api/v1/me", Summary: "read your own account", Scope: read, AnyAccount: true},
	{Action: ActUserUpdateSelf, Group: GroupAccount, Endpoint: "PATCH /api/v1/me", Summary: "change your own account", Scope: write, AnyAccount: true},
	{Action: ActAPIKeysList, Group: GroupAccount, Endpoint: "GET /api/v1/api-keys", Summary: "list your own API keys", Scope: read, AnyAccount: true},
	{Action: ActAPIKeyCreate, Group: GroupAccount, Endpoint: "POST /api/v1/api-keys", Summary: "create an API key for yourself", Scope: write, AnyAccount: true},
	{Action: ActAPIKeyRevoke, Group: GroupAccount, Endpoint: "DELETE /api/v1/api-keys/{id}", Summary: "revoke one of your own API keys", Scope: write, AnyAccount: true},

	{Action: ActUsersList, Group: GroupUsers, Endpoint: "GET /api/v1/users", Summary: "list users", Scope: admin, Global: adminOnly},
	{Action: ActUsersCreate, Group: GroupUsers, Endpoint: "POST /api/v1/users", Summary: "create users", Scope: admin, Global: adminOnly},
	{Action: ActUsersRead, Group: GroupUsers, Endpoint: "GET /api/v1/users/{user_id}", Summary: "read any user", Scope: admin, Global: adminOnly},
	{Action: ActUsersUpdate, Group: GroupUsers, Endpoint: "PATCH /api/v1/users/{user_id}", Summary: "change any user", Scope: admin, Global: adminOnly},
	{Action: ActUsersDelete, Group: GroupUsers, Endpoint: "DELETE /api/v1/users/{user_id}", Summary: "delete users", Scope: admin, Global: adminOnly},
	{Action: ActUsersResetAccess, Group: GroupUsers, Endpoint: "POST /api/v1/users/{user_id}/reset-access", Summary: "end every session and token of a user", Scope: admin, Global: adminOnly},
	{Action: ActUsersUnlock, Group: GroupUsers, Endpoint: "POST /api/v1/users/{user_id}/unlock", Summary: "unlock users", Scope: admin, Global: adminOnly},
	{Action: ActUsersResetTwoFactor, Group: GroupUsers, Endpoint: "POST /api/v1/users/{user_id}/2fa/reset", Summary: "remove every second factor of a user", Scope: admin, Global: adminOnly},

	{Action: ActTeamCreate, Group: GroupTeams, Endpoint: "POST /api/v1/teams", Summary: "create teams", Scope: write, Global: adminMaintainer},
	{Action: ActTeamList, Group: GroupTeams, Endpoint: "GET /api/v1/teams", Summary: "list the teams you belong to", Scope: read, AnyAccount: true},
	{Action: ActTeamListAll, Group: GroupTeams, Endpoint: "GET /api/v1/teams", Summary: "list every team", Scope: read, Global: adminOnly},
	{Action: ActTeamRead, Group: GroupTeams, Endpoint: "GET /api/v1/teams/{id}", Summary: "read this team", Scope: read, Global: adminOnly, TeamScoped: true, Team: allTeamRoles},
	{Action: ActTeamUpdate, Group: GroupTeams, Endpoint: "PATCH /api/v1/teams/{id}", Summary: "change this team's settings", Scope: write, Global: adminOnly, TeamScoped: true, Team: teamManagers},
	{Action: ActTeamDelete, Group: GroupTeams, Endpoint: "DELETE /api/v1/teams/{id}", Summary: "delete this team", Scope: write, Global: adminOnly, TeamScoped: true, Team: teamOwnerOnly},
	// Leaving only ever lowers the caller's own rights, so read (which every token carries unless
	// the client asked for less) is enough: a read-only account must be able to leave.
	{Action: ActTeamLeave, Group: GroupTeams, Endpoint: "POST /api/v1/teams/{id}/leave", Summary: "leave this team", Scope: read, TeamScoped: true, Team: allTeamRoles},

	{Action: ActMembersList, Group: GroupMembers, Endpoint: "GET /api/v1/teams/{id}/members", Summary: "list this team's members", Scope: read, Global: adminOnly, TeamScoped: true, Team: allTeamRoles},
	{Action: ActMemberRead, Group: GroupMembers, Endpoint: "GET /api/v1/teams/{id}/members/{user_id}", Summary: "read one of this team's members", Scope: read, Global: adminOnly, TeamScoped: true, Team: allTeamRoles},
	{Action: ActMemberSet, Group: GroupMembers, Endpoint: "PUT /api/v1/teams/{id}/members/{user_id}", Summary: "add members and viewers to this team or change them between member and viewer", Scope: write, Global: adminOnly, TeamScoped: true, Team: teamManagers},
	{Action: ActMemberSetPrivileged, Group: GroupMembers, Endpoint: "PUT /api/v1/teams/{id}/members/{user_id}", Summary: "give or take the owner or admin role in this team", Scope: write, Global: adminOnly, TeamScoped: true, Team: teamOwnerOnly},
	{Action: ActMemberRemove, Group: GroupMembers, Endpoint: "DELETE /api/v1/teams/{id}/members/{user_id}", Summary: "remove members and viewers from this team", Scope: write, Global: adminOnly, TeamScoped: true, Team: teamManagers},
	{Action: ActMemberRemovePrivileged, Group: GroupMembers, Endpoint: "DELETE /api/v1/teams/{id}/members/{user_id}", Summary: "remove owners and admins from this team", Scope: write, Global: adminOnly, TeamScoped: true, Team: teamOwnerOnly},

	{Action: ActInvitationsList, Group: GroupInvitations, Endpoint: "GET /api/v1/teams/{id}/invitations", Summary: "list this team's invitations", Scope: read, Global: adminOnly, TeamScoped: true, Team: teamManagers},
	{Action: ActInvitationRead, Group: GroupInvitations, Endpoint: "GET /api/v1/teams/{id}/invitations/{invitation_id}", Summary: "read one of this team's invitations", Scope: read, Global: adminOnly, TeamScoped: true, Team: teamManagers},
	{Action: ActInvitationCreate, Group: GroupInvitations, Endpoint: "POST /api/v1/teams/{id}/invitations", Summary: "invite people to this team as members or viewers", Scope: write, Global: adminOnly, TeamScoped: true, Team: teamManagers},
	{Action: ActInvitationCreatePrivileged, Group: GroupInvitations, Endpoint: "POST /api/v1/teams/{id}/invitations", Summary: "invite people to this team as owners or admins", Scope: write, Global: adminOnly, TeamScoped: true, Team: teamOwnerOnly},
	{Action: ActInvitationRevoke, Group: GroupInvitations, Endpoint: "DELETE /api/v1/teams/{id}/invitations/{invitation_id}", Summary: "revoke this team's invitations", Scope: write, Global: adminOnly, TeamScoped: true, Team: teamManagers},
	// Accepting needs the invitation's secret and only adds the caller to a team someone invited
	// them to; like leaving it must work for read-only accounts, or a viewer could never join.
	{Action: ActInvitationAccept, Group: GroupInvitations, Endpoint: "POST /api/v1/invitations/accept", Summary: "accept an invitation sent to you", Scope: read, AnyAccount: true},

	{Action: ActProjectsList, Group: GroupProjects, Endpoint: "GET /api/v1/teams/{id}/projects", Summary: "list this team's projects", Scope: read, Global: adminOnly, TeamScoped: true, Team: allTeamRoles},
	{Action: ActProjectCreate, Group: GroupProjects, Endpoint: "POST /api/v1/teams/{id}/projects", Summary: "create projects in this team", Scope: write, Global: adminOnly, TeamScoped: true, Team: teamWriters},
	{Action: ActProjectRead, Group: GroupProjects, Endpoint: "GET /api/v1/teams/{id}/projects/{project_id}", Summary: "read this team's projects", Scope: read, Global: adminOnly, TeamScoped: true, Team: allTeamRoles},
	{Action: ActProjectUpdate, Group: GroupProjects, Endpoint: "PATCH /api/v1/teams/{id}/projects/{project_id}", Summary: "change this team's projects", Scope: write, Global: adminOnly, TeamScoped: true, Team: teamWriters},
	{Action: ActProjectDelete, Group: GroupProjects, Endpoint: "DELETE /api/v1/teams/{id}/projects/{project_id}", Summary: "delete this team's projects", Scope: write, Global: adminOnly, TeamScoped: true, Team: teamWriters},

	{Action: ActOutboxRead, Group: GroupOperations, Endpoint: "GET /api/v1/admin/outbox", Summary: "read the mail outbox", Scope: admin, Global: adminOnly},
	{Action: ActOutboxRetry, Group: GroupOperations, Endpoint: "POST /api/v1/admin/outbox/{id}/retry", Summary: "retry a failed mail", Scope: admin, Global: adminOnly},
	{Action: ActAuditRead, Group: GroupOperations, Endpoint: "GET /api/v1/admin/audit", Summary: "read the audit trail", Scope: admin, Global: adminOnly},
	{Action: ActLicenseRead, Group: GroupOperations, Endpoint: "GET /api/v1/license", Summary: "read the license status", Scope: admin, Global: adminOnly},
}

// ruleIndex finds one of Gatehouse's own rules by action. (A test checks that no action is listed
// twice.) The table in force, with the rules a host registered, is active().
var ruleIndex = func() map[Action]int {
	m := make(map[Action]int, len(rules))
	for i, r := range rules {
		m[r.Action] = i
	}
	return m
}()

// Valid reports whether a is one of the actions (Gatehouse's or a registered one).
func (a Action) Valid() bool {
	_, ok := active().index[a]
	return ok
}

// Actions lists every action in table order.
func Actions() []Action {
	t := active()
	out := make([]Action, len(t.rules))
	for i, r := range t.rules {
		out[i] = r.Action
	}
	return out
}

// Rules returns a copy of the authorization table, in order.
func Rules() []Rule {
	t := active()
	out := make([]Rule, len(t.rules))
	for i, r := range t.rules {
		out[i] = r.clone()
	}
	return out
}

// RuleFor returns the rule of a, and false when a is not an action.
func RuleFor(a Action) (Rule, bool) {
	t := active()
	i, ok := t.index[a]
	if !ok {
		return Rule{}, false
	}
	return t.rules[i].clone(), true
}

// clone keeps callers from changing the table through the slices.
func (r Rule) clone() Rule {
	r.Global = slices.Clone(r.Global)
	r.Team = slices.Clone(r.Team)
	return r
}
