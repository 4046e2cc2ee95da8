package app_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// What docs/authentication.md says about a session's scopes: they are chosen at login, and
// every refresh gives the new access token those scopes capped by the account's roles as they
// are at the refresh. A demotion takes a scope away at the next refresh without ending the
// session; a promotion afterwards gives back at most what the login chose, never more.
func TestRefreshRecapsScopes(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		root := e.rootAdmin()
		e.createUser("maint@example.com", strongPassword, "maintainer")
		id := e.userID("maint@example.com")
		r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "maint@example.com", "password": strongPassword, "scope": "read write"})
		e.expect(r, http.StatusOK, "")
		var tk tokens
		r.data(t, &tk)
		if tk.Scope != "read write" {
			t.Fatalf("login scope %q, want read write", tk.Scope)
		}
		refresh := func(want string) {
			t.Helper()
			r := e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": tk.RefreshToken})
			e.expect(r, http.StatusOK, "")
			r.data(t, &tk)
			if tk.Scope != want {
				t.Fatalf("refreshed scope %q, want %q", tk.Scope, want)
			}
			me := e.do("GET", "/api/v1/me", tk.AccessToken, nil)
			e.expect(me, http.StatusOK, "")
		}
		setRoles := func(roles ...string) {
			t.Helper()
			e.expect(e.do("PATCH", fmt.Sprintf("/api/v1/users/%d", id), root, map[string]any{"roles": roles}), http.StatusOK, "")
		}
		setRoles("viewer")
		refresh("read")
		setRoles("admin")
		refresh("read write") // not admin: the login chose read write
	})
}
