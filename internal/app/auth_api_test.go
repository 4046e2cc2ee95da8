package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

const (
	strongPassword  = "correct horse battery staple 42"
	strongPassword2 = "violet tangerine submarine orchestra 7"
	strongPassword3 = "quiet maple lantern over frozen rivers"
)

// The default admin must change its password before anything else; changing it ends the old
// tokens; the new ones work everywhere.
func TestDefaultAdminMustChangePassword(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		tk := e.login("admin@localhost.local", "admin123")
		if !tk.PasswordChangeRequired || tk.TokenType != "Bearer" || tk.Scope != "read write admin" || tk.ExpiresIn != 900 {
			t.Fatalf("login = %+v", tk)
		}
		// /me is allowed and says so; anything else is refused with password_change_required.
		me := e.do("GET", "/api/v1/me", tk.AccessToken, nil)
		e.expect(me, http.StatusOK, "")
		var m struct {
			Email              string   `json:"email"`
			Roles              []string `json:"roles"`
			MustChangePassword bool     `json:"must_change_password"`
		}
		me.data(t, &m)
		if m.Email != "admin@localhost.local" || !m.MustChangePassword || len(m.Roles) != 1 || m.Roles[0] != "admin" {
			t.Fatalf("me = %+v", m)
		}
		e.expect(e.do("GET", "/api/v1/auth/sessions", tk.AccessToken, nil), http.StatusForbidden, "password_change_required")
		// The token itself says so, for services that check tokens against the JWKS alone.
		if c := jwtPayload(t, tk.AccessToken); c["must_change_password"] != true {
			t.Fatalf("the flagged account's token has no must_change_password claim: %v", c)
		}

		change := func(current, next string) *response {
			return e.do("POST", "/api/v1/auth/password/change", tk.AccessToken, map[string]string{"current_password": current, "new_password": next})
		}
		r := change("wrong password", strongPassword)
		e.expect(r, http.StatusBadRequest, "invalid")
		if r.Body.Error.Fields["current_password"] == "" {
			t.Fatalf("wrong current password not named: %s", r.Raw)
		}
		r = change("admin123", "admin123")
		e.expect(r, http.StatusBadRequest, "invalid")
		if r.Body.Error.Fields["new_password"] == "" {
			t.Fatalf("same password not refused on new_password: %s", r.Raw)
		}
		r = change("admin123", "passwordpassword")
		e.expect(r, http.StatusBadRequest, "invalid")
		if !strings.Contains(r.Body.Error.Fields["new_password"], "guess") {
			t.Fatalf("weak password: %s", r.Raw)
		}
		r = change("admin123", strongPassword)
		e.expect(r, http.StatusOK, "")
		var fresh tokens
		r.data(t, &fresh)
		if fresh.PasswordChangeRequired || fresh.AccessToken == "" {
			t.Fatalf("change answer = %+v", fresh)
		}
		if c := jwtPayload(t, fresh.AccessToken); c["must_change_password"] != nil {
			t.Fatalf("must_change_password still in the token after the change: %v", c)
		}
		// The old access and refresh tokens are dead; the new ones work.
		e.expect(e.do("GET", "/api/v1/me", tk.AccessToken, nil), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": tk.RefreshToken}), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.do("GET", "/api/v1/auth/sessions", fresh.AccessToken, nil), http.StatusOK, "")
		// The old password no longer logs in; the new one does.
		e.expect(e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "admin@localhost.local", "password": "admin123"}), http.StatusUnauthorized, "unauthenticated")
		if again := e.login("ADMIN@localhost.local", strongPassword); again.PasswordChangeRequired {
			t.Fatal("still flagged after the change")
		}
	})
}

func TestLoginRefreshLogout(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		e.createUser("viewer@example.com", strongPassword, "viewer")
		e.createUser("maint@example.com", strongPassword, "maintainer")

		// Scopes are capped by the roles; unknown scopes are refused.
		if tk := e.login("viewer@example.com", strongPassword); tk.Scope != "read" {
			t.Fatalf("viewer scope = %q", tk.Scope)
		}
		r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "maint@example.com", "password": strongPassword, "scope": "read admin"})
		e.expect(r, http.StatusOK, "")
		var capped tokens
		r.data(t, &capped)
		if capped.Scope != "read" {
			t.Fatalf("maintainer asking read+admin got %q, want read", capped.Scope)
		}
		r = e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "maint@example.com", "password": strongPassword, "scope": "root"})
		e.expect(r, http.StatusBadRequest, "invalid")
		if r.Body.Error.Fields["scope"] == "" {
			t.Fatalf("bad scope not named: %s", r.Raw)
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("Cache-Control = %q", r.Header.Get("Cache-Control"))
		}

		// A user without a global role gets read, and write too once a member of a team.
		e.createUser("nobody@example.com", strongPassword)
		if tk := e.login("nobody@example.com", strongPassword); tk.Scope != "read" {
			t.Fatalf("role-less scope = %q, want read", tk.Scope)
		}
		nobody, _ := e.app.Store.UserByEmail(context.Background(), "nobody@example.com")
		if err := e.app.Store.CreateTeam(context.Background(), &gatehouse.Team{Name: "T"}, nobody.ID); err != nil {
			t.Fatal(err)
		}
		if tk := e.login("nobody@example.com", strongPassword); tk.Scope != "read write" {
			t.Fatalf("team owner scope = %q, want read write", tk.Scope)
		}

		tk := e.login("maint@example.com", strongPassword)
		me := e.do("GET", "/api/v1/me", tk.AccessToken, nil)
		e.expect(me, http.StatusOK, "")
		var m struct {
			LoginCount int64 `json:"login_count"`
		}
		me.data(t, &m)
		if m.LoginCount != 2 { // the capped login and this one; the refused one does not count
			t.Fatalf("login_count = %d, want 2", m.LoginCount)
		}

		// Rotation: the new pair works, the old refresh token is spent.
		e.clock.Advance(time.Minute)
		r = e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": tk.RefreshToken})
		e.expect(r, http.StatusOK, "")
		var rotated tokens
		r.data(t, &rotated)
		if rotated.RefreshToken == tk.RefreshToken || rotated.AccessToken == "" {
			t.Fatal("refresh did not rotate")
		}
		// Within the grace window a racing tab still gets a pair.
		e.expect(e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": tk.RefreshToken}), http.StatusOK, "")
		// After it, reuse revokes the whole family: the rotated token dies too.
		e.clock.Advance(30 * time.Second)
		e.expect(e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": tk.RefreshToken}), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": rotated.RefreshToken}), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.do("GET", "/api/v1/me", rotated.AccessToken, nil), http.StatusUnauthorized, "unauthenticated")
		evs, err := e.app.Store.AuditEvents(context.Background(), 0, gatehouse.AuditRefreshReuse, 10)
		if err != nil || len(evs) != 1 {
			t.Fatalf("refresh reuse audit events = %v, %v", evs, err)
		}

		// Logout ends the session's refresh and access tokens; other sessions live on.
		a, b := e.login("maint@example.com", strongPassword), e.login("maint@example.com", strongPassword)
		e.expect(e.do("POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": a.RefreshToken}), http.StatusOK, "")
		e.expect(e.do("GET", "/api/v1/me", a.AccessToken, nil), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": a.RefreshToken}), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.do("GET", "/api/v1/me", b.AccessToken, nil), http.StatusOK, "")

		// Sessions: listed, one can be ended by its owner.
		c := e.login("maint@example.com", strongPassword)
		r = e.do("GET", "/api/v1/auth/sessions", c.AccessToken, nil)
		e.expect(r, http.StatusOK, "")
		var sessions []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		}
		r.data(t, &sessions)
		if len(sessions) != 3 { // the capped login's, b's and c's; the others ended
			t.Fatalf("sessions = %+v, want 3", sessions)
		}
		for _, s := range sessions {
			if !s.Current {
				e.expect(e.do("DELETE", "/api/v1/auth/sessions/"+s.ID, c.AccessToken, nil), http.StatusOK, "")
			}
		}
		e.expect(e.do("GET", "/api/v1/me", b.AccessToken, nil), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.do("DELETE", "/api/v1/auth/sessions/nope", c.AccessToken, nil), http.StatusNotFound, "not_found")

		// logout-all ends everything, the current session included.
		d := e.login("maint@example.com", strongPassword)
		e.expect(e.do("POST", "/api/v1/auth/logout-all", c.AccessToken, nil), http.StatusOK, "")
		for _, x := range []tokens{c, d} {
			e.expect(e.do("GET", "/api/v1/me", x.AccessToken, nil), http.StatusUnauthorized, "unauthenticated")
			e.expect(e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": x.RefreshToken}), http.StatusUnauthorized, "unauthenticated")
		}

		// Access tokens expire; deactivated users are refused at their next request.
		f := e.login("maint@example.com", strongPassword)
		e.clock.Advance(16 * time.Minute)
		e.expect(e.do("GET", "/api/v1/me", f.AccessToken, nil), http.StatusUnauthorized, "unauthenticated")
		g := e.login("maint@example.com", strongPassword)
		u, _ := e.app.Store.UserByEmail(context.Background(), "maint@example.com")
		if err := e.app.Store.SetActive(context.Background(), u.ID, false); err != nil {
			t.Fatal(err)
		}
		r = e.do("GET", "/api/v1/me", g.AccessToken, nil)
		e.expect(r, http.StatusUnauthorized, "unauthenticated")
		if r.Header.Get("WWW-Authenticate") == "" {
			t.Fatal("401 without WWW-Authenticate")
		}
		e.expect(e.do("GET", "/api/v1/me", "", nil), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.do("GET", "/api/v1/me", "not.a.jwt", nil), http.StatusUnauthorized, "unauthenticated")
	})
}

// Unknown emails, wrong passwords and locked accounts answer identically; repeated failures
// back off with 429 and Retry-After for known and unknown accounts alike.
func TestLoginFailuresAndBackoff(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		cfg := testConfig(db)
		cfg.Security.LockoutAfter = 8
		e := start(t, cfg, false)
		e.createUser("known@example.com", strongPassword, "viewer")
		body := func(r *response) string {
			b, _ := json.Marshal(r.Body.Error)
			return string(b)
		}
		login := func(email, pw string) *response {
			return e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": pw})
		}
		unknown, wrong := login("nobody@example.com", "whatever it is"), login("known@example.com", "wrong password")
		e.expect(unknown, http.StatusUnauthorized, "unauthenticated")
		if body(unknown) != body(wrong) || unknown.Status != wrong.Status {
			t.Fatalf("unknown and wrong differ:\n%s\n%s", unknown.Raw, wrong.Raw)
		}
		for range 3 {
			login("known@example.com", "wrong password")
			login("nobody@example.com", "whatever it is")
		}
		// Fifth failure reached: the next attempt must wait, known or not.
		for _, email := range []string{"known@example.com", "nobody@example.com"} {
			r := login(email, "wrong again")
			if r.Status != http.StatusUnauthorized {
				t.Fatalf("%s: 5th attempt = %d", email, r.Status)
			}
			r = login(email, strongPassword)
			e.expect(r, http.StatusTooManyRequests, "rate_limited")
			if r.Header.Get("Retry-After") == "" {
				t.Fatalf("%s: 429 without Retry-After", email)
			}
		}
		// After the wait, the right password works and clears the counter.
		e.clock.Advance(2 * time.Second)
		e.login("known@example.com", strongPassword)

		// Lockout after 8 failures: even the right password is refused, with the same answer.
		for i := range 8 {
			e.clock.Advance(20 * time.Minute) // wait out each backoff
			if r := login("known@example.com", "wrong password"); r.Status != http.StatusUnauthorized {
				t.Fatalf("failure %d = %d", i, r.Status)
			}
		}
		e.clock.Advance(10 * time.Minute) // past the backoff (8 s), within the 15-minute lock
		locked := login("known@example.com", strongPassword)
		e.expect(locked, http.StatusUnauthorized, "unauthenticated")
		if body(locked) != body(wrong) {
			t.Fatalf("locked account answers differently:\n%s\n%s", locked.Raw, wrong.Raw)
		}
		evs, _ := e.app.Store.AuditEvents(context.Background(), 0, gatehouse.AuditLockout, 10)
		if len(evs) != 1 {
			t.Fatalf("lockout audit events = %d, want 1", len(evs))
		}
		// The administration lists the account as locked out, and only it.
		e.createUser("boss@example.com", strongPassword, "admin")
		boss := e.login("boss@example.com", strongPassword).AccessToken
		lockedIDs := func() []string {
			t.Helper()
			r := e.do("GET", "/api/v1/users?locked=true", boss, nil)
			e.expect(r, http.StatusOK, "")
			var us []struct{ Email string }
			r.data(t, &us)
			var out []string
			for _, u := range us {
				out = append(out, u.Email)
			}
			return out
		}
		if got := lockedIDs(); len(got) != 1 || got[0] != "known@example.com" {
			t.Fatalf("locked users = %v", got)
		}
		e.expect(e.do("GET", "/api/v1/users?locked=maybe", boss, nil), http.StatusBadRequest, "invalid")
		// An admin unlock lifts the lock at once.
		u, _ := e.app.Store.UserByEmail(context.Background(), "known@example.com")
		if err := e.app.Auth.Unlock(context.Background(), nil, u, auth.Client{}); err != nil {
			t.Fatal(err)
		}
		if got := lockedIDs(); len(got) != 0 {
			t.Fatalf("locked users after the unlock = %v", got)
		}
		e.login("known@example.com", strongPassword)

		// Bad input names the field and changes nothing.
		r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"password": "x"})
		e.expect(r, http.StatusBadRequest, "invalid")
		if r.Body.Error.Fields["email"] == "" {
			t.Fatalf("missing email not named: %s", r.Raw)
		}
		r = e.do("POST", "/api/v1/auth/login", "", `{"email":"a@b.co","password":"x","admin":true}`)
		e.expect(r, http.StatusBadRequest, "invalid")
		r = e.do("POST", "/api/v1/auth/login", "", "{\"email\":\"a\\u0000@b.co\",\"password\":\"x\"}")
		e.expect(r, http.StatusBadRequest, "invalid")
	})
}

// Registration with confirmation by email, and the no-enumeration answers.
func TestRegisterAndConfirm(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		cfg := testConfig(db)
		cfg.Security.Registerable = true
		e := start(t, cfg, true)
		e.createUser("taken@example.com", strongPassword, "viewer")

		fresh := e.do("POST", "/api/v1/auth/register", "", map[string]string{"email": "new@example.com", "password": strongPassword})
		e.expect(fresh, http.StatusAccepted, "")
		dup := e.do("POST", "/api/v1/auth/register", "", map[string]string{"email": "TAKEN@example.com", "password": strongPassword2})
		e.expect(dup, http.StatusAccepted, "")
		if string(fresh.Body.Data) != string(dup.Body.Data) {
			t.Fatalf("register answers differ for a taken address:\n%s\n%s", fresh.Raw, dup.Raw)
		}
		owner := e.smtp.WaitFor(t, "taken@example.com", 20*time.Second)
		if !strings.Contains(owner.Text, "https://gatehouse.test/forgot-password") {
			t.Fatalf("owner notice:\n%s", owner.Text)
		}
		if u, _ := e.app.Store.UserByEmail(context.Background(), "taken@example.com"); u.PasswordHash == "" {
			t.Fatal("taken account changed")
		}

		// Unconfirmed: login refused with confirmation_required (after the right password).
		e.expect(e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "new@example.com", "password": strongPassword}),
			http.StatusForbidden, "confirmation_required")
		path, tok, msg := e.mailedToken("new@example.com")
		if path != "/confirm" || !strings.Contains(msg.HTML, "https://gatehouse.test/confirm?token=") {
			t.Fatalf("confirmation mail: %s\n%s", path, msg.Text)
		}
		// Resend is accepted and says nothing about the address.
		e.expect(e.do("POST", "/api/v1/auth/confirm/resend", "", map[string]string{"email": "nobody@example.com"}), http.StatusAccepted, "")
		e.expect(e.do("POST", "/api/v1/auth/confirm", "", map[string]string{"token": "bogus"}), http.StatusBadRequest, "invalid")
		e.expect(e.do("POST", "/api/v1/auth/confirm", "", map[string]string{"token": tok}), http.StatusOK, "")
		e.expect(e.do("POST", "/api/v1/auth/confirm", "", map[string]string{"token": tok}), http.StatusBadRequest, "invalid")
		tk := e.login("new@example.com", strongPassword)
		if tk.Scope != "read" {
			t.Fatalf("self-registered scope = %q, want read (viewer)", tk.Scope)
		}
		// Weak passwords and bad emails are refused naming the field, and create nothing.
		r := e.do("POST", "/api/v1/auth/register", "", map[string]string{"email": "weak@example.com", "password": "password"})
		e.expect(r, http.StatusBadRequest, "invalid")
		if r.Body.Error.Fields["password"] == "" {
			t.Fatalf("weak password: %s", r.Raw)
		}
		r = e.do("POST", "/api/v1/auth/register", "", map[string]string{"email": "not an email", "password": strongPassword})
		e.expect(r, http.StatusBadRequest, "invalid")
		if _, err := e.app.Store.UserByEmail(context.Background(), "weak@example.com"); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatal("a refused registration created an account")
		}
	})
}

func TestRegistrationDisabledByDefault(t *testing.T) {
	e := start(t, testConfig(testdb.New(t, "sqlite")), false)
	e.expect(e.do("POST", "/api/v1/auth/register", "", map[string]string{"email": "a@example.com", "password": strongPassword}),
		http.StatusForbidden, "feature_disabled")
	e.expect(e.do("POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": "a@example.com"}),
		http.StatusForbidden, "feature_disabled")
}

// Forgot and reset password by email.
func TestForgotAndResetPassword(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), true)
		e.createUser("user@example.com", strongPassword, "maintainer")
		old := e.login("user@example.com", strongPassword)

		unknown := e.do("POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": "nobody@example.com"})
		known := e.do("POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": "user@example.com"})
		e.expect(known, http.StatusAccepted, "")
		if unknown.Status != known.Status || string(unknown.Body.Data) != string(known.Body.Data) {
			t.Fatalf("forgot answers differ:\n%s\n%s", unknown.Raw, known.Raw)
		}
		path, tok, _ := e.mailedToken("user@example.com")
		if path != "/reset-password" {
			t.Fatalf("reset link path = %s", path)
		}
		// Opening the link (as a mail scanner does) does not consume the token.
		resp, err := e.srv.Client().Get(e.srv.URL + "/reset-password?token=" + tok)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()

		reset := func(tok, pw string) *response {
			return e.do("POST", "/api/v1/auth/password/reset", "", map[string]string{"token": tok, "new_password": pw})
		}
		r := reset(tok, strongPassword)
		e.expect(r, http.StatusBadRequest, "invalid")
		if r.Body.Error.Fields["new_password"] == "" {
			t.Fatalf("same password: %s", r.Raw)
		}
		e.expect(reset(tok, "short"), http.StatusBadRequest, "invalid")
		e.expect(reset(tok, strongPassword2), http.StatusOK, "")
		e.expect(reset(tok, strongPassword3), http.StatusBadRequest, "invalid") // single use
		notice := e.smtp.WaitFor(t, "user@example.com", 20*time.Second)
		if notice.Subject == "" {
			t.Fatal("no reset notice")
		}
		// Every old token is dead; the new password works.
		e.expect(e.do("GET", "/api/v1/me", old.AccessToken, nil), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": old.RefreshToken}), http.StatusUnauthorized, "unauthenticated")
		e.login("user@example.com", strongPassword2)

		// A token dies with any later password change, and after its hour.
		e.do("POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": "user@example.com"})
		_, tok2, _ := e.mailedToken("user@example.com")
		e.do("POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": "user@example.com"})
		_, tok3, _ := e.mailedToken("user@example.com")
		e.expect(reset(tok2, strongPassword3), http.StatusOK, "")
		e.smtp.WaitFor(t, "user@example.com", 20*time.Second) // its reset notice
		e.expect(reset(tok3, strongPassword), http.StatusBadRequest, "invalid")
		e.do("POST", "/api/v1/auth/password/forgot", "", map[string]string{"email": "user@example.com"})
		_, tok4, _ := e.mailedToken("user@example.com")
		e.clock.Advance(61 * time.Minute)
		e.expect(reset(tok4, strongPassword), http.StatusBadRequest, "invalid")
	})
}

// Logins racing on one account from many goroutines all count (login tracking), and the
// refresh rotation of one token by racing requests never yields a family revocation.
func TestConcurrentLoginsAndRefresh(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		e.createUser("busy@example.com", strongPassword, "viewer")
		tk := e.login("busy@example.com", strongPassword)
		var wg sync.WaitGroup
		codes := make([]int, 8)
		for i := range codes {
			wg.Go(func() {
				codes[i] = e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": tk.RefreshToken}).Status
			})
		}
		wg.Wait()
		for i, c := range codes {
			if c != http.StatusOK {
				t.Fatalf("racing refresh %d = %d", i, c)
			}
		}
	})
}

// jwtPayload decodes a JWT's claims without checking them (the server has checked them).
func jwtPayload(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}
