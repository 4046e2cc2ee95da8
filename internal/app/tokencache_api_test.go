package app_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// The access-token cache (JWT_VERIFY_CACHE_SIZE, on by default) skips only the signature check
// of a token seen before. Each case below first makes sure the token is in the cache, then
// changes the account, and checks that the very next request, answered from the cache (the hit
// counter moves), still sees the change: a token is refused after logout-all and after a
// password change, and carries the new role after a role change.
func TestTokenCacheHonoursAccountChanges(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		if e.app.Config.JWT.VerifyCacheSize == 0 {
			t.Fatal("the token cache is off in the default configuration")
		}
		root := e.rootAdmin()
		e.createUser("cached@example.com", strongPassword, "maintainer")

		type me struct {
			ID    int64    `json:"id"`
			Roles []string `json:"roles"`
		}
		getMe := func(tok string) me {
			t.Helper()
			r := e.do("GET", "/api/v1/me", tok, nil)
			e.expect(r, http.StatusOK, "")
			var m me
			r.data(t, &m)
			return m
		}
		// cached asserts that tok is in the cache: a request with it is a hit.
		cached := func(tok string) {
			t.Helper()
			getMe(tok) // verified in full the first time, remembered
			before := e.app.Tokens.CacheStats().Hits
			getMe(tok)
			if after := e.app.Tokens.CacheStats().Hits; after != before+1 {
				t.Fatalf("token not answered from the cache (hits %d → %d)", before, after)
			}
		}
		// fromCache runs req and asserts that its token check was a cache hit.
		fromCache := func(what string, req func()) {
			t.Helper()
			before := e.app.Tokens.CacheStats().Hits
			req()
			if after := e.app.Tokens.CacheStats().Hits; after != before+1 {
				t.Fatalf("%s: not answered from the cache (hits %d → %d)", what, before, after)
			}
		}

		// Role change: the cached token carries the new role at once.
		tk := e.login("cached@example.com", strongPassword)
		cached(tk.AccessToken)
		id := getMe(tk.AccessToken).ID
		e.expect(e.do("PATCH", fmt.Sprintf("/api/v1/users/%d", id), root, map[string]any{"roles": []string{"viewer"}}), http.StatusOK, "")
		fromCache("after a role change", func() {
			if m := getMe(tk.AccessToken); !slices.Equal(m.Roles, []string{"viewer"}) {
				t.Errorf("roles after the change = %v, want [viewer]", m.Roles)
			}
		})
		// Viewer may no longer write: the decision uses the new role too.
		fromCache("write after demotion", func() {
			e.expect(e.do("POST", "/api/v1/teams", tk.AccessToken, map[string]any{"name": "x"}), http.StatusForbidden, "forbidden")
		})

		// Password change: every other token of the account is refused, cached or not.
		other := e.login("cached@example.com", strongPassword)
		cached(other.AccessToken)
		r := e.do("POST", "/api/v1/auth/password/change", tk.AccessToken, map[string]string{"current_password": strongPassword, "new_password": strongPassword2})
		e.expect(r, http.StatusOK, "")
		fromCache("after a password change", func() {
			e.expect(e.do("GET", "/api/v1/me", other.AccessToken, nil), http.StatusUnauthorized, "unauthenticated")
		})
		fromCache("the changing token itself", func() {
			e.expect(e.do("GET", "/api/v1/me", tk.AccessToken, nil), http.StatusUnauthorized, "unauthenticated")
		})

		// Logout-all: the token that asked for it and every other one are refused.
		a := e.login("cached@example.com", strongPassword2)
		b := e.login("cached@example.com", strongPassword2)
		cached(a.AccessToken)
		cached(b.AccessToken)
		e.expect(e.do("POST", "/api/v1/auth/logout-all", a.AccessToken, nil), http.StatusOK, "")
		for _, x := range []tokens{a, b} {
			fromCache("after logout-all", func() {
				e.expect(e.do("GET", "/api/v1/me", x.AccessToken, nil), http.StatusUnauthorized, "unauthenticated")
			})
		}

		// Logout of one session: its cached token is refused, the others still work.
		c := e.login("cached@example.com", strongPassword2)
		d := e.login("cached@example.com", strongPassword2)
		cached(c.AccessToken)
		cached(d.AccessToken)
		e.expect(e.do("POST", "/api/v1/auth/logout", c.AccessToken, nil), http.StatusOK, "")
		fromCache("after logout", func() {
			e.expect(e.do("GET", "/api/v1/me", c.AccessToken, nil), http.StatusUnauthorized, "unauthenticated")
		})
		getMe(d.AccessToken)
	})
}
