package rbac

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse"
)

var update = flag.Bool("update", false, "rewrite the matrix section of docs/authorization.md from MatrixMarkdown")

const (
	docPath     = "../../docs/authorization.md"
	matrixBegin = "<!-- BEGIN MATRIX: generated from internal/rbac (go generate ./internal/rbac); do not edit by hand -->\n"
	matrixEnd   = "<!-- END MATRIX -->\n"
)

// TestAuthorizationDocMatrix fails when the matrix in docs/authorization.md is not exactly what
// MatrixMarkdown renders from the table and Decide. Run go generate ./internal/rbac to refresh it.
func TestAuthorizationDocMatrix(t *testing.T) {
	raw, err := os.ReadFile(filepath.FromSlash(docPath))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	before, rest, ok := strings.Cut(doc, matrixBegin)
	if !ok {
		t.Fatalf("%s has no line %q", docPath, strings.TrimSpace(matrixBegin))
	}
	got, after, ok := strings.Cut(rest, matrixEnd)
	if !ok {
		t.Fatalf("%s has no line %q after the begin marker", docPath, strings.TrimSpace(matrixEnd))
	}
	want := "\n" + MatrixMarkdown() + "\n"
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(filepath.FromSlash(docPath), []byte(before+matrixBegin+want+matrixEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote the matrix in %s", docPath)
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("the matrix in %s differs from the code at line %d of the section:\n doc:  %q\n code: %q\nrun: go generate ./internal/rbac", docPath, i+1, g, w)
		}
	}
}

// TestMatrixCellsWellFormed checks that every cell of the document is one of the three symbols, so
// that the legend describes Decide exactly for every set of scopes, and that team roles make no
// difference to actions outside teams.
func TestMatrixCellsWellFormed(t *testing.T) {
	for i := range rules {
		r := &rules[i]
		for _, g := range GlobalColumns {
			for _, tr := range TeamColumns {
				sym := cell(r, g, tr)
				if sym == cellBroken {
					t.Errorf("%s, global %q, team %q: Decide's answers over the scope sets fit no symbol", r.Action, g, tr)
				}
				if !r.TeamScoped && sym != cell(r, g, "") {
					t.Errorf("%s is not team-scoped but team role %q changes the answer for global %q", r.Action, tr, g)
				}
				if sym == cellNotFound && (!r.TeamScoped || tr != "") {
					t.Errorf("%s, global %q, team %q: not_found outside the non-member column of a team action", r.Action, g, tr)
				}
			}
		}
	}
	if strings.Contains(MatrixMarkdown(), "| "+cellBroken+" |") {
		t.Error("MatrixMarkdown has a broken cell")
	}
}

// TestRuleTableShape catches rows that could not mean what they say.
func TestRuleTableShape(t *testing.T) {
	for _, r := range rules {
		if !slices.Contains(gatehouse.AllScopes, r.Scope) {
			t.Errorf("%s: scope %q is not a scope", r.Action, r.Scope)
		}
		if r.AnyAccount && (len(r.Global) > 0 || r.TeamScoped) {
			t.Errorf("%s: AnyAccount with other grants", r.Action)
		}
		if !r.TeamScoped && len(r.Team) > 0 {
			t.Errorf("%s: team roles on an action that is not team-scoped", r.Action)
		}
		for _, g := range r.Global {
			if !g.Valid() {
				t.Errorf("%s: %q is not a global role", r.Action, g)
			}
		}
		for _, tr := range r.Team {
			if !tr.Valid() {
				t.Errorf("%s: %q is not a team role", r.Action, tr)
			}
		}
		if !r.AnyAccount && len(r.Global) == 0 && len(r.Team) == 0 {
			t.Errorf("%s: nobody may do it", r.Action)
		}
	}
}
