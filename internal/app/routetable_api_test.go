package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/rbac"
	"github.com/gatehousehq/gatehouse/internal/testdb"
	"github.com/gatehousehq/gatehouse/internal/transport"
)

// TestRouteTableAndRules joins the route table (internal/transport) and the authorization table
// (internal/rbac): every rule's Endpoint is an API route of the table, whose action is the rule's
// or one of its siblings on the same endpoint (teams.list for teams.list_all); every action a
// route names is an rbac action; and every route an action guards is called by an authorization
// matrix test: by TestAuthorizationMatrixEndpoints when it is the rule's Endpoint, else by
// TestAuthorizationMatrixOtherRoutes.
func TestRouteTableAndRules(t *testing.T) {
	routes := map[string]transport.Route{}
	for _, r := range transport.Routes() {
		routes[r.Pattern] = r
	}
	calls, also := mxCalls(), mxAlsoCalls()
	for _, rule := range rbac.Rules() {
		r, ok := routes[rule.Endpoint]
		switch {
		case !ok || r.Chain != transport.API:
			t.Errorf("rule %s guards %q, which is not an API route of the route table", rule.Action, rule.Endpoint)
		case r.Action == "":
			t.Errorf("rule %s guards %q, whose route names no action", rule.Action, rule.Endpoint)
		default:
			if named, _ := rbac.RuleFor(rbac.Action(r.Action)); named.Endpoint != rule.Endpoint {
				t.Errorf("rule %s guards %q, but the route names %s, which guards %q", rule.Action, rule.Endpoint, r.Action, named.Endpoint)
			}
		}
	}
	for _, r := range transport.Routes() {
		if r.Action == "" {
			continue
		}
		rule, ok := rbac.RuleFor(rbac.Action(r.Action))
		switch {
		case !ok:
			t.Errorf("route %q names the action %q, which is not in rbac's table", r.Pattern, r.Action)
		case r.Chain != transport.API:
			// The pages call the same services as the API routes of the action.
		case rule.Endpoint == r.Pattern:
			if _, ok := calls[rule.Action]; !ok {
				t.Errorf("route %q (%s) has no entry in mxCalls", r.Pattern, r.Action)
			}
		default:
			if _, ok := also[r.Pattern]; !ok {
				t.Errorf("route %q is guarded by %s, whose rule names %q: add it to mxAlsoCalls", r.Pattern, r.Action, rule.Endpoint)
			}
		}
	}
	for pattern := range also {
		if r, ok := routes[pattern]; !ok || r.Action == "" {
			t.Errorf("mxAlsoCalls has %q, which is not a route guarded by an action", pattern)
		}
	}
}

// mxAlso calls a route guarded by an action whose rule names another endpoint.
type mxAlso struct {
	build func(m *mxT, c *mxCaller) mxRequest
	// allowed, when set, is what an allowed caller gets when a 2xx is not what the route
	// answers once past the authorization (no fixture makes it succeed).
	allowed func(r *response) bool
}

// mxAlsoCalls is every route guarded by an action whose rule names another endpoint, by pattern.
func mxAlsoCalls() map[string]mxAlso {
	return map[string]mxAlso{
		"GET /api/v1/me/2fa":          {build: func(*mxT, *mxCaller) mxRequest { return mxGet("/api/v1/me/2fa") }},
		"GET /api/v1/me/2fa/webauthn": {build: func(*mxT, *mxCaller) mxRequest { return mxGet("/api/v1/me/2fa/webauthn") }},
		"GET /api/v1/users/{user_id}/sso": {build: func(m *mxT, _ *mxCaller) mxRequest {
			return mxGet(fmt.Sprintf("/api/v1/users/%d/sso", m.userTarget))
		}},
		"PUT /api/v1/users/{user_id}/sso": {build: func(m *mxT, _ *mxCaller) mxRequest {
			return mxRequest{method: "PUT", path: fmt.Sprintf("/api/v1/users/%d/sso", m.userTarget), body: map[string]any{"sso_only": false}}
		}},
		// No identity provider is configured: past the authorization, the provider is refused.
		"POST /api/v1/users/{user_id}/sso/identities": {
			build: func(m *mxT, _ *mxCaller) mxRequest {
				return mxRequest{method: "POST", path: fmt.Sprintf("/api/v1/users/%d/sso/identities", m.userTarget),
					body: map[string]any{"provider": "oidc:corp", "subject": "mx"}}
			},
			allowed: func(r *response) bool {
				return r.Status == http.StatusBadRequest && r.Body.Error != nil && r.Body.Error.Fields["provider"] != ""
			},
		},
		// The identity does not exist: past the authorization, it is not found.
		"DELETE /api/v1/users/{user_id}/sso/identities/{identity_id}": {
			build: func(m *mxT, _ *mxCaller) mxRequest {
				return mxRequest{method: "DELETE", path: fmt.Sprintf("/api/v1/users/%d/sso/identities/987654321", m.userTarget)}
			},
			allowed: func(r *response) bool { return r.Status == http.StatusNotFound },
		},
	}
}

// TestAuthorizationMatrixOtherRoutes sends every case of an action (rbac.Matrix) to the routes
// it guards besides its rule's endpoint, as TestAuthorizationMatrixEndpoints does to that one.
func TestAuthorizationMatrixOtherRoutes(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		m := newMatrixEnv(t, db)
		byAction := map[rbac.Action][]rbac.Case{}
		for _, c := range rbac.Matrix() {
			byAction[c.Action] = append(byAction[c.Action], c)
		}
		for pattern, call := range mxAlsoCalls() {
			r, _ := transport.Lookup(pattern)
			rule, _ := rbac.RuleFor(rbac.Action(r.Action))
			t.Run(pattern, func(t *testing.T) {
				mt := m.forTest(t)
				var mismatches []string
				for _, c := range byAction[rule.Action] {
					if c.Team != "" {
						continue // none of these actions is team-scoped: the team columns repeat the "" one
					}
					caller := m.callers[c.Global]
					req := call.build(mt, caller)
					got := mt.e.do(req.method, req.path, caller.tokens[mxScopeKey(c.Scopes)], req.body)
					ok := mxMatches(c, rule, got)
					if c.Code == "" && call.allowed != nil {
						ok = call.allowed(got)
					}
					if !ok {
						mismatches = append(mismatches, fmt.Sprintf("global=%s scopes=[%s]: want %s, got %d %s %s",
							mxName(string(c.Global)), mxScopeKey(c.Scopes), mxOutcome(c), got.Status, got.code(), mxSnippet(got)))
					}
				}
				if len(mismatches) > 0 {
					t.Errorf("%s (%s): %d cases differ from the matrix:\n%s", pattern, rule.Action, len(mismatches), strings.Join(mismatches, "\n"))
				}
			})
		}
	})
}

// TestURLSurfaceSplit: the assembled handler sends each path to the side the route table gives
// it, as the hand-kept prefix list it replaces did: the API (its envelope, its 404 and 405) under
// /api/, /.well-known/ and for the operations endpoints, the pages (HTML, their 404) for the rest.
func TestURLSurfaceSplit(t *testing.T) {
	e := start(t, testConfig(testdb.New(t, config.DBSQLite)), false)
	for _, tc := range []struct {
		method, path string
		status       int
		api          bool
	}{
		{"GET", "/api/v1/health", http.StatusOK, true},
		{"GET", "/api/v1/nowhere", http.StatusNotFound, true},
		{"GET", "/api", http.StatusNotFound, true},
		{"GET", "/api/v9/health", http.StatusNotFound, true},
		{"GET", "/.well-known/jwks.json", http.StatusOK, true},
		{"GET", "/.well-known/nowhere", http.StatusNotFound, true},
		{"GET", "/healthz", http.StatusOK, true},
		{"POST", "/healthz", http.StatusMethodNotAllowed, true},
		{"GET", "/readyz", http.StatusOK, true},
		{"GET", "/healthz/x", http.StatusNotFound, false},
		{"GET", "/nowhere", http.StatusNotFound, false},
		{"GET", "/login", http.StatusOK, false},
		{"GET", "/static/app.css", http.StatusOK, false},
		{"GET", "/sso/saml/metadata", http.StatusForbidden, false}, // no license: the page says so
		// The API reference page and its files are the pages' (HTML, CSS), the rest of
		// /api/docs/ the API's.
		{"GET", "/api/docs", http.StatusOK, false},
		{"GET", "/api/docs/swagger-ui.css", http.StatusOK, false},
		{"GET", "/api/docs/other", http.StatusNotFound, true},
	} {
		r := e.do(tc.method, tc.path, "", nil)
		// Every answer of the API chain is JSON (the envelope, the JWKS); the pages' are HTML or
		// their static files. (Both sides echo a request id now.)
		ct := r.Header.Get("Content-Type")
		isAPI := strings.Contains(ct, "json")
		if r.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s %s: no X-Request-ID", tc.method, tc.path)
		}
		if r.Status != tc.status || isAPI != tc.api || (!tc.api && !strings.Contains(ct, "text/")) {
			t.Errorf("%s %s: %d %s, want %d from the %s", tc.method, tc.path, r.Status, ct, tc.status, map[bool]string{true: "API", false: "pages"}[tc.api])
		}
	}
	if r := e.do("GET", "/metrics", "", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Raw), "gatehouse_http_requests_total") {
		t.Errorf("GET /metrics: %d", r.Status)
	}
}
