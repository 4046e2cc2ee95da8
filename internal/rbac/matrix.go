package rbac

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehousehq/gatehouse"
)

// GlobalColumns are the global-role columns of the matrix, most powerful first; "" is an account
// with no global role. An account with several roles gets the union of their grants.
var GlobalColumns = []gatehouse.Role{gatehouse.RoleAdmin, gatehouse.RoleMaintainer, gatehouse.RoleViewer, ""}

// TeamColumns are the team-role columns of the matrix; "" is a caller with no role in the team.
var TeamColumns = []gatehouse.TeamRole{gatehouse.TeamOwner, gatehouse.TeamAdmin, gatehouse.TeamMember, gatehouse.TeamViewer, ""}

// ScopeSets returns every set of scopes a token can carry (all subsets of read, write and admin,
// the empty set included), each in canonical order.
func ScopeSets() [][]gatehouse.Scope {
	n := len(gatehouse.AllScopes)
	sets := make([][]gatehouse.Scope, 0, 1<<n)
	for mask := range 1 << n {
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

// Case is one cell of the exhaustive matrix: what Decide answers for a caller with one global role
// (or none), one team role (or none) and one set of scopes.
type Case struct {
	Action Action
	Global gatehouse.Role     // "" for an account without a global role
	Team   gatehouse.TeamRole // "" for a non-member; always "" for an action that is not team-scoped
	Scopes []gatehouse.Scope
	// Code is "" when the action is allowed, else the error code (forbidden or not_found).
	Code gatehouse.Code
	// Reason is "insufficient_scope" when only the scope is missing.
	Reason string
}

// Matrix returns every case: each action × global column × team column × scope set, as Decide
// answers it. Team roles make no difference to an action that is not team-scoped, so such an
// action has only the non-member cases. Endpoint tests iterate over it, so that the real routes,
// Decide and docs/authorization.md are checked against the same cells.
func Matrix() []Case {
	var out []Case
	for _, r := range active().rules {
		teams := TeamColumns
		if !r.TeamScoped {
			teams = []gatehouse.TeamRole{""}
		}
		for _, g := range GlobalColumns {
			for _, t := range teams {
				for _, s := range ScopeSets() {
					c := Case{Action: r.Action, Global: g, Team: t, Scopes: s}
					if err := Decide(principalFor(g, s), r.Action, t); err != nil {
						c.Code = gatehouse.ErrorCode(err)
						if e, ok := errors.AsType[*gatehouse.Error](err); ok {
							c.Reason = e.Reason
						}
					}
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// principalFor is a caller with global role g ("" for none) whose token carries scopes.
func principalFor(g gatehouse.Role, scopes []gatehouse.Scope) *gatehouse.Principal {
	u := &gatehouse.User{ID: 1, Email: "matrix@example.com", Active: true}
	if g != "" {
		u.Roles = []gatehouse.Role{g}
	}
	return &gatehouse.Principal{User: u, Scopes: scopes}
}

// The symbols of a matrix cell.
const (
	cellAllowed   = "✓"   // allowed exactly when the token carries the action's scope
	cellForbidden = "✗"   // 403 forbidden whatever the token's scopes
	cellNotFound  = "404" // 404 not_found whatever the token's scopes
	cellBroken    = "?"   // Decide's answers fit none of the above (a test fails on it)
)

// cell runs Decide for every scope set and condenses the eight answers into one symbol. It does
// not read the rule's grants, only its scope, so the matrix shows what Decide does.
func cell(r *Rule, g gatehouse.Role, t gatehouse.TeamRole) string {
	var allowed, forbidden, notFound int
	sets := ScopeSets()
	for _, s := range sets {
		err := Decide(principalFor(g, s), r.Action, t)
		code := gatehouse.ErrorCode(err)
		reason := ""
		if e, ok := errors.AsType[*gatehouse.Error](err); ok {
			reason = e.Reason
		}
		switch {
		case slices.Contains(s, r.Scope) && err == nil,
			!slices.Contains(s, r.Scope) && code == gatehouse.EForbidden && reason == ReasonInsufficientScope:
			allowed++
		case code == gatehouse.EForbidden && reason == "":
			forbidden++
		case code == gatehouse.ENotFound:
			notFound++
		}
	}
	switch len(sets) {
	case allowed:
		return cellAllowed
	case forbidden:
		return cellForbidden
	case notFound:
		return cellNotFound
	}
	return cellBroken
}

// MatrixMarkdown renders the matrix section of docs/authorization.md: per group of actions, the
// rules as written in the table, then every global role × team role cell as Decide answers it.
func MatrixMarkdown() string {
	var b strings.Builder
	b.WriteString("Legend for the cells: **✓** allowed when the token carries the action's scope, and " +
		"`403 insufficient_scope` when it does not; **✗** `403 forbidden` whatever the token's scopes; " +
		"**404** `404 not_found` whatever the token's scopes (the caller cannot see the team). " +
		"Each cell is what `Decide` answers for all eight sets of scopes.\n")
	table := active().rules
	var groups []Group
	for _, r := range table {
		if !slices.Contains(groups, r.Group) {
			groups = append(groups, r.Group)
		}
	}
	for _, g := range groups {
		var inGroup []*Rule
		for i := range table {
			if table[i].Group == g {
				inGroup = append(inGroup, &table[i])
			}
		}
		fmt.Fprintf(&b, "\n### %s\n\n", g)
		writeRules(&b, inGroup)
		writeAccountCells(&b, inGroup)
		writeTeamCells(&b, inGroup)
	}
	return b.String()
}

func writeRules(b *strings.Builder, rs []*Rule) {
	b.WriteString("| Action | Endpoint | Scope | Global roles | Team roles (in their team) |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, r := range rs {
		global := "—"
		switch {
		case r.AnyAccount:
			global = "every account (its own)"
		case len(r.Global) > 0:
			global = joinRoles(r.Global)
		}
		team := "not a team resource"
		if r.TeamScoped {
			team = "—"
			if len(r.Team) > 0 {
				team = joinRoles(r.Team)
			}
		}
		fmt.Fprintf(b, "| `%s` | `%s` | `%s` | %s | %s |\n", r.Action, r.Endpoint, r.Scope, global, team)
	}
}

// writeAccountCells renders the actions that are not team-scoped: one row per action, one column
// per global role. A cell that differed between team roles would be a bug, shown as "?".
func writeAccountCells(b *strings.Builder, rs []*Rule) {
	var rows []*Rule
	for _, r := range rs {
		if !r.TeamScoped {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("\n| Action | admin | maintainer | viewer | no global role |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(b, "| `%s` |", r.Action)
		for _, g := range GlobalColumns {
			sym := cell(r, g, "")
			for _, t := range TeamColumns {
				if cell(r, g, t) != sym {
					sym = cellBroken
				}
			}
			fmt.Fprintf(b, " %s |", sym)
		}
		b.WriteString("\n")
	}
}

// writeTeamCells renders the team-scoped actions: one row per action and global role, one column
// per team role.
func writeTeamCells(b *strings.Builder, rs []*Rule) {
	var rows []*Rule
	for _, r := range rs {
		if r.TeamScoped {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("\n| Action | Global role | owner | admin | member | viewer | not a member |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		for i, g := range GlobalColumns {
			name := ""
			if i == 0 {
				name = "`" + string(r.Action) + "`"
			}
			label := string(g)
			if g == "" {
				label = "none"
			}
			fmt.Fprintf(b, "| %s | %s |", name, label)
			for _, t := range TeamColumns {
				fmt.Fprintf(b, " %s |", cell(r, g, t))
			}
			b.WriteString("\n")
		}
	}
}

func joinRoles[R ~string](rs []R) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = string(r)
	}
	return strings.Join(parts, ", ")
}
