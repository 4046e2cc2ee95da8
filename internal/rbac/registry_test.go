package rbac

import (
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse"
)

// withTable lets a test register rules and puts Gatehouse's table back afterwards, so that the
// other tests of this package (the closed set, the oracle, the document) see only Gatehouse's.
func withTable(t *testing.T) {
	t.Helper()
	saved := active()
	t.Cleanup(func() { current.Store(saved) })
}

func noteRule(a Action, scope gatehouse.Scope, team ...gatehouse.TeamRole) Rule {
	return Rule{Action: a, Group: "Notes", Endpoint: "GET /api/v1/teams/{id}/notes", Summary: "do things with notes",
		Scope: scope, Global: adminOnly, TeamScoped: true, Team: team}
}

func TestRegisterJoinsTheTable(t *testing.T) {
	withTable(t)
	builtin := len(Rules())
	list := noteRule("notes.list", read, allTeamRoles...)
	create := noteRule("notes.create", write, teamWriters...)
	if err := Register(list, create); err != nil {
		t.Fatal(err)
	}
	// The very same rules again (another server in the same test binary) change nothing.
	if err := Register(list, create); err != nil {
		t.Fatalf("registering identical rules again: %v", err)
	}
	if got := Actions(); len(got) != builtin+2 || got[builtin] != "notes.list" || got[builtin+1] != "notes.create" {
		t.Fatalf("Actions() ends with %v, want notes.list, notes.create after %d built-in actions", got[builtin:], builtin)
	}
	if !Action("notes.create").Valid() {
		t.Error("a registered action is not Valid")
	}
	if r, ok := RuleFor("notes.create"); !ok || r.Scope != write {
		t.Errorf("RuleFor(notes.create) = %+v, %v", r, ok)
	}
	member := &gatehouse.Principal{User: &gatehouse.User{ID: 3}, Scopes: []gatehouse.Scope{read, write}}
	if err := Decide(member, "notes.create", gatehouse.TeamMember); err != nil {
		t.Errorf("a member creating a note: %v", err)
	}
	if code := gatehouse.ErrorCode(Decide(member, "notes.create", gatehouse.TeamViewer)); code != gatehouse.EForbidden {
		t.Errorf("a viewer creating a note: %q, want forbidden", code)
	}
	if code := gatehouse.ErrorCode(Decide(member, "notes.list", "")); code != gatehouse.ENotFound {
		t.Errorf("an outsider listing notes: %q, want not_found", code)
	}
	n := 0
	for _, c := range Matrix() {
		if c.Action == "notes.list" {
			n++
		}
	}
	if want := len(GlobalColumns) * len(TeamColumns) * len(ScopeSets()); n != want {
		t.Errorf("Matrix() has %d cases of notes.list, want %d", n, want)
	}
	md := MatrixMarkdown()
	if !strings.Contains(md, "\n### Notes\n") || !strings.Contains(md, "| `notes.create` | `GET /api/v1/teams/{id}/notes` | `write` |") {
		t.Errorf("MatrixMarkdown() does not render the registered group:\n%s", md[max(0, len(md)-1500):])
	}
	if strings.Contains(md, cellBroken) {
		t.Error("a registered rule renders a broken cell")
	}
}

func TestRegisterRefuses(t *testing.T) {
	withTable(t)
	ok := noteRule("notes.read", read, allTeamRoles...)
	if err := Register(ok); err != nil {
		t.Fatal(err)
	}
	before := len(Rules())
	for _, c := range []struct {
		name string
		rule Rule
		want string
	}{
		{"another rule for a registered action", noteRule("notes.read", write, allTeamRoles...), "already registered"},
		{"one of Gatehouse's actions", noteRule(ActProjectRead, read, allTeamRoles...), "Gatehouse's own"},
		{"a bad action name", noteRule("Notes Read", read, allTeamRoles...), "dot-separated"},
		{"an action without a resource", noteRule("read", read, allTeamRoles...), "dot-separated"},
		{"an unknown scope", noteRule("notes.x", "superuser", allTeamRoles...), "not one of read"},
		{"an unknown team role", noteRule("notes.x", read, "superowner"), "team role"},
		{"a repeated team role", noteRule("notes.x", read, gatehouse.TeamOwner, gatehouse.TeamOwner), "twice"},
		{"no group", func() Rule { r := noteRule("notes.x", read, allTeamRoles...); r.Group = ""; return r }(), "group"},
		{"no summary", func() Rule { r := noteRule("notes.x", read, allTeamRoles...); r.Summary = " "; return r }(), "summary"},
		{"a bad endpoint", func() Rule { r := noteRule("notes.x", read, allTeamRoles...); r.Endpoint = "/notes"; return r }(), "METHOD /path"},
		{"an unknown global role", func() Rule { r := noteRule("notes.x", read); r.Global = []gatehouse.Role{"root"}; return r }(), "global role"},
		{"team roles on an account action", func() Rule { r := noteRule("notes.x", read, allTeamRoles...); r.TeamScoped = false; return r }(), "TeamScoped"},
		{"nobody granted", func() Rule { r := noteRule("notes.x", read); r.Global = nil; return r }(), "nobody"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// A valid rule beside the bad one is not added either: all or nothing.
			err := Register(noteRule("notes.fine", read, allTeamRoles...), c.rule)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Register = %v, want an error containing %q", err, c.want)
			}
			if len(Rules()) != before {
				t.Fatal("a refused registration changed the table")
			}
		})
	}
	if err := Register(noteRule("notes.y", read, allTeamRoles...), noteRule("notes.y", write, allTeamRoles...)); err == nil {
		t.Error("two different rules for one action in one call were accepted")
	}
}

// The built-in table passes the same checks a host's rules must pass.
func TestBuiltinRulesAreValid(t *testing.T) {
	for _, r := range rules {
		if err := ValidateRule(r); err != nil {
			t.Error(err)
		}
	}
}
