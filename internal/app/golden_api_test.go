package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// TestGoldenV1 freezes API v1: one request of every resource kind and one of every error status
// a client meets, compared with testdata/golden/v1 (shapes, status codes, headers; volatile
// values normalised). v1 is the previous version (N-1) and must not change by accident while v2
// is developed on the same handlers.
func TestGoldenV1(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		goldenSequence(t, db, 1)
	})
}

// goldenSequence runs the golden sequence against /api/v{major}/ and compares with
// testdata/golden/v{major}.
func goldenSequence(t *testing.T, db config.DB, major int) {
	cfg := testConfig(db)
	cfg.Security.Registerable = true
	e := start(t, cfg, true)
	e.createUser("root@example.com", strongPassword, "admin")
	e.createUser("viewer@example.com", strongPassword, "viewer")
	g := &golden{e: e, dir: fmt.Sprintf("v%d", major)}
	defer g.finish()
	v := fmt.Sprintf("/api/v%d", major)
	type body = map[string]any

	// Accounts and tokens.
	g.record("auth_register", exchange{method: "POST", path: v + "/auth/register",
		body: body{"email": "new@example.com", "password": strongPassword2}})
	r, login := g.record("auth_login", exchange{method: "POST", path: v + "/auth/login",
		body: body{"email": "root@example.com", "password": strongPassword}})
	e.expect(r, http.StatusOK, "")
	_, refreshed := g.record("auth_refresh", exchange{method: "POST", path: v + "/auth/refresh",
		body: body{"refresh_token": login["refresh_token"]}})
	root, _ := refreshed["access_token"].(string)
	viewer := e.login("viewer@example.com", strongPassword).AccessToken

	_, me := g.record("me", exchange{method: "GET", path: v + "/me", bearer: root})
	g.record("me_2fa", exchange{method: "GET", path: v + "/me/2fa", bearer: root})
	g.record("me_2fa_webauthn", exchange{method: "GET", path: v + "/me/2fa/webauthn", bearer: root})
	g.record("auth_sessions", exchange{method: "GET", path: v + "/auth/sessions", bearer: root})
	// A list v1 answers whole: v1 ignores limit, v2 pages it.
	g.record("auth_sessions_limit", exchange{method: "GET", path: v + "/auth/sessions?limit=1", bearer: root})
	g.record("version", exchange{method: "GET", path: v + "/version"})

	// Users.
	g.record("users_list", exchange{method: "GET", path: v + "/users?limit=2&sort=email", bearer: root})
	userPath := fmt.Sprintf("%s/users/%v", v, me["id"])
	g.record("users_get", exchange{method: "GET", path: userPath, bearer: root})
	_, created := g.record("users_create", exchange{method: "POST", path: v + "/users", bearer: root,
		body: body{"email": "made@example.com", "password": strongPassword3, "roles": []string{"viewer"}}})
	g.record("users_patch", exchange{method: "PATCH", path: fmt.Sprintf("%s/users/%v", v, created["id"]), bearer: root,
		body: body{"roles": []string{"maintainer"}}})

	// Teams, members, invitations, projects.
	_, team := g.record("teams_create", exchange{method: "POST", path: v + "/teams", bearer: root,
		body: body{"name": "Platform", "description": "the platform team"}})
	tp := fmt.Sprintf("%s/teams/%v", v, team["id"])
	g.record("teams_list", exchange{method: "GET", path: v + "/teams", bearer: root})
	r, _ = g.record("teams_get", exchange{method: "GET", path: tp, bearer: root})
	etag := r.Header.Get("ETag")
	g.record("teams_patch", exchange{method: "PATCH", path: tp, bearer: root, body: body{"description": "renamed"},
		header: http.Header{"If-Match": {etag}}})
	// A merge patch (RFC 7396): v1 refuses the media type, v2 clears the description.
	g.record("teams_merge_patch", exchange{method: "PATCH", path: tp, bearer: root, body: `{"description":null}`,
		contentType: "application/merge-patch+json"})
	g.record("members_set", exchange{method: "PUT", path: fmt.Sprintf("%s/members/%v", tp, created["id"]), bearer: root,
		body: body{"role": "member"}})
	g.record("members_list", exchange{method: "GET", path: tp + "/members", bearer: root})
	g.record("members_get", exchange{method: "GET", path: fmt.Sprintf("%s/members/%v", tp, created["id"]), bearer: root})
	_, inv := g.record("invitations_create", exchange{method: "POST", path: tp + "/invitations", bearer: root,
		body: body{"email": "guest@example.com", "role": "member"}})
	g.record("invitations_list", exchange{method: "GET", path: tp + "/invitations", bearer: root})
	g.record("invitations_get", exchange{method: "GET", path: fmt.Sprintf("%s/invitations/%v", tp, inv["id"]), bearer: root})
	_, project := g.record("projects_create", exchange{method: "POST", path: tp + "/projects", bearer: root,
		body: body{"name": "Gateway", "description": "edge"}})
	pp := fmt.Sprintf("%s/projects/%v", tp, project["id"])
	g.record("projects_list", exchange{method: "GET", path: tp + "/projects", bearer: root})
	g.record("projects_get", exchange{method: "GET", path: pp, bearer: root})
	g.record("projects_patch", exchange{method: "PATCH", path: pp, bearer: root, body: body{"name": "Gateway 2"}})

	// API keys.
	_, key := g.record("api_keys_create", exchange{method: "POST", path: v + "/api-keys", bearer: root,
		body: body{"name": "ci", "scopes": []string{"read"}}})
	g.record("api_keys_list", exchange{method: "GET", path: v + "/api-keys", bearer: root})

	// Errors, one of each status a client meets.
	g.record("error_400_validation", exchange{method: "POST", path: v + "/teams", bearer: root, body: body{"name": ""}})
	g.record("error_400_unknown_field", exchange{method: "POST", path: v + "/teams", bearer: root, body: body{"name": "x", "nick": "y"}})
	g.record("error_400_malformed", exchange{method: "POST", path: v + "/teams", bearer: root, body: `{"name": `})
	g.record("error_401", exchange{method: "GET", path: v + "/me"})
	g.record("error_401_bad_token", exchange{method: "GET", path: v + "/me", bearer: "not-a-token"})
	g.record("error_403", exchange{method: "GET", path: v + "/users", bearer: viewer})
	g.record("error_404", exchange{method: "GET", path: v + "/teams/999999999", bearer: root})
	g.record("error_404_route", exchange{method: "GET", path: v + "/nowhere", bearer: root})
	g.record("error_405", exchange{method: "PUT", path: v + "/teams", bearer: root, body: body{}})
	g.record("error_409", exchange{method: "POST", path: v + "/users", bearer: root,
		body: body{"email": "made@example.com", "password": strongPassword3}})
	g.record("error_412", exchange{method: "PATCH", path: tp, bearer: root, body: body{"description": "x"},
		header: http.Header{"If-Match": {`"stale"`}}})
	g.record("error_413", exchange{method: "POST", path: v + "/auth/login",
		body: `{"email":"` + strings.Repeat("a", 17<<10) + `"}`})
	g.record("error_415", exchange{method: "POST", path: v + "/teams", bearer: root, body: `name=x`,
		contentType: "application/x-www-form-urlencoded"})

	// Removing things, and signing out.
	g.record("invitations_delete", exchange{method: "DELETE", path: fmt.Sprintf("%s/invitations/%v", tp, inv["id"]), bearer: root})
	g.record("projects_delete", exchange{method: "DELETE", path: pp, bearer: root})
	g.record("members_delete", exchange{method: "DELETE", path: fmt.Sprintf("%s/members/%v", tp, created["id"]), bearer: root})
	g.record("teams_delete", exchange{method: "DELETE", path: tp, bearer: root})
	g.record("api_keys_delete", exchange{method: "DELETE", path: fmt.Sprintf("%s/api-keys/%v", v, key["id"]), bearer: root})
	g.record("auth_logout", exchange{method: "POST", path: v + "/auth/logout", bearer: root,
		body: body{"refresh_token": refreshed["refresh_token"]}})
}

// TestGoldenV2 runs the same sequence against /api/v2/, compared with testdata/golden/v2: next
// to the v1 files they show every difference of docs/api.md "What changed in v2" (identifiers
// as strings, the whole lists paged, Location under /api/v2/), and that the error codes and
// statuses are v1's.
func TestGoldenV2(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		goldenSequence(t, db, 2)
	})
}
