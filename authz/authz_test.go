package authz_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/authz"
)

// The public face and rbac's table are one table: what Register adds, Rules, RuleFor, Matrix
// and MatrixMarkdown show, and Decide decides.
func TestRegisteredRulesJoinTheTable(t *testing.T) {
	rule := authz.Rule{Action: "widgets.update", Group: "Widgets", Endpoint: "PATCH /api/v1/teams/{id}/widgets/{widget_id}",
		Summary: "change this team's widgets", Scope: gatehouse.ScopeWrite, Global: authz.AdminOnly, TeamScoped: true, Team: authz.TeamWriters}
	if err := authz.Register(rule); err != nil {
		t.Fatal(err)
	}
	if err := authz.Register(rule); err != nil {
		t.Fatalf("identical registration: %v", err)
	}
	changed := rule
	changed.Scope = gatehouse.ScopeRead
	if err := authz.Register(changed); err == nil {
		t.Fatal("a different rule for a registered action was accepted")
	}
	if err := authz.Validate(changed); err != nil {
		t.Errorf("Validate checks the rule alone: %v", err)
	}
	rules := authz.Rules()
	if !slices.ContainsFunc(rules, func(r authz.Rule) bool { return r.Action == "projects.create" }) {
		t.Error("Rules() lacks Gatehouse's own rules")
	}
	got, ok := authz.RuleFor("widgets.update")
	if !ok || got.Endpoint != rule.Endpoint || !slices.Equal(got.Team, rule.Team) {
		t.Errorf("RuleFor = %+v, %v", got, ok)
	}
	got.Team[0] = gatehouse.TeamViewer // a copy: the table does not change
	if again, _ := authz.RuleFor("widgets.update"); again.Team[0] != gatehouse.TeamOwner {
		t.Error("changing a returned rule changed the table")
	}
	cells := 0
	for _, c := range authz.Matrix() {
		if c.Action != "widgets.update" {
			continue
		}
		cells++
		p := &gatehouse.Principal{User: &gatehouse.User{ID: 1}, Scopes: c.Scopes}
		if c.Global != "" {
			p.User.Roles = []gatehouse.Role{c.Global}
		}
		if code := gatehouse.ErrorCode(authz.Decide(p, c.Action, c.Team)); code != c.Code {
			t.Errorf("case %+v: Decide says %q", c, code)
		}
	}
	if cells != 4*5*8 {
		t.Errorf("%d matrix cells for widgets.update, want 160", cells)
	}
	if md := authz.MatrixMarkdown(); !strings.Contains(md, "### Widgets") || !strings.Contains(md, "`widgets.update`") {
		t.Error("MatrixMarkdown does not list the registered rule")
	}
	if code := gatehouse.ErrorCode(authz.Decide(&gatehouse.Principal{User: &gatehouse.User{ID: 1}}, "widgets.frobnicate", "")); code != gatehouse.EInternal {
		t.Errorf("an action without a rule: %q, want internal", code)
	}
}
