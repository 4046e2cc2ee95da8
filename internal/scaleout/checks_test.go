package scaleout_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// checkAcrossInstances: what one instance does, every other sees at the next request. Each call
// goes to one instance directly, bypassing HAProxy.
func (c *cluster) checkAcrossInstances(t *testing.T) {
	t.Helper()
	a, b, d := c.direct[0], c.direct[1], c.direct[2]
	newUser := func(email string, roles ...string) {
		t.Helper()
		must(t, a.do(http.MethodPost, "/api/v1/users", c.admin, map[string]any{
			"email": email, "password": workerPassword, "roles": roles, "confirmed": true,
		}), http.StatusCreated, nil)
	}
	login := func(via *api, email string) tokens {
		t.Helper()
		var tk tokens
		must(t, via.do(http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": email, "password": workerPassword}), http.StatusOK, &tk)
		return tk
	}

	// A refresh token rotated on one instance and replayed on another (after the grace window)
	// is reuse: the whole session ends, on every instance.
	newUser("reuse@example.com", "viewer")
	p0 := login(a, "reuse@example.com")
	var p1 tokens
	must(t, b.do(http.MethodPost, "/api/v1/auth/refresh", "", map[string]any{"refresh_token": p0.RefreshToken}), http.StatusOK, &p1)
	time.Sleep(1500 * time.Millisecond) // SECURITY_REFRESH_REUSE_GRACE=1s
	must(t, d.do(http.MethodPost, "/api/v1/auth/refresh", "", map[string]any{"refresh_token": p0.RefreshToken}), http.StatusUnauthorized, nil)
	must(t, a.do(http.MethodPost, "/api/v1/auth/refresh", "", map[string]any{"refresh_token": p1.RefreshToken}), http.StatusUnauthorized, nil)
	for i, via := range c.direct {
		if r := via.do(http.MethodGet, "/api/v1/me", p1.AccessToken, nil); r.status != http.StatusUnauthorized {
			t.Errorf("instance %d: the access token of a session ended for refresh-token reuse got %d", i+1, r.status)
		}
	}

	// Failed logins counted on one instance throttle the account on another.
	newUser("throttle@example.com", "viewer")
	for range 5 {
		must(t, a.do(http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": "throttle@example.com", "password": "wrong password!"}), http.StatusUnauthorized, nil)
	}
	r := b.do(http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": "throttle@example.com", "password": workerPassword})
	if r.status != http.StatusTooManyRequests || r.retryAfter == "" {
		t.Errorf("login on instance 2 after 5 failures on instance 1: %d (Retry-After %q), want 429 with Retry-After", r.status, r.retryAfter)
	}

	// A logout on one instance ends the session on every other at the next request (each
	// instance has seen and cached the token first).
	newUser("logout@example.com", "viewer")
	tk := login(a, "logout@example.com")
	for _, via := range c.direct {
		must(t, via.do(http.MethodGet, "/api/v1/me", tk.AccessToken, nil), http.StatusOK, nil)
	}
	must(t, a.do(http.MethodPost, "/api/v1/auth/logout", tk.AccessToken, map[string]any{"refresh_token": tk.RefreshToken}), http.StatusOK, nil)
	for i, via := range c.direct {
		if r := via.do(http.MethodGet, "/api/v1/me", tk.AccessToken, nil); r.status != http.StatusUnauthorized {
			t.Errorf("instance %d after logout on instance 1: %d, want 401", i+1, r.status)
		}
	}

	// A role change on one instance is seen by the next request on every other: a maintainer
	// may create teams, a viewer may not.
	newUser("demoted@example.com", "maintainer")
	tk = login(a, "demoted@example.com")
	var me struct {
		ID    int64    `json:"id"`
		Roles []string `json:"roles"`
	}
	must(t, b.do(http.MethodGet, "/api/v1/me", tk.AccessToken, nil), http.StatusOK, &me)
	for i, via := range c.direct {
		must(t, via.do(http.MethodPost, "/api/v1/teams", tk.AccessToken, map[string]any{"name": fmt.Sprintf("before %d", i)}), http.StatusCreated, nil)
	}
	must(t, a.do(http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", me.ID), c.admin, map[string]any{"roles": []string{"viewer"}}), http.StatusOK, nil)
	for i, via := range c.direct {
		if r := via.do(http.MethodPost, "/api/v1/teams", tk.AccessToken, map[string]any{"name": fmt.Sprintf("after %d", i)}); r.status != http.StatusForbidden {
			t.Errorf("instance %d: team creation by a maintainer demoted to viewer on instance 1: %d, want 403", i+1, r.status)
		}
		var now struct {
			Roles []string `json:"roles"`
		}
		must(t, via.do(http.MethodGet, "/api/v1/me", tk.AccessToken, nil), http.StatusOK, &now)
		if !sameRoles(now.Roles, "viewer") {
			t.Errorf("instance %d: roles after the change %v, want [viewer]", i+1, now.Roles)
		}
	}
}

// checkLastOwner: two owners of a team demote each other at the same moment through different
// instances, on several teams; at most one of each pair succeeds, and afterwards every team in
// the database (the workload's included) has an owner.
func (c *cluster) checkLastOwner(t *testing.T) {
	t.Helper()
	a, b := c.direct[0], c.direct[1]
	var ids [2]int64
	var tks [2]tokens
	for i := range 2 {
		email := fmt.Sprintf("owner%d@example.com", i)
		var u struct {
			ID int64 `json:"id"`
		}
		must(t, a.do(http.MethodPost, "/api/v1/users", c.admin, map[string]any{
			"email": email, "password": workerPassword, "roles": []string{"maintainer"}, "confirmed": true,
		}), http.StatusCreated, &u)
		ids[i] = u.ID
		must(t, a.do(http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": email, "password": workerPassword}), http.StatusOK, &tks[i])
	}
	for round := range 8 {
		var team struct {
			ID int64 `json:"id"`
		}
		must(t, a.do(http.MethodPost, "/api/v1/teams", tks[0].AccessToken, map[string]any{"name": fmt.Sprintf("owners %d", round)}), http.StatusCreated, &team)
		must(t, a.do(http.MethodPut, fmt.Sprintf("/api/v1/teams/%d/members/%d", team.ID, ids[1]), tks[0].AccessToken, map[string]any{"role": "owner"}), http.StatusCreated, nil)
		var wg sync.WaitGroup
		var res [2]result
		for i, via := range []*api{a, b} {
			wg.Go(func() {
				path := fmt.Sprintf("/api/v1/teams/%d/members/%d", team.ID, ids[1-i])
				if round%2 == 0 {
					res[i] = via.do(http.MethodPut, path, tks[i].AccessToken, map[string]any{"role": "member"})
				} else {
					res[i] = via.do(http.MethodDelete, path, tks[i].AccessToken, nil)
				}
			})
		}
		wg.Wait()
		ok := 0
		for _, r := range res {
			switch r.status {
			case http.StatusOK:
				ok++
			case http.StatusConflict, http.StatusForbidden, http.StatusNotFound:
				// the other change won: last owner, or the caller is no longer an owner
			default:
				t.Errorf("round %d: %s: %d %s", round, r.what, r.status, r.raw)
			}
		}
		if ok != 1 {
			t.Errorf("round %d: %d of the two concurrent owner changes succeeded, want exactly 1", round, ok)
		}
	}
	s := openStore(t, c.db)
	var orphans int
	if err := s.DB().QueryRowContext(context.Background(),
		"SELECT COUNT(*) FROM teams t WHERE NOT EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = t.id AND m.role = 'owner')").Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if orphans > 0 {
		t.Errorf("%d teams have no owner", orphans)
	}
}
