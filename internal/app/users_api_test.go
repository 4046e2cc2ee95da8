package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// userObj is the wire form of a user in the admin API.
type userObj struct {
	ID                 int64      `json:"id"`
	Email              string     `json:"email"`
	Roles              []string   `json:"roles"`
	Active             bool       `json:"active"`
	ConfirmedAt        *time.Time `json:"confirmed_at"`
	MustChangePassword bool       `json:"must_change_password"`
	LastLoginAt        *time.Time `json:"last_login_at"`
	CurrentLoginAt     *time.Time `json:"current_login_at"`
	LoginCount         int64      `json:"login_count"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
}

// loginScoped logs in asking for the given scopes and returns the access token.
func (e *env) loginScoped(email, password, scope string) string {
	e.t.Helper()
	r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": email, "password": password, "scope": scope})
	e.expect(r, http.StatusOK, "")
	var tk tokens
	r.data(e.t, &tk)
	if tk.Scope != scope {
		e.t.Fatalf("login asking for %q got %q", scope, tk.Scope)
	}
	return tk.AccessToken
}

// rootAdmin creates root@example.com, a global admin, and returns its access token (all scopes).
func (e *env) rootAdmin() string {
	e.t.Helper()
	e.createUser("root@example.com", strongPassword, "admin")
	return e.login("root@example.com", strongPassword).AccessToken
}

func (e *env) idOf(email string) int64 {
	e.t.Helper()
	u, err := e.app.Store.UserByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

// getUser reads a user through the API and returns it with its ETag.
func (e *env) getUser(bearer string, id int64) (userObj, string) {
	e.t.Helper()
	r := e.do("GET", fmt.Sprintf("/api/v1/users/%d", id), bearer, nil)
	e.expect(r, http.StatusOK, "")
	var u userObj
	r.data(e.t, &u)
	if r.Header.Get("ETag") == "" {
		e.t.Fatalf("no ETag: %v", r.Header)
	}
	return u, r.Header.Get("ETag")
}

// nextCursor returns meta.next_cursor of a list answer.
func nextCursor(t *testing.T, r *response) string {
	t.Helper()
	var env struct {
		Meta struct {
			NextCursor string `json:"next_cursor"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(r.Raw, &env); err != nil {
		t.Fatal(err)
	}
	return env.Meta.NextCursor
}

// listUsers pages through GET /api/v1/users?query with limit per page and returns the emails.
func (e *env) listUsers(bearer, query string, limit int) []string {
	e.t.Helper()
	var emails []string
	cursor := ""
	for range 50 {
		q, err := url.ParseQuery(query)
		if err != nil {
			e.t.Fatal(err)
		}
		q.Set("limit", fmt.Sprint(limit))
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		r := e.do("GET", "/api/v1/users?"+q.Encode(), bearer, nil)
		e.expect(r, http.StatusOK, "")
		var page []userObj
		r.data(e.t, &page)
		if len(page) > limit {
			e.t.Fatalf("page of %d with limit %d", len(page), limit)
		}
		for _, u := range page {
			emails = append(emails, u.Email)
		}
		if cursor = nextCursor(e.t, r); cursor == "" {
			return emails
		}
	}
	e.t.Fatal("the list never ended")
	return nil
}

// auditEvents returns the event names of GET /api/v1/admin/audit?query, newest first.
func (e *env) auditEvents(bearer, query string) []string {
	e.t.Helper()
	r := e.do("GET", "/api/v1/admin/audit?"+query, bearer, nil)
	e.expect(r, http.StatusOK, "")
	var evs []struct {
		Event   string `json:"event"`
		ActorID *int64 `json:"actor_id"`
	}
	r.data(e.t, &evs)
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Event
	}
	return out
}

// Who may call the user administration and admin views: admins with an admin-scoped token only.
func TestUsersAPIAccess(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		root := e.rootAdmin()
		rootRW := e.loginScoped("root@example.com", strongPassword, "read write")
		e.createUser("maint@example.com", strongPassword, "maintainer")
		e.createUser("view@example.com", strongPassword, "viewer")
		maint := e.login("maint@example.com", strongPassword).AccessToken
		view := e.login("view@example.com", strongPassword).AccessToken
		target := e.idOf("view@example.com")

		type call struct {
			method, path string
			body         any
		}
		calls := []call{
			{"GET", "/api/v1/users", nil},
			{"POST", "/api/v1/users", map[string]any{"email": "new@example.com", "password": strongPassword2}},
			{"GET", fmt.Sprintf("/api/v1/users/%d", target), nil},
			{"PATCH", fmt.Sprintf("/api/v1/users/%d", target), map[string]any{"active": false}},
			{"DELETE", fmt.Sprintf("/api/v1/users/%d", target), nil},
			{"POST", fmt.Sprintf("/api/v1/users/%d/reset-access", target), nil},
			{"POST", fmt.Sprintf("/api/v1/users/%d/unlock", target), nil},
			// A caller who may not act learns nothing, not even whether the id exists.
			{"GET", "/api/v1/users/999999", nil},
			{"DELETE", "/api/v1/users/999999", nil},
			{"GET", "/api/v1/admin/outbox", nil},
			{"GET", "/api/v1/admin/audit", nil},
		}
		for _, c := range calls {
			name := c.method + " " + c.path
			r := e.do(c.method, c.path, "", c.body)
			e.expect(r, http.StatusUnauthorized, "unauthenticated")
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s without a token: WWW-Authenticate = %q", name, r.Header.Get("WWW-Authenticate"))
			}
			for _, tok := range []string{maint, view} {
				e.expect(e.do(c.method, c.path, tok, c.body), http.StatusForbidden, "forbidden")
			}
			r = e.do(c.method, c.path, rootRW, c.body)
			e.expect(r, http.StatusForbidden, "insufficient_scope")
			if got := r.Header.Get("WWW-Authenticate"); got != `Bearer error="insufficient_scope", scope="admin"` {
				t.Errorf("%s with a read write token: WWW-Authenticate = %q", name, got)
			}
		}
		// Nothing was changed by the refused calls; the admin with the admin scope gets through.
		if u, _ := e.getUser(root, target); !u.Active {
			t.Fatal("a refused call deactivated the user")
		}
		e.expect(e.do("GET", "/api/v1/admin/outbox", root, nil), http.StatusOK, "")
		e.expect(e.do("GET", "/api/v1/admin/audit", root, nil), http.StatusOK, "")

		// PATCH /me needs a token with write; a viewer's tokens are read-only.
		e.expect(e.do("PATCH", "/api/v1/me", "", map[string]any{}), http.StatusUnauthorized, "unauthenticated")
		r := e.do("PATCH", "/api/v1/me", view, map[string]any{})
		e.expect(r, http.StatusForbidden, "insufficient_scope")
		if got := r.Header.Get("WWW-Authenticate"); got != `Bearer error="insufficient_scope", scope="write"` {
			t.Errorf("PATCH /me as viewer: WWW-Authenticate = %q", got)
		}
		e.expect(e.do("PATCH", "/api/v1/me", maint, map[string]any{}), http.StatusOK, "")
	})
}

// PATCH /api/v1/me: nothing is self-editable yet; every account field is refused by name.
func TestUpdateMe(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		e.createUser("maint@example.com", strongPassword, "maintainer")
		tok := e.login("maint@example.com", strongPassword).AccessToken

		r := e.do("PATCH", "/api/v1/me", tok, map[string]any{})
		e.expect(r, http.StatusOK, "")
		var me struct {
			Email string   `json:"email"`
			Roles []string `json:"roles"`
		}
		r.data(t, &me)
		if me.Email != "maint@example.com" || !slices.Equal(me.Roles, []string{"maintainer"}) {
			t.Fatalf("PATCH /me {} = %s", r.Raw)
		}
		for field, value := range map[string]any{
			"roles": []string{"admin"}, "active": true, "confirmed": true, "confirmed_at": nil,
			"must_change_password": false, "email": "other@example.com", "id": 1, "password": strongPassword2,
			"login_count": 0, "scopes": []string{"admin"},
		} {
			r := e.do("PATCH", "/api/v1/me", tok, map[string]any{field: value})
			e.expect(r, http.StatusBadRequest, "invalid")
			if r.Body.Error.Fields[field] == "" {
				t.Errorf("PATCH /me {%q: …} does not name the field: %s", field, r.Raw)
			}
		}
		r = e.do("PATCH", "/api/v1/me", tok, map[string]any{"nickname": "x"})
		e.expect(r, http.StatusBadRequest, "invalid")
		if r.Body.Error.Fields["nickname"] != "unknown field" {
			t.Errorf("unknown field: %s", r.Raw)
		}
		// Several at once are all named.
		r = e.do("PATCH", "/api/v1/me", tok, map[string]any{"roles": []string{"admin"}, "active": true})
		e.expect(r, http.StatusBadRequest, "invalid")
		if len(r.Body.Error.Fields) != 2 {
			t.Errorf("two protected fields: %s", r.Raw)
		}
		// Nothing changed.
		u, err := e.app.Store.UserByEmail(context.Background(), "maint@example.com")
		if err != nil || !slices.Equal(u.Roles, []gatehouse.Role{gatehouse.RoleMaintainer}) || !u.Active {
			t.Fatalf("after the refused patches: %+v, %v", u, err)
		}
		// An account that must change its password must do that first.
		def := e.login("admin@localhost.local", "admin123").AccessToken
		e.expect(e.do("PATCH", "/api/v1/me", def, map[string]any{}), http.StatusForbidden, "password_change_required")
	})
}

// Create, read, change, reset, unlock and delete a user, with If-Match, the audit trail, and the
// effect of each change on the user's next request.
func TestUsersAPILifecycle(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		root := e.rootAdmin()
		rootID := e.idOf("root@example.com")

		r := e.do("POST", "/api/v1/users", root, map[string]any{
			"email": "New.User@Example.com", "password": strongPassword2, "roles": []string{"viewer", "maintainer", "viewer"}, "confirmed": true,
		})
		e.expect(r, http.StatusCreated, "")
		var u userObj
		r.data(t, &u)
		created := r.Header.Get("ETag")
		if u.ID == 0 || u.Email != "New.User@Example.com" || !slices.Equal(u.Roles, []string{"maintainer", "viewer"}) || !u.Active ||
			u.ConfirmedAt == nil || u.MustChangePassword || u.LoginCount != 0 || u.CreatedAt.IsZero() || u.UpdatedAt.IsZero() || created == "" {
			t.Fatalf("created = %s (ETag %q)", r.Raw, created)
		}
		if loc := r.Header.Get("Location"); loc != fmt.Sprintf("/api/v1/users/%d", u.ID) {
			t.Errorf("Location = %q", loc)
		}
		for _, secret := range []string{`"password"`, "hash", "stamp", "scheme", "_ip"} {
			if strings.Contains(string(r.Body.Data), secret) {
				t.Errorf("the user object shows %q: %s", secret, r.Body.Data)
			}
		}
		got, etag := e.getUser(root, u.ID)
		if etag != created || got.Email != u.Email {
			t.Fatalf("GET after POST: %+v, ETag %q, want %q", got, etag, created)
		}

		// Defaults: the viewer role, not confirmed.
		r = e.do("POST", "/api/v1/users", root, map[string]any{"email": "plain@example.com", "password": strongPassword3})
		e.expect(r, http.StatusCreated, "")
		var plain userObj
		r.data(t, &plain)
		if !slices.Equal(plain.Roles, []string{"viewer"}) || plain.ConfirmedAt != nil {
			t.Fatalf("defaults = %s", r.Raw)
		}
		r = e.do("POST", "/api/v1/users", root, map[string]any{"email": "forced@example.com", "password": strongPassword3, "roles": []string{}, "must_change_password": true})
		e.expect(r, http.StatusCreated, "")
		var forced userObj
		r.data(t, &forced)
		if len(forced.Roles) != 0 || forced.Roles == nil || !forced.MustChangePassword {
			t.Fatalf("no roles, must change = %s", r.Raw)
		}

		// Creation errors, each naming its field.
		for _, tc := range []struct {
			body   map[string]any
			status int
			code   string
			field  string
			words  string
		}{
			{map[string]any{"email": "NEW.user@example.com", "password": strongPassword3}, 409, "conflict", "", ""},
			{map[string]any{"email": "x@example.com", "password": strongPassword3, "roles": []string{"root"}}, 400, "invalid", "roles", "unknown role"},
			{map[string]any{"email": "x@example.com", "password": strongPassword3, "roles": []string{"owner"}}, 400, "invalid", "roles", "team role"},
			{map[string]any{"email": "x@example.com", "password": strongPassword3, "roles": []string{"member"}}, 400, "invalid", "roles", "team role"},
			{map[string]any{"email": "x@example.com", "password": strongPassword3, "roles": []string{"Admin"}}, 400, "invalid", "roles", "lower-case"},
			{map[string]any{"email": "x@example.com", "password": "password1"}, 400, "invalid", "password", ""},
			{map[string]any{"email": "x@example.com"}, 400, "invalid", "password", "required"},
			{map[string]any{"email": "not an address", "password": strongPassword3}, 400, "invalid", "email", ""},
			{map[string]any{"email": "x@example.com", "password": strongPassword3, "password_hash": "$2a$"}, 400, "invalid", "password_hash", "unknown field"},
			{map[string]any{"email": "x@example.com", "password": strongPassword3, "active": false}, 400, "invalid", "active", "unknown field"},
		} {
			r := e.do("POST", "/api/v1/users", root, tc.body)
			e.expect(r, tc.status, tc.code)
			if tc.field != "" && !strings.Contains(r.Body.Error.Fields[tc.field], tc.words) {
				t.Errorf("POST %v: fields = %v, want %s: …%s…", tc.body, r.Body.Error.Fields, tc.field, tc.words)
			}
		}

		// Unknown ids are 404 everywhere.
		for _, c := range []struct{ method, path string }{
			{"GET", "/api/v1/users/999999"}, {"GET", "/api/v1/users/abc"}, {"GET", "/api/v1/users/0"},
			{"PATCH", "/api/v1/users/999999"}, {"DELETE", "/api/v1/users/999999"},
			{"POST", "/api/v1/users/999999/reset-access"}, {"POST", "/api/v1/users/999999/unlock"},
		} {
			var body any
			if c.method == "PATCH" {
				body = map[string]any{"active": true}
			}
			e.expect(e.do(c.method, c.path, root, body), http.StatusNotFound, "not_found")
		}

		path := fmt.Sprintf("/api/v1/users/%d", u.ID)
		tok := e.login("new.user@example.com", strongPassword2).AccessToken
		_, etag = e.getUser(root, u.ID) // the login changed the user (login tracking)
		if etag == created {
			t.Fatal("the ETag did not change with the login count")
		}

		// PATCH: If-Match current → 200 with a new ETag; the old one is now stale → 412.
		r = e.doWithHeader("PATCH", path, root, map[string]any{"roles": []string{"admin"}, "must_change_password": false}, "If-Match", etag)
		e.expect(r, http.StatusOK, "")
		var patched userObj
		r.data(t, &patched)
		if !slices.Equal(patched.Roles, []string{"admin"}) || r.Header.Get("ETag") == etag {
			t.Fatalf("patched = %s, ETag %q", r.Raw, r.Header.Get("ETag"))
		}
		r = e.doWithHeader("PATCH", path, root, map[string]any{"roles": []string{"viewer"}}, "If-Match", etag)
		e.expect(r, http.StatusPreconditionFailed, "precondition_failed")
		if again, _ := e.getUser(root, u.ID); !slices.Equal(again.Roles, []string{"admin"}) {
			t.Fatalf("a stale If-Match changed the user: %+v", again)
		}
		// The promotion counts at the user's next request (its token, issued before, still
		// carries only the scopes of a maintainer, so it logs in again for the admin scope).
		adminTok := e.login("new.user@example.com", strongPassword2).AccessToken
		e.expect(e.do("GET", "/api/v1/users", adminTok, nil), http.StatusOK, "")
		// A demotion counts at once, on the very token that just worked.
		e.expect(e.do("PATCH", path, root, map[string]any{"roles": []string{"viewer"}}), http.StatusOK, "")
		e.expect(e.do("GET", "/api/v1/users", adminTok, nil), http.StatusForbidden, "forbidden")
		e.expect(e.do("GET", "/api/v1/me", tok, nil), http.StatusOK, "")

		// PATCH validation.
		for _, tc := range []struct {
			body   map[string]any
			status int
			code   string
			field  string
		}{
			{map[string]any{"roles": []string{"owner"}}, 400, "invalid", "roles"},
			{map[string]any{"email": "ROOT@example.com"}, 409, "conflict", ""},
			{map[string]any{"email": "nope"}, 400, "invalid", "email"},
			{map[string]any{"password": strongPassword3}, 400, "invalid", "password"},
			{map[string]any{"active": "no"}, 400, "invalid", "active"},
		} {
			r := e.do("PATCH", path, root, tc.body)
			e.expect(r, tc.status, tc.code)
			if tc.field != "" && r.Body.Error.Fields[tc.field] == "" {
				t.Errorf("PATCH %v: fields = %v, want %s", tc.body, r.Body.Error.Fields, tc.field)
			}
		}

		// Email and confirmation.
		r = e.do("PATCH", path, root, map[string]any{"email": "renamed@example.com", "confirmed": false})
		e.expect(r, http.StatusOK, "")
		r.data(t, &patched)
		if patched.Email != "renamed@example.com" || patched.ConfirmedAt != nil {
			t.Fatalf("renamed = %s", r.Raw)
		}
		tok = e.login("renamed@example.com", strongPassword2).AccessToken

		// Deactivation ends the user's tokens at the next request, and login too; reactivation
		// lets the user log in again.
		e.expect(e.do("PATCH", path, root, map[string]any{"active": false}), http.StatusOK, "")
		e.expect(e.do("GET", "/api/v1/me", tok, nil), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "renamed@example.com", "password": strongPassword2}), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.do("PATCH", path, root, map[string]any{"active": true}), http.StatusOK, "")
		tok = e.login("renamed@example.com", strongPassword2).AccessToken

		// Reset access ends every token; unlock answers.
		r = e.do("POST", path+"/reset-access", root, nil)
		e.expect(r, http.StatusOK, "")
		e.expect(e.do("GET", "/api/v1/me", tok, nil), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.do("POST", path+"/unlock", root, nil), http.StatusOK, "")
		tok = e.login("renamed@example.com", strongPassword2).AccessToken

		// DELETE honours If-Match, then the user and its tokens are gone.
		e.expect(e.doWithHeader("DELETE", path, root, nil, "If-Match", `"stale"`), http.StatusPreconditionFailed, "precondition_failed")
		_, etag = e.getUser(root, u.ID)
		e.expect(e.doWithHeader("DELETE", path, root, nil, "If-Match", etag), http.StatusOK, "")
		e.expect(e.do("GET", path, root, nil), http.StatusNotFound, "not_found")
		e.expect(e.do("GET", "/api/v1/me", tok, nil), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.do("DELETE", path, root, nil), http.StatusNotFound, "not_found")

		// The audit trail has every change, newest first, by root.
		r = e.do("GET", fmt.Sprintf("/api/v1/admin/audit?subject_id=%d&limit=100", u.ID), root, nil)
		e.expect(r, http.StatusOK, "")
		var evs []struct {
			Event     string `json:"event"`
			ActorID   *int64 `json:"actor_id"`
			SubjectID *int64 `json:"subject_id"`
			Detail    string `json:"detail"`
		}
		r.data(t, &evs)
		var names []string
		for _, ev := range evs {
			if ev.SubjectID == nil || *ev.SubjectID != u.ID {
				t.Errorf("event about another user: %+v", ev)
			}
			if ev.Event == gatehouse.AuditLoginSuccess || ev.Event == gatehouse.AuditLoginFailure {
				continue // the user's own logins
			}
			if ev.ActorID == nil || *ev.ActorID != rootID {
				t.Errorf("event %s without root as its actor: %+v", ev.Event, ev)
			}
			names = append(names, ev.Event)
		}
		want := []string{
			"user_deleted", "unlock", "reset_access", "user_activated", "user_deactivated", "user_updated",
			"role_change", "role_change", "user_created",
		}
		if !slices.Equal(names, want) {
			t.Errorf("audit trail = %v, want %v", names, want)
		}
		if evs[len(evs)-1].Detail == "" || !strings.Contains(evs[len(evs)-1].Detail, "maintainer,viewer") {
			t.Errorf("user_created detail = %q", evs[len(evs)-1].Detail)
		}
	})
}
