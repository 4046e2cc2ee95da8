package transport

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the route section of docs/api.md from Markdown")

const (
	docPath     = "../../docs/api.md"
	routesBegin = "<!-- BEGIN ROUTES: generated from internal/transport (go generate ./internal/transport); do not edit by hand -->\n"
	routesEnd   = "<!-- END ROUTES -->\n"
)

// TestAPIDocRoutes fails when the route list in docs/api.md is not exactly what Markdown renders
// from the table, and when the rest of docs/api.md names an endpoint that is not a route. Run
// go generate ./internal/transport to refresh the list.
func TestAPIDocRoutes(t *testing.T) {
	raw, err := os.ReadFile(filepath.FromSlash(docPath))
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok := strings.Cut(string(raw), routesBegin)
	if !ok {
		t.Fatalf("%s has no line %q", docPath, strings.TrimSpace(routesBegin))
	}
	got, after, ok := strings.Cut(rest, routesEnd)
	if !ok {
		t.Fatalf("%s has no line %q after the begin marker", docPath, strings.TrimSpace(routesEnd))
	}

	// Endpoints named in the prose and the tables: "GET /api/v1/users/{id}" names the route
	// "GET /api/v1/users/{user_id}" (wildcard names are the writer's choice).
	wild := regexp.MustCompile(`\{[^}]*\}`)
	routes := map[string]bool{}
	// The /api/v2/ routes derived from the table's /api/v1/ ones count too.
	for _, r := range append(Routes(), V2Routes(table)...) {
		routes[wild.ReplaceAllString(r.Pattern, "{}")] = true
	}
	for _, m := range regexp.MustCompile("`((?:GET|HEAD|POST|PUT|PATCH|DELETE) /[^` ]*)").FindAllStringSubmatch(before+after, -1) {
		if p := wild.ReplaceAllString(m[1], "{}"); !routes[p] {
			t.Errorf("%s names %q, which is not a route of the table", docPath, m[1])
		}
	}

	want := "\n" + Markdown() + "\n"
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(filepath.FromSlash(docPath), []byte(before+routesBegin+want+routesEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote the route list in %s", docPath)
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
			t.Fatalf("the route list in %s differs from the table at line %d of the section:\n doc:  %q\n code: %q\nrun: go generate ./internal/transport", docPath, i+1, g, w)
		}
	}
}
