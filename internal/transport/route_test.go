package transport

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/rest"
)

// TestTableWellFormed: every route is "METHOD /path" with a chain; the API's are under the
// operations paths, /.well-known/ or a versioned /api/v{N}/; the pages' gates are modes the pages
// have; and only the API and the SAML consumer set a body limit.
func TestTableWellFormed(t *testing.T) {
	ops := map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}
	for _, r := range Routes() {
		method, path, ok := strings.Cut(r.Pattern, " ")
		if !ok || method == "" || method != strings.ToUpper(method) || !strings.HasPrefix(path, "/") {
			t.Errorf("%q is not \"METHOD /path\"", r.Pattern)
		}
		if r.Method() != method || r.Path() != path {
			t.Errorf("%q: Method/Path = %q %q", r.Pattern, r.Method(), r.Path())
		}
		switch r.Chain {
		case API:
			if !ops[path] && !strings.HasPrefix(path, "/.well-known/") && !strings.HasPrefix(path, "/api/v1/") {
				t.Errorf("API route %q is outside the operations paths, /.well-known/ and /api/v1/", r.Pattern)
			}
		case Page, PageCrossSite, Asset:
			if r.Auth == rest.OptionalAuthMayChangePassword {
				t.Errorf("page route %q: the pages have no optional sign-in gate", r.Pattern)
			}
			if r.Chain == Asset && r.Auth != rest.Public {
				t.Errorf("asset route %q has a gate, but assets are served without a session", r.Pattern)
			}
		default:
			t.Errorf("route %q has no chain", r.Pattern)
		}
		if r.Method() == http.MethodGet && r.BodyLimit != 0 {
			t.Errorf("GET route %q sets a body limit", r.Pattern)
		}
	}
	if _, ok := Lookup("GET /nowhere"); ok {
		t.Error("Lookup found a route that is not in the table")
	}
	if r, ok := Lookup("POST /sso/saml/acs"); !ok || r.Chain != PageCrossSite || r.BodyLimit != samlPost {
		t.Errorf("Lookup(POST /sso/saml/acs) = %+v, %v", r, ok)
	}
}

// TestBind: handlers are paired with the table's routes in its order; a handler for a pattern
// the table does not have, or has on another chain, is refused.
func TestBind(t *testing.T) {
	nop := func(http.ResponseWriter, *http.Request) error { return nil }
	got := APIRoutes(map[string]rest.Handler{"GET /api/v1/teams/{id}": nop, "GET /healthz": nop, "POST /api/v1/auth/login": nop})
	want := []string{"GET /healthz", "POST /api/v1/auth/login", "GET /api/v1/teams/{id}"}
	if len(got) != len(want) {
		t.Fatalf("APIRoutes = %d routes, want %d", len(got), len(want))
	}
	for i, r := range got {
		tr, _ := Lookup(r.Pattern)
		if r.Pattern != want[i] || r.Handler == nil || FromREST(r) != tr {
			t.Errorf("route %d = %+v, want %q as the table has it (%+v)", i, r, want[i], tr)
		}
	}
	for name, bind := range map[string]func(){
		"unknown pattern": func() { APIRoutes(map[string]rest.Handler{"GET /api/v1/nowhere": nop}) },
		"page route":      func() { APIRoutes(map[string]rest.Handler{"GET /login": nop}) },
		"API route":       func() { Bind(map[string]http.Handler{"GET /api/v1/me": nil}, Page, Asset) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Bind did not panic", name)
				}
			}()
			bind()
		}()
	}
}

// TestDispatch: the split between the API and the pages follows the served routes. It keeps
// what the hand-kept prefix list of internal/app said (its cases are here), and routes a host's
// API route outside /api/ to the API.
func TestDispatch(t *testing.T) {
	served := append(Routes(), FromREST(rest.Route{Pattern: "GET /hooks/{id}"}))
	h, err := Dispatch(served, side("api"), side("pages"))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/api": "api", "/api/": "api", "/api/v1/me": "api", "/api/v9/nothing": "api", "/api/x": "api",
		"/.well-known/jwks.json": "api", "/.well-known/other": "api",
		"/healthz": "api", "/readyz": "api", "/metrics": "api", "/hooks/7": "api",
		"/": "pages", "/login": "pages", "/login/2fa": "pages", "/static/app.css": "pages", "/logo": "pages",
		"/sso/saml/acs": "pages", "/profile/2fa/totp": "pages", "/confirm-email": "pages",
		"/healthz/x": "pages", "/metricsx": "pages", "/apis": "pages", "/nowhere": "pages", "/hooks": "api",
		// The API reference page and its files are the pages', the rest of /api/docs/ the API's.
		"/api/docs": "pages", "/api/docs/swagger-ui.css": "pages", "/api/docs/other.js": "api", "/api/docs/": "api",
		"/api/docsx": "api",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if got := rec.Body.String(); got != want {
			t.Errorf("%s went to %s, want %s", path, got, want)
		}
	}

	// A route of the table served otherwise than the table says, and a host route on the pages'
	// paths, are refused.
	changed := Routes()
	changed[0].Auth = rest.Authenticated
	if _, err := Dispatch(changed, side("api"), side("pages")); err == nil || !strings.Contains(err.Error(), changed[0].Pattern) {
		t.Errorf("a route served unlike the table: %v", err)
	}
	for _, p := range []string{"GET /login/extra", "GET /login", "GET /{$}", "GET /{slug}/x", "GET /api/docs"} {
		bad := append(Routes(), FromREST(rest.Route{Pattern: p}))
		if _, err := Dispatch(bad, side("api"), side("pages")); err == nil {
			t.Errorf("an API route %q was accepted", p)
		}
	}
}

// TestMissing names the routes of the table that nothing serves.
func TestMissing(t *testing.T) {
	if m := Missing(Routes()); len(m) != 0 {
		t.Errorf("Missing(the table) = %v", m)
	}
	all := Routes()
	if m := Missing(all[1:]); len(m) != 1 || m[0] != all[0].Pattern {
		t.Errorf("Missing without the first route = %v", m)
	}
}

func side(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(name)) })
}
