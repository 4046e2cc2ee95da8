package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// usernameConfig is testConfig with usernames, registration and username recovery on, and
// confirmation off (so that a registered account signs in at once).
func usernameConfig(db config.DB) *config.Config {
	cfg := testConfig(db)
	cfg.Security.Username.Enable = true
	cfg.Security.Username.Recovery = true
	cfg.Security.Registerable = true
	off := false
	cfg.Security.Confirmable = &off
	return cfg
}

// meUsername reads GET /api/v1/me's username (nil: null).
func (e *env) meUsername(bearer string) *string {
	e.t.Helper()
	r := e.do("GET", "/api/v1/me", bearer, nil)
	e.expect(r, http.StatusOK, "")
	var me struct {
		Username *string `json:"username"`
	}
	r.data(e.t, &me)
	return me.Username
}

func (e *env) loginName(name, password string) *response {
	e.t.Helper()
	return e.do("POST", "/api/v1/auth/login", "", map[string]any{"username": name, "password": password})
}

// expectField is expect for a validation error that names field.
func (e *env) expectField(r *response, status int, code, field string) {
	e.t.Helper()
	e.expect(r, status, code)
	if _, ok := r.Body.Error.Fields[field]; !ok {
		e.t.Fatalf("the error does not name %s:\n%s", field, r.Raw)
	}
}

// Registration with a username, sign-in with it in any case, /me, the rules of the login body,
// and the same answers for a taken or look-alike username at registration.
func TestUsernamesAPIRegisterAndLogin(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, usernameConfig(db), true)
		const alice = "alice@example.com"
		r := e.do("POST", "/api/v1/auth/register", "", map[string]any{"email": alice, "username": "Alice.S", "password": strongPassword})
		e.expect(r, http.StatusAccepted, "")
		for _, name := range []string{"Alice.S", "alice.s", "ALICE.S", " alice.s ", "ａｌｉｃｅ.ｓ"} {
			e.expect(e.loginName(name, strongPassword), http.StatusOK, "")
		}
		tk := e.login(alice, strongPassword) // the address still signs in
		if !e.hasAudit(alice, gatehouse.AuditRegister, `username "Alice.S"`) {
			t.Fatal("the register event does not name the username")
		}
		if got := e.meUsername(tk.AccessToken); got == nil || *got != "Alice.S" {
			t.Fatalf("me.username = %v", got)
		}

		// Exactly one of email and username.
		e.expectField(e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": alice, "username": "alice.s", "password": strongPassword}),
			http.StatusBadRequest, "invalid", "username")
		e.expectField(e.do("POST", "/api/v1/auth/login", "", map[string]any{"password": strongPassword}), http.StatusBadRequest, "invalid", "email")
		// An unknown name and a wrong password: one answer.
		unknown := e.loginName("nobody.here", strongPassword)
		wrong := e.loginName("alice.s", "not the password at all 99")
		e.expect(unknown, http.StatusUnauthorized, "unauthenticated")
		e.expect(wrong, http.StatusUnauthorized, "unauthenticated")
		if unknown.Body.Error.Message != wrong.Body.Error.Message {
			t.Fatalf("unknown %q, wrong password %q", unknown.Body.Error.Message, wrong.Body.Error.Message)
		}
		if !e.hasAudit(alice, gatehouse.AuditLoginFailure, "wrong password (signed in with the username)") {
			t.Fatal("no login_failure event for the wrong password")
		}

		// A taken username, in another case or a look-alike (Cyrillic а), answers like any
		// registration: no account, and a mail to the address that registered.
		for i, name := range []string{"ALICE.s", "\u0430lice.s"} {
			email := fmt.Sprintf("bob%d@example.com", i)
			e.expect(e.do("POST", "/api/v1/auth/register", "", map[string]any{"email": email, "username": name, "password": strongPassword}),
				http.StatusAccepted, "")
			if text := e.waitMail(email, "registration"); !strings.Contains(text, "already taken") {
				t.Fatalf("mail to %s:\n%s", email, text)
			}
			e.expect(e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": email, "password": strongPassword}), http.StatusUnauthorized, "unauthenticated")
		}
		// Invalid names are input errors naming the field; a free name registers.
		for _, name := range []string{"a b", "ab", "9lives", "bob@example.com", "bob!"} {
			e.expectField(e.do("POST", "/api/v1/auth/register", "", map[string]any{"email": "carol@example.com", "username": name, "password": strongPassword}),
				http.StatusBadRequest, "invalid", "username")
		}
		e.expect(e.do("POST", "/api/v1/auth/register", "", map[string]any{"email": "carol@example.com", "password": strongPassword}), http.StatusAccepted, "")
		if got := e.meUsername(e.login("carol@example.com", strongPassword).AccessToken); got != nil {
			t.Fatalf("an account without a username shows %q", *got)
		}
	})
}

// A sign-in with the username counts against the account's own counter, the one sign-ins with
// the address use: switching between them gives no second budget.
func TestUsernamesAPIShareTheAccountCounter(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, usernameConfig(db), false)
		root := e.rootAdmin()
		e.expect(e.do("POST", "/api/v1/users", root, map[string]any{"email": "dave@example.com", "username": "dave", "password": strongPassword, "confirmed": true}),
			http.StatusCreated, "")
		for range 5 { // SECURITY_LOGIN_BACKOFF_AFTER
			e.expect(e.loginName("DAVE", "not the password at all 99"), http.StatusUnauthorized, "unauthenticated")
		}
		e.expect(e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "dave@example.com", "password": strongPassword}), http.StatusTooManyRequests, "rate_limited")
		e.expect(e.loginName("dave", strongPassword), http.StatusTooManyRequests, "rate_limited")
		// Unknown names build up counters like unknown addresses.
		for range 5 {
			e.expect(e.loginName("ghost", strongPassword), http.StatusUnauthorized, "unauthenticated")
		}
		e.expect(e.loginName("GHOST", strongPassword), http.StatusTooManyRequests, "rate_limited")
	})
}

// The owner changes and removes the username (POST /api/v1/me/username) under the rules of
// credential changes; PATCH /api/v1/me points there; administrators create, change and clear
// usernames; a taken or look-alike name is 409 username_taken on the field.
func TestUsernamesAPIChanges(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		cfg := usernameConfig(db)
		cfg.Security.Freshness = 10 * time.Minute
		e := start(t, cfg, false)
		root := e.rootAdmin()
		r := e.do("POST", "/api/v1/users", root, map[string]any{"email": "erin@example.com", "username": "Erin", "password": strongPassword,
			"roles": []string{"maintainer"}, "confirmed": true})
		e.expect(r, http.StatusCreated, "")
		var u struct {
			ID       int64   `json:"id"`
			Username *string `json:"username"`
		}
		r.data(t, &u)
		if u.Username == nil || *u.Username != "Erin" {
			t.Fatalf("created: %s", r.Raw)
		}
		if !e.hasAudit("erin@example.com", gatehouse.AuditUserCreated, `by an administrator; roles: maintainer; username "Erin"`) {
			t.Fatal("the user_created event does not name the username")
		}
		e.expectField(e.do("POST", "/api/v1/users", root, map[string]any{"email": "frank@example.com", "username": "ERIN", "password": strongPassword}),
			http.StatusConflict, "username_taken", "username")
		e.expectField(e.do("POST", "/api/v1/users", root, map[string]any{"email": "frank@example.com", "username": "Er\u0456n", "password": strongPassword}),
			http.StatusConflict, "username_taken", "username")
		e.expectField(e.do("POST", "/api/v1/users", root, map[string]any{"email": "frank@example.com", "username": "x y", "password": strongPassword}),
			http.StatusBadRequest, "invalid", "username")

		tk := e.login("erin@example.com", strongPassword)
		e.expectField(e.do("PATCH", "/api/v1/me", tk.AccessToken, map[string]any{"username": "erin2"}), http.StatusBadRequest, "invalid", "username")
		r = e.do("POST", "/api/v1/me/username", tk.AccessToken, map[string]any{"username": "Erin.Two"})
		e.expect(r, http.StatusOK, "")
		if got := e.meUsername(tk.AccessToken); got == nil || *got != "Erin.Two" {
			t.Fatalf("after the change: %v", got)
		}
		if !e.hasAudit("erin@example.com", gatehouse.AuditUsernameChanged, `"Erin" -> "Erin.Two"`) {
			t.Fatal("no username_changed event")
		}
		e.expect(e.loginName("erin", strongPassword), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.loginName("erin.two", strongPassword), http.StatusOK, "")
		// Another account's address is no username: "root" is free although root@example.com exists.
		e.expect(e.do("POST", "/api/v1/me/username", tk.AccessToken, map[string]any{"username": "root"}), http.StatusOK, "")

		// The credential-change rules: a read-only token, an API key, a stale session.
		ro := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "erin@example.com", "password": strongPassword, "scope": "read"})
		e.expect(ro, http.StatusOK, "")
		var roTk tokens
		ro.data(t, &roTk)
		e.expect(e.do("POST", "/api/v1/me/username", roTk.AccessToken, map[string]any{"username": "erin3"}), http.StatusForbidden, "insufficient_scope")
		e.clock.Advance(11 * time.Minute)
		e.expect(e.do("POST", "/api/v1/me/username", tk.AccessToken, map[string]any{"username": "erin3"}), http.StatusForbidden, "reauthentication_required")
		e.expect(e.do("POST", "/api/v1/me/username", tk.AccessToken, map[string]any{"username": "erin3", "current_password": strongPassword}), http.StatusOK, "")

		// The owner removes it; an administrator sets and clears it (user_updated).
		e.expect(e.do("POST", "/api/v1/me/username", tk.AccessToken, map[string]any{"username": ""}), http.StatusOK, "")
		if got := e.meUsername(tk.AccessToken); got != nil {
			t.Fatalf("after removing: %q", *got)
		}
		path := fmt.Sprintf("/api/v1/users/%d", u.ID)
		r = e.do("PATCH", path, root, map[string]any{"username": "erin4"})
		e.expect(r, http.StatusOK, "")
		r.data(t, &u)
		if u.Username == nil || *u.Username != "erin4" {
			t.Fatalf("admin set: %s", r.Raw)
		}
		if !e.hasAudit("erin@example.com", gatehouse.AuditUserUpdated, `username: set "erin4"`) {
			t.Fatal("no user_updated event for the admin's change")
		}
		// The list's username filter: compared as usernames are, literally; no name, no match.
		for q, want := range map[string]int{"ERIN": 1, "ｒｉｎ4": 1, "rin_": 0, "%": 0, "root": 0} {
			r := e.do("GET", "/api/v1/users?username="+url.QueryEscape(q), root, nil)
			e.expect(r, http.StatusOK, "")
			var list []struct {
				Username *string `json:"username"`
			}
			r.data(t, &list)
			if len(list) != want {
				t.Errorf("username=%s: %d users, want %d\n%s", q, len(list), want, r.Raw)
			}
		}
		r = e.do("PATCH", path, root, map[string]any{"username": ""})
		e.expect(r, http.StatusOK, "")
		r.data(t, &u)
		if u.Username != nil {
			t.Fatalf("admin clear: %s", r.Raw)
		}
	})
}

// An API key cannot change the username (a credential change needs a signed-in session).
func TestUsernamesAPIKeyRefused(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, usernameConfig(db), false)
		e.createUser("gina@example.com", strongPassword, "maintainer")
		tk := e.login("gina@example.com", strongPassword)
		k := e.createKey(tk.AccessToken, map[string]any{"name": "ci", "scopes": []string{"read", "write"}})
		e.expect(e.do("POST", "/api/v1/me/username", k.Secret, map[string]any{"username": "gina"}), http.StatusForbidden, "session_required")
	})
}

// Username recovery mails the name to the address's account, and answers the same for an
// address without an account or without a username, which get no mail.
func TestUsernamesAPIRecovery(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, usernameConfig(db), true)
		root := e.rootAdmin()
		e.expect(e.do("POST", "/api/v1/users", root, map[string]any{"email": "hana@example.com", "username": "Hana_K", "password": strongPassword, "confirmed": true}),
			http.StatusCreated, "")
		e.createUser("ivan@example.com", strongPassword)
		for _, email := range []string{"HANA@example.com", "ivan@example.com", "nobody@example.com"} {
			r := e.do("POST", "/api/v1/auth/username/recover", "", map[string]any{"email": email})
			e.expect(r, http.StatusAccepted, "")
		}
		if text := e.waitMail("hana@example.com", "username"); !strings.Contains(text, "Hana_K") {
			t.Fatalf("recovery mail:\n%s", text)
		}
		if n := e.queuedTo("ivan@example.com") + e.queuedTo("nobody@example.com"); n != 0 {
			t.Fatalf("%d mails to addresses without a username", n)
		}
		if !e.hasAudit("ivan@example.com", gatehouse.AuditUsernameRecovery, "") {
			t.Fatal("no username_recovery_requested event")
		}
		e.expectField(e.do("POST", "/api/v1/auth/username/recover", "", map[string]any{"email": "not an address"}), http.StatusBadRequest, "invalid", "email")
		// Throttled like forgot-password: every request counts.
		for range 4 {
			e.do("POST", "/api/v1/auth/username/recover", "", map[string]any{"email": "hana@example.com"})
		}
		e.expect(e.do("POST", "/api/v1/auth/username/recover", "", map[string]any{"email": "hana@example.com"}), http.StatusTooManyRequests, "rate_limited")
	})
}

// Off (the default), usernames are refused where they would be accepted, shown as null, and the
// username endpoints answer feature_disabled.
func TestUsernamesAPIDisabled(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		cfg := testConfig(db)
		cfg.Security.Registerable = true
		e := start(t, cfg, false)
		root := e.rootAdmin()
		e.expectField(e.loginName("root", strongPassword), http.StatusBadRequest, "invalid", "username")
		e.expectField(e.do("POST", "/api/v1/auth/register", "", map[string]any{"email": "j@example.com", "username": "jjjj", "password": strongPassword}),
			http.StatusBadRequest, "invalid", "username")
		e.expectField(e.do("POST", "/api/v1/users", root, map[string]any{"email": "j@example.com", "username": "jjjj", "password": strongPassword}),
			http.StatusBadRequest, "invalid", "username")
		if got := e.meUsername(root); got != nil {
			t.Fatalf("me.username = %q", *got)
		}
		e.expect(e.do("POST", "/api/v1/me/username", root, map[string]any{"username": "root"}), http.StatusForbidden, "feature_disabled")
		e.expect(e.do("POST", "/api/v1/auth/username/recover", "", map[string]any{"email": "root@example.com"}), http.StatusForbidden, "feature_disabled")
	})
}
