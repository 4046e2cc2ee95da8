package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
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

// The list: every sort, paged, with every filter; hostile filters match literally; unknown or bad
// parameters are 400.
func TestUsersAPIList(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		root := e.rootAdmin()
		// Created one second apart, two at a time, so created_at has ties for the id to break.
		for i, spec := range []struct {
			email string
			roles []string
		}{
			{"carol@list.test", []string{"admin"}},
			{"Alice@List.test", []string{"viewer"}},
			{"erin@list.test", []string{"maintainer", "viewer"}},
			{"bob@list.test", nil},
			{"dave@list.test", []string{"maintainer"}},
			{"per%cent@hostile.test", nil},
			{"perxcent@hostile.test", nil},
			{"und_er@hostile.test", nil},
			{"undxer@hostile.test", nil},
			{"bang!x@hostile.test", nil},
		} {
			if i%2 == 0 {
				e.clock.Advance(time.Second)
			}
			e.createUser(spec.email, strongPassword, spec.roles...)
		}
		e.expect(e.do("PATCH", fmt.Sprintf("/api/v1/users/%d", e.idOf("erin@list.test")), root, map[string]any{"active": false}), http.StatusOK, "")

		byID := []string{"carol@list.test", "Alice@List.test", "erin@list.test", "bob@list.test", "dave@list.test"}
		byEmail := []string{"Alice@List.test", "bob@list.test", "carol@list.test", "dave@list.test", "erin@list.test"}
		rev := func(s []string) []string { r := slices.Clone(s); slices.Reverse(r); return r }
		for _, tc := range []struct {
			sort string
			want []string
		}{
			{"", byID}, {"id", byID}, {"-id", rev(byID)}, {"email", byEmail}, {"-email", rev(byEmail)},
			{"created_at", byID}, {"-created_at", rev(byID)},
		} {
			for _, limit := range []int{1, 2, 3, 100} {
				q := "email=LIST.test"
				if tc.sort != "" {
					q += "&sort=" + tc.sort
				}
				if got := e.listUsers(root, q, limit); !slices.Equal(got, tc.want) {
					t.Errorf("sort %q, limit %d: %v, want %v", tc.sort, limit, got, tc.want)
				}
			}
		}
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"email=%25", []string{"per%cent@hostile.test"}},
			{"email=_", []string{"und_er@hostile.test"}},
			{"email=d_e", []string{"und_er@hostile.test"}},
			{"email=!", []string{"bang!x@hostile.test"}},
			{"email=%5C", nil}, // a backslash
			{"email='", nil},
			{"email=PER", []string{"per%cent@hostile.test", "perxcent@hostile.test"}},
			{"role=maintainer", []string{"erin@list.test", "dave@list.test"}},
			{"role=maintainer&active=true", []string{"dave@list.test"}},
			{"active=false", []string{"erin@list.test"}},
			{"role=admin&email=list&sort=-email", []string{"carol@list.test"}},
			{"role=viewer&active=true&email=list.test&sort=email", []string{"Alice@List.test"}},
		} {
			for _, limit := range []int{1, 2} {
				if got := e.listUsers(root, tc.query, limit); !slices.Equal(got, tc.want) {
					t.Errorf("%s (limit %d): %v, want %v", tc.query, limit, got, tc.want)
				}
			}
		}

		// Bad queries, each naming the parameter.
		first := e.do("GET", "/api/v1/users?limit=1&sort=email", root, nil)
		e.expect(first, http.StatusOK, "")
		emailCursor := nextCursor(t, first)
		for _, tc := range []struct{ query, field string }{
			{"name=alice", "name"},
			{"role=owner", "role"},
			{"role=root", "role"},
			{"active=yes", "active"},
			{"sort=name", "sort"},
			{"sort=email&sort=id", "sort"},
			{"limit=0", "limit"},
			{"limit=101", "limit"},
			{"cursor=!!!", "cursor"},
			{"cursor=" + emailCursor, "cursor"}, // made for sort=email, used with the default sort
			{"cursor=" + emailCursor + "&sort=-email", "cursor"},
		} {
			r := e.do("GET", "/api/v1/users?"+tc.query, root, nil)
			e.expect(r, http.StatusBadRequest, "invalid")
			if r.Body.Error.Fields[tc.field] == "" {
				t.Errorf("%s: fields = %v, want %s", tc.query, r.Body.Error.Fields, tc.field)
			}
		}
		e.expect(e.do("GET", "/api/v1/users?sort=email&cursor="+emailCursor, root, nil), http.StatusOK, "")
	})
}

// The last active admin cannot be deleted, deactivated or demoted.
func TestLastAdmin(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		root := e.rootAdmin()
		rootPath := fmt.Sprintf("/api/v1/users/%d", e.idOf("root@example.com"))
		// The default admin goes; root is then the only admin.
		e.expect(e.do("DELETE", fmt.Sprintf("/api/v1/users/%d", e.idOf("admin@localhost.local")), root, nil), http.StatusOK, "")
		for _, c := range []struct {
			method string
			body   any
		}{
			{"DELETE", nil},
			{"PATCH", map[string]any{"active": false}},
			{"PATCH", map[string]any{"roles": []string{"maintainer"}}},
			{"PATCH", map[string]any{"roles": []string{}}},
		} {
			r := e.do(c.method, rootPath, root, c.body)
			e.expect(r, http.StatusConflict, "conflict")
			if !strings.Contains(r.Body.Error.Message, "last active admin") {
				t.Errorf("%s %v: message %q", c.method, c.body, r.Body.Error.Message)
			}
		}
		// Changes that keep root an active admin are fine.
		e.expect(e.do("PATCH", rootPath, root, map[string]any{"roles": []string{"admin", "viewer"}, "active": true}), http.StatusOK, "")
		// An inactive admin does not count: with one, root is still the last active admin.
		e.createUser("sleeper@example.com", strongPassword, "admin")
		sleeper := fmt.Sprintf("/api/v1/users/%d", e.idOf("sleeper@example.com"))
		e.expect(e.do("PATCH", sleeper, root, map[string]any{"active": false}), http.StatusOK, "")
		e.expect(e.do("PATCH", rootPath, root, map[string]any{"roles": []string{"viewer"}}), http.StatusConflict, "conflict")
		// With a second active admin, root may step down; the other may not follow it.
		e.expect(e.do("PATCH", sleeper, root, map[string]any{"active": true}), http.StatusOK, "")
		e.expect(e.do("PATCH", rootPath, root, map[string]any{"roles": []string{"viewer"}}), http.StatusOK, "")
		sleeperTok := e.login("sleeper@example.com", strongPassword).AccessToken
		e.expect(e.do("DELETE", sleeper, sleeperTok, nil), http.StatusConflict, "conflict")
		if n, err := e.app.Store.CountActiveAdmins(context.Background()); err != nil || n != 1 {
			t.Fatalf("active admins = %d, %v", n, err)
		}
	})
}

// hostsFrom makes a Galera host list prefer node i, so that two instances write through
// different nodes; other engines are unchanged.
func hostsFrom(db config.DB, i int) config.DB {
	if len(db.Hosts) > 1 {
		i %= len(db.Hosts)
		db.Hosts = append(slices.Clone(db.Hosts[i:]), db.Hosts[:i]...)
	}
	return db
}

// Two admins remove each other at the same moment through two instances (on Galera, through two
// nodes): one change wins, the other is 409, and an active admin always remains.
func TestLastAdminConcurrentAPI(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e1 := start(t, testConfig(hostsFrom(db, 0)), false)
		e2 := start(t, testConfig(hostsFrom(db, 1)), false)
		root := e1.rootAdmin()
		e1.expect(e1.do("DELETE", fmt.Sprintf("/api/v1/users/%d", e1.idOf("admin@localhost.local")), root, nil), http.StatusOK, "")
		rounds := []struct{ name, method string }{{"demote", "PATCH"}, {"deactivate", "PATCH"}, {"delete", "DELETE"}}
		for round, op := range rounds {
			// Two fresh admins; root steps down so that they are the only active ones.
			a, b := fmt.Sprintf("a%d@example.com", round), fmt.Sprintf("b%d@example.com", round)
			for _, email := range []string{a, b} {
				r := e1.do("POST", "/api/v1/users", root, map[string]any{"email": email, "password": strongPassword, "roles": []string{"admin"}})
				e1.expect(r, http.StatusCreated, "")
			}
			ta, tb := e1.login(a, strongPassword).AccessToken, e2.login(b, strongPassword).AccessToken
			e1.expect(e1.do("PATCH", fmt.Sprintf("/api/v1/users/%d", e1.idOf("root@example.com")), ta, map[string]any{"roles": []string{"viewer"}}), http.StatusOK, "")
			var body any
			switch op.name {
			case "demote":
				body = map[string]any{"roles": []string{"viewer"}}
			case "deactivate":
				body = map[string]any{"active": false}
			}
			var wg sync.WaitGroup
			codes := make([]int, 2)
			gate := make(chan struct{})
			pathA, pathB := fmt.Sprintf("/api/v1/users/%d", e1.idOf(a)), fmt.Sprintf("/api/v1/users/%d", e1.idOf(b))
			wg.Go(func() { <-gate; codes[0] = e1.do(op.method, pathB, ta, body).Status })
			wg.Go(func() { <-gate; codes[1] = e2.do(op.method, pathA, tb, body).Status })
			close(gate)
			wg.Wait()
			n, err := e1.app.Store.CountActiveAdmins(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			// The loser answers 409 when both requests got past authentication before either
			// change committed; when the winner committed first, the loser is already no admin
			// (403) or no longer signed in (401). Never two 200s.
			slices.Sort(codes)
			if n != 1 || codes[0] != http.StatusOK || !slices.Contains([]int{http.StatusUnauthorized, http.StatusForbidden, http.StatusConflict}, codes[1]) {
				t.Fatalf("round %d (%s each other): %d active admins, answers %v; want 1 admin, one 200 and one 401, 403 or 409", round, op.name, n, codes)
			}
			t.Logf("round %d (%s each other): answers %v", round, op.name, codes)
			// The survivor makes way for the next round's pair: it promotes root back, and root
			// demotes it.
			survivor := ta
			if codes := e1.do("GET", "/api/v1/users", ta, nil); codes.Status != http.StatusOK {
				survivor = tb
			}
			rootID := e1.idOf("root@example.com")
			e1.expect(e1.do("PATCH", fmt.Sprintf("/api/v1/users/%d", rootID), survivor, map[string]any{"roles": []string{"admin"}}), http.StatusOK, "")
			root = e1.login("root@example.com", strongPassword).AccessToken
			for _, email := range []string{a, b} {
				u, err := e1.app.Store.UserByEmail(context.Background(), email)
				if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				e1.expect(e1.do("PATCH", fmt.Sprintf("/api/v1/users/%d", u.ID), root, map[string]any{"roles": []string{"viewer"}}), http.StatusOK, "")
			}
		}
	})
}

// The admin views: the outbox without message bodies, and the audit trail, each filtered and
// paged newest first.
func TestAdminViews(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		root := e.rootAdmin()
		ctx := context.Background()
		for i := range 5 {
			m := &gatehouse.OutboxMail{To: fmt.Sprintf("u%d@example.com", i), Subject: fmt.Sprintf("message %d", i),
				Text: "secret link https://gatehouse.test/reset?token=SECRET"}
			if err := e.app.Store.EnqueueMail(ctx, m, e.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		var subjects []string
		cursor := ""
		for range 10 {
			q := "/api/v1/admin/outbox?status=pending&limit=2"
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			r := e.do("GET", q, root, nil)
			e.expect(r, http.StatusOK, "")
			if strings.Contains(string(r.Raw), "SECRET") || strings.Contains(string(r.Raw), `"text"`) {
				t.Fatalf("the outbox view shows a body: %s", r.Raw)
			}
			var page []struct {
				Subject string `json:"subject"`
				Status  string `json:"status"`
				To      string `json:"to"`
			}
			r.data(t, &page)
			for _, m := range page {
				if m.Status != "pending" || m.To == "" {
					t.Errorf("item = %+v", m)
				}
				subjects = append(subjects, m.Subject)
			}
			if cursor = nextCursor(t, r); cursor == "" {
				break
			}
		}
		if want := []string{"message 4", "message 3", "message 2", "message 1", "message 0"}; !slices.Equal(subjects, want) {
			t.Fatalf("outbox pages = %v, want %v", subjects, want)
		}
		r := e.do("GET", "/api/v1/admin/outbox?status=failed", root, nil)
		e.expect(r, http.StatusOK, "")
		if string(r.Body.Data) != "[]" {
			t.Errorf("failed = %s", r.Body.Data)
		}
		for _, q := range []string{"status=lost", "state=pending", "status=sent&status=failed", "cursor=e30"} {
			e.expect(e.do("GET", "/api/v1/admin/outbox?"+q, root, nil), http.StatusBadRequest, "invalid")
		}

		// Audit: three users created by root, paged one at a time, filtered by event and subject.
		for i := range 3 {
			e.expect(e.do("POST", "/api/v1/users", root, map[string]any{"email": fmt.Sprintf("a%d@example.com", i), "password": strongPassword}), http.StatusCreated, "")
		}
		var got []string
		cursor = ""
		for range 10 {
			q := "/api/v1/admin/audit?event=user_created&limit=1"
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			r := e.do("GET", q, root, nil)
			e.expect(r, http.StatusOK, "")
			var page []struct {
				Event string `json:"event"`
				Email string `json:"email"`
			}
			r.data(t, &page)
			for _, ev := range page {
				if ev.Event != "user_created" {
					t.Errorf("event %q in a user_created filter", ev.Event)
				}
				got = append(got, ev.Email)
			}
			if cursor = nextCursor(t, r); cursor == "" {
				break
			}
		}
		// root itself was created through the service (no actor), before the three.
		if want := []string{"a2@example.com", "a1@example.com", "a0@example.com", "root@example.com"}; !slices.Equal(got, want) {
			t.Fatalf("user_created events = %v, want %v", got, want)
		}
		if evs := e.auditEvents(root, fmt.Sprintf("subject_id=%d", e.idOf("a1@example.com"))); !slices.Equal(evs, []string{"user_created"}) {
			t.Errorf("events about a1 = %v", evs)
		}
		for _, q := range []string{"subject_id=x", "subject_id=-1", "actor_id=1", "event=" + strings.Repeat("x", 65)} {
			e.expect(e.do("GET", "/api/v1/admin/audit?"+q, root, nil), http.StatusBadRequest, "invalid")
		}
	})
}

// Deleting the only owner of a team is refused (a team always keeps an owner); with a second
// owner it goes through.
func TestDeleteLastTeamOwner(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		e.createUser("root@example.com", strongPassword, "admin")
		e.createUser("solo@example.com", strongPassword, "maintainer")
		e.createUser("second@example.com", strongPassword, "maintainer")
		root := e.login("root@example.com", strongPassword).AccessToken
		solo, _ := e.app.Store.UserByEmail(t.Context(), "solo@example.com")
		second, _ := e.app.Store.UserByEmail(t.Context(), "second@example.com")
		team := &gatehouse.Team{Name: "owned"}
		if err := e.app.Store.CreateTeam(t.Context(), team, solo.ID); err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/api/v1/users/%d", solo.ID)
		e.expect(e.do("DELETE", path, root, nil), http.StatusConflict, "last_owner")
		if err := e.app.Store.SetMembership(t.Context(), &gatehouse.Membership{TeamID: team.ID, UserID: second.ID, Role: gatehouse.TeamOwner}); err != nil {
			t.Fatal(err)
		}
		e.expect(e.do("DELETE", path, root, nil), http.StatusOK, "")
	})
}
