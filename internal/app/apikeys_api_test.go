package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// apiKey is the wire form of a key (secret only in the create answer).
type apiKey struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	Status     string     `json:"status"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Secret     string     `json:"secret"`
}

// createKey makes a key with the bearer and returns it with its secret.
func (e *env) createKey(bearer string, body map[string]any) apiKey {
	e.t.Helper()
	r := e.do("POST", "/api/v1/api-keys", bearer, body)
	e.expect(r, http.StatusCreated, "")
	var k apiKey
	r.data(e.t, &k)
	// A 201 names what it created: the key's address (DELETE revokes it), and its ETag.
	if loc := r.Header.Get("Location"); loc != fmt.Sprintf("/api/v1/api-keys/%d", k.ID) || r.Header.Get("ETag") == "" {
		e.t.Fatalf("created key %d: Location %q, ETag %q", k.ID, loc, r.Header.Get("ETag"))
	}
	return k
}

func (e *env) listKeys(bearer, query string) ([]apiKey, string) {
	e.t.Helper()
	r := e.do("GET", "/api/v1/api-keys"+query, bearer, nil)
	e.expect(r, http.StatusOK, "")
	if strings.Contains(string(r.Raw), `"secret"`) {
		e.t.Fatalf("a list shows a secret: %s", r.Raw)
	}
	var keys []apiKey
	r.data(e.t, &keys)
	var meta struct {
		Meta struct {
			NextCursor string `json:"next_cursor"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(r.Raw, &meta); err != nil {
		e.t.Fatal(err)
	}
	return keys, meta.Meta.NextCursor
}

func (e *env) keyOwnerID(email string) int64 {
	e.t.Helper()
	u, err := e.app.Store.UserByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

func TestAPIKeysLifecycle(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		ctx := context.Background()
		e.createUser("maint@example.com", strongPassword, "maintainer")
		e.createUser("other@example.com", strongPassword, "maintainer")
		tk := e.login("maint@example.com", strongPassword)

		// Created: the secret is shown once, recognisable, and only its start is kept.
		k := e.createKey(tk.AccessToken, map[string]any{"name": "ci read", "scopes": []string{"read"}, "expires_at": nil})
		if !strings.HasPrefix(k.Secret, "ghk_") || len(k.Secret) != 63 || k.Prefix != k.Secret[:12] || k.ID == 0 ||
			k.Name != "ci read" || strings.Join(k.Scopes, " ") != "read" || k.Status != "active" ||
			k.ExpiresAt != nil || k.LastUsedAt != nil || !k.CreatedAt.Equal(e.clock.Now()) {
			t.Fatalf("created = %+v", k)
		}
		keys, next := e.listKeys(tk.AccessToken, "")
		if len(keys) != 1 || keys[0].ID != k.ID || keys[0].Secret != "" || keys[0].Prefix != k.Prefix || next != "" {
			t.Fatalf("list = %+v, next %q", keys, next)
		}

		// The key is a bearer credential with its scopes and its owner's roles.
		me := e.do("GET", "/api/v1/me", k.Secret, nil)
		e.expect(me, http.StatusOK, "")
		var m struct {
			Email  string   `json:"email"`
			Roles  []string `json:"roles"`
			Scopes []string `json:"scopes"`
		}
		me.data(t, &m)
		if m.Email != "maint@example.com" || strings.Join(m.Roles, " ") != "maintainer" || strings.Join(m.Scopes, " ") != "read" {
			t.Fatalf("me with the key = %+v", m)
		}
		// It lacks write, which creating a key needs.
		r := e.do("POST", "/api/v1/api-keys", k.Secret, map[string]any{"name": "child", "scopes": []string{"read"}})
		e.expect(r, http.StatusForbidden, "insufficient_scope")
		if h := r.Header.Get("WWW-Authenticate"); !strings.Contains(h, `scope="write"`) {
			t.Fatalf("WWW-Authenticate = %q", h)
		}
		// Its use is recorded.
		if keys, _ := e.listKeys(k.Secret, ""); keys[0].LastUsedAt == nil || !keys[0].LastUsedAt.Equal(e.clock.Now()) {
			t.Fatalf("last_used_at = %v, want %v", keys[0].LastUsedAt, e.clock.Now())
		}
		// A key has no session: logout with it ends nothing, and it keeps working.
		e.expect(e.do("POST", "/api/v1/auth/logout", k.Secret, nil), http.StatusOK, "")
		e.expect(e.do("GET", "/api/v1/auth/sessions", k.Secret, nil), http.StatusOK, "")

		// A look-alike or unknown key is a bad token.
		flipped := k.Secret[:62] + "A"
		if flipped == k.Secret {
			flipped = k.Secret[:62] + "B"
		}
		for _, bad := range []string{"ghk_nope", flipped, "ghk_" + strings.Repeat("A", 59)} {
			r := e.do("GET", "/api/v1/me", bad, nil)
			e.expect(r, http.StatusUnauthorized, "unauthenticated")
			if h := r.Header.Get("WWW-Authenticate"); !strings.Contains(h, "invalid_token") {
				t.Fatalf("WWW-Authenticate = %q", h)
			}
		}

		// Somebody else's key is not found, and stays alive.
		other := e.login("other@example.com", strongPassword)
		e.expect(e.do("DELETE", "/api/v1/api-keys/"+strconv.FormatInt(k.ID, 10), other.AccessToken, nil), http.StatusNotFound, "not_found")
		e.expect(e.do("DELETE", "/api/v1/api-keys/abc", other.AccessToken, nil), http.StatusNotFound, "not_found")
		e.expect(e.do("GET", "/api/v1/me", k.Secret, nil), http.StatusOK, "")
		if keys, _ := e.listKeys(other.AccessToken, ""); len(keys) != 0 {
			t.Fatalf("other lists %+v", keys)
		}

		// Revoked: dead at once, no longer listed, and a second revoke is not found.
		rw := e.createKey(tk.AccessToken, map[string]any{"name": "ci write", "scopes": []string{"write", "read"}})
		e.expect(e.do("GET", "/api/v1/me", rw.Secret, nil), http.StatusOK, "")
		e.expect(e.do("DELETE", "/api/v1/api-keys/"+strconv.FormatInt(k.ID, 10), rw.Secret, nil), http.StatusOK, "")
		e.expect(e.do("GET", "/api/v1/me", k.Secret, nil), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.do("DELETE", "/api/v1/api-keys/"+strconv.FormatInt(k.ID, 10), tk.AccessToken, nil), http.StatusNotFound, "not_found")
		if keys, _ := e.listKeys(tk.AccessToken, ""); len(keys) != 1 || keys[0].ID != rw.ID {
			t.Fatalf("after revoke: %+v", keys)
		}
		maintID := e.keyOwnerID("maint@example.com")
		for _, ev := range []string{gatehouse.AuditAPIKeyCreated, gatehouse.AuditAPIKeyRevoked} {
			evs, err := e.app.Store.AuditEvents(ctx, maintID, ev, 10)
			if err != nil || len(evs) == 0 {
				t.Fatalf("%s audit events: %v, %v", ev, evs, err)
			}
			if strings.Contains(evs[0].Detail, k.Secret) || strings.Contains(evs[0].Detail, rw.Secret) {
				t.Fatalf("audit detail holds a secret: %q", evs[0].Detail)
			}
		}

		// Expired: works until expires_at, then 401 (listed as expired).
		exp := e.clock.Now().Add(time.Hour)
		short := e.createKey(tk.AccessToken, map[string]any{"name": "short", "scopes": []string{"read"}, "expires_at": exp.Format(time.RFC3339)})
		if short.ExpiresAt == nil || !short.ExpiresAt.Equal(exp) {
			t.Fatalf("expires_at = %v, want %v", short.ExpiresAt, exp)
		}
		e.expect(e.do("GET", "/api/v1/me", short.Secret, nil), http.StatusOK, "")
		e.clock.Advance(time.Hour)
		e.expect(e.do("GET", "/api/v1/me", short.Secret, nil), http.StatusUnauthorized, "unauthenticated")
		keys, _ = e.listKeys(rw.Secret, "")
		if len(keys) != 2 || keys[0].ID != short.ID || keys[0].Status != "expired" || keys[1].Status != "active" {
			t.Fatalf("after expiry: %+v", keys)
		}

		// Logout-all with the key as the credential ends every session and every key.
		tk = e.login("maint@example.com", strongPassword)
		e.expect(e.do("POST", "/api/v1/auth/logout-all", rw.Secret, nil), http.StatusOK, "")
		e.expect(e.do("GET", "/api/v1/me", rw.Secret, nil), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.do("GET", "/api/v1/me", tk.AccessToken, nil), http.StatusUnauthorized, "unauthenticated")
		tk = e.login("maint@example.com", strongPassword)
		keys, _ = e.listKeys(tk.AccessToken, "")
		if len(keys) != 2 || keys[0].Status != "invalidated" || keys[1].Status != "invalidated" {
			t.Fatalf("after logout-all: %+v", keys)
		}
		// An admin's reset access does the same.
		fresh := e.createKey(tk.AccessToken, map[string]any{"name": "fresh", "scopes": []string{"read"}})
		e.expect(e.do("GET", "/api/v1/me", fresh.Secret, nil), http.StatusOK, "")
		if err := e.app.Auth.ResetAccess(ctx, nil, maintID, auth.Client{}); err != nil {
			t.Fatal(err)
		}
		e.expect(e.do("GET", "/api/v1/me", fresh.Secret, nil), http.StatusUnauthorized, "unauthenticated")

		// A deactivated owner's keys stop working.
		other = e.login("other@example.com", strongPassword)
		otherKey := e.createKey(other.AccessToken, map[string]any{"name": "o", "scopes": []string{"read"}})
		e.expect(e.do("GET", "/api/v1/me", otherKey.Secret, nil), http.StatusOK, "")
		if err := e.app.Store.SetActive(ctx, e.keyOwnerID("other@example.com"), false); err != nil {
			t.Fatal(err)
		}
		e.expect(e.do("GET", "/api/v1/me", otherKey.Secret, nil), http.StatusUnauthorized, "unauthenticated")
		// ... for good: reactivating the account does not revive them.
		if err := e.app.Store.SetActive(ctx, e.keyOwnerID("other@example.com"), true); err != nil {
			t.Fatal(err)
		}
		e.expect(e.do("GET", "/api/v1/me", otherKey.Secret, nil), http.StatusUnauthorized, "unauthenticated")
	})
}

func TestAPIKeysValidationAndScopes(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		e.createUser("maint@example.com", strongPassword, "maintainer")
		e.createUser("viewer@example.com", strongPassword, "viewer")
		e.createUser("root@example.com", strongPassword, "admin")
		tk := e.login("maint@example.com", strongPassword)
		now := e.clock.Now()

		for _, tc := range []struct {
			name  string
			body  any
			field string
		}{
			{"no name", map[string]any{"scopes": []string{"read"}}, "name"},
			{"blank name", map[string]any{"name": "  ", "scopes": []string{"read"}}, "name"},
			{"long name", map[string]any{"name": strings.Repeat("n", 101), "scopes": []string{"read"}}, "name"},
			{"name not a string", map[string]any{"name": 7, "scopes": []string{"read"}}, "name"},
			{"no scopes", map[string]any{"name": "x"}, "scopes"},
			{"empty scopes", map[string]any{"name": "x", "scopes": []string{}}, "scopes"},
			{"unknown scope", map[string]any{"name": "x", "scopes": []string{"read", "root"}}, "scopes"},
			{"scopes as a string", map[string]any{"name": "x", "scopes": "read"}, "scopes"},
			{"scope beyond the roles", map[string]any{"name": "x", "scopes": []string{"read", "admin"}}, "scopes"},
			{"expiry in the past", map[string]any{"name": "x", "scopes": []string{"read"}, "expires_at": now.Add(-time.Minute)}, "expires_at"},
			{"expiry now", map[string]any{"name": "x", "scopes": []string{"read"}, "expires_at": now}, "expires_at"},
			{"expiry too far", map[string]any{"name": "x", "scopes": []string{"read"}, "expires_at": now.Add(367 * 24 * time.Hour)}, "expires_at"},
			{"expiry not a time", map[string]any{"name": "x", "scopes": []string{"read"}, "expires_at": "tomorrow"}, "expires_at"},
			{"unknown field", map[string]any{"name": "x", "scopes": []string{"read"}, "secret": "ghk_mine"}, "secret"},
		} {
			r := e.do("POST", "/api/v1/api-keys", tk.AccessToken, tc.body)
			if r.Status != http.StatusBadRequest || r.code() != "invalid" || r.Body.Error.Fields[tc.field] == "" {
				t.Errorf("%s: got %d, want 400 naming %s\n%s", tc.name, r.Status, tc.field, r.Raw)
			}
		}
		if keys, _ := e.listKeys(tk.AccessToken, ""); len(keys) != 0 {
			t.Fatalf("refused requests stored keys: %+v", keys)
		}

		// A viewer's tokens carry read only, and creating a key needs write.
		v := e.login("viewer@example.com", strongPassword)
		e.expect(e.do("POST", "/api/v1/api-keys", v.AccessToken, map[string]any{"name": "x", "scopes": []string{"write"}}), http.StatusForbidden, "insufficient_scope")
		e.expect(e.do("POST", "/api/v1/api-keys", v.AccessToken, map[string]any{"name": "x", "scopes": []string{"read"}}), http.StatusForbidden, "insufficient_scope")
		e.expect(e.do("GET", "/api/v1/api-keys", v.AccessToken, nil), http.StatusOK, "")

		// An admin may give a key admin, but only with a token that carries admin itself.
		r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "root@example.com", "password": strongPassword, "scope": "read write"})
		e.expect(r, http.StatusOK, "")
		var narrow tokens
		r.data(t, &narrow)
		r = e.do("POST", "/api/v1/api-keys", narrow.AccessToken, map[string]any{"name": "x", "scopes": []string{"admin"}})
		if r.Status != http.StatusBadRequest || r.Body.Error.Fields["scopes"] == "" {
			t.Fatalf("admin key from a read write token: %d\n%s", r.Status, r.Raw)
		}
		root := e.login("root@example.com", strongPassword)
		admin := e.createKey(root.AccessToken, map[string]any{"name": "ops", "scopes": []string{"admin", "read"}, "expires_at": now.Add(366 * 24 * time.Hour)})
		if strings.Join(admin.Scopes, " ") != "read admin" {
			t.Fatalf("admin key scopes = %v", admin.Scopes)
		}

		// The default admin must change its password before it may make keys.
		def := e.login("admin@localhost.local", "admin123")
		e.expect(e.do("POST", "/api/v1/api-keys", def.AccessToken, map[string]any{"name": "x", "scopes": []string{"read"}}), http.StatusForbidden, "password_change_required")

		// Unauthenticated: 401.
		e.expect(e.do("GET", "/api/v1/api-keys", "", nil), http.StatusUnauthorized, "unauthenticated")
	})
}

func TestAPIKeysPagination(t *testing.T) {
	e := start(t, testConfig(testdb.New(t, testdb.SQLite)), false)
	e.createUser("maint@example.com", strongPassword, "maintainer")
	tk := e.login("maint@example.com", strongPassword)
	var made []int64
	for i := range 5 {
		if i%2 == 0 {
			e.clock.Advance(time.Second) // some keys share a created_at
		}
		made = append(made, e.createKey(tk.AccessToken, map[string]any{"name": "k" + strconv.Itoa(i), "scopes": []string{"read"}}).ID)
	}
	var seen []int64
	query := "?limit=2"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		keys, next := e.listKeys(tk.AccessToken, query)
		for _, k := range keys {
			seen = append(seen, k.ID)
		}
		if next == "" {
			break
		}
		query = "?limit=2&cursor=" + url.QueryEscape(next)
	}
	if len(seen) != 5 {
		t.Fatalf("listed %v, made %v", seen, made)
	}
	for i := range seen {
		if seen[i] != made[len(made)-1-i] {
			t.Fatalf("listed %v, want newest first of %v", seen, made)
		}
	}
	e.expect(e.do("GET", "/api/v1/api-keys?limit=0", tk.AccessToken, nil), http.StatusBadRequest, "invalid")
	e.expect(e.do("GET", "/api/v1/api-keys?cursor=%21", tk.AccessToken, nil), http.StatusBadRequest, "invalid")
	e.expect(e.do("GET", "/api/v1/api-keys?status=active", tk.AccessToken, nil), http.StatusBadRequest, "invalid")
}
