package app_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// passwordSet reads password_set from an answer's data; it fails when the member is missing.
func passwordSet(t *testing.T, r *response) bool {
	t.Helper()
	var v struct {
		PasswordSet *bool `json:"password_set"`
	}
	r.data(t, &v)
	if v.PasswordSet == nil {
		t.Fatalf("no password_set in %s", r.Raw)
	}
	return *v.PasswordSet
}

// emailSignIn signs in with a mailed code and returns the token pair.
func (e *env) emailSignIn(email string) tokens {
	e.t.Helper()
	ticket := e.askEmailCode(email)
	code, _ := e.signInMail(email)
	return e.signedInTokens(e.verifyEmailCode(email, ticket.Binding, code))
}

// The account without a password: an administrator creates it, admins and the owner
// see password_set false, password logins fail like a wrong password, it signs in with emailed
// codes, and later sets a password without a current one (after a fresh sign-in), which then
// signs in.
func TestPasswordlessAccount(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, emailSignInConfig(db), true)
		root := e.rootAdmin()
		r := e.do("POST", "/api/v1/users", root, map[string]any{"email": "pat@example.com", "roles": []string{"maintainer"}, "confirmed": true})
		e.expect(r, http.StatusCreated, "")
		if passwordSet(t, r) {
			t.Fatalf("an account made without a password has password_set: %s", r.Raw)
		}
		pat := fmt.Sprintf("/api/v1/users/%d", e.idOf("pat@example.com"))
		if passwordSet(t, e.do("GET", pat, root, nil)) || !passwordSet(t, e.do("GET", "/api/v1/me", root, nil)) {
			t.Fatal("password_set wrong in the admin view or /me")
		}
		e.expectNamed(e.do("POST", "/api/v1/users", root, map[string]any{"email": "x@example.com", "password": "password1"}), http.StatusBadRequest, "invalid", "password")

		// A password login fails exactly like a wrong password or an unknown address.
		for _, pw := range []string{strongPassword, "x"} {
			known := e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "pat@example.com", "password": pw})
			unknown := e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "nobody@example.com", "password": pw})
			e.expect(known, http.StatusUnauthorized, "unauthenticated")
			if known.Body.Error.Message != unknown.Body.Error.Message || known.Header.Get("WWW-Authenticate") != unknown.Header.Get("WWW-Authenticate") {
				t.Fatalf("no password: %s; unknown: %s", known.Raw, unknown.Raw)
			}
		}

		// It signs in by email and sees itself without a password.
		tk := e.emailSignIn("pat@example.com")
		if passwordSet(t, e.do("GET", "/api/v1/me", tk.AccessToken, nil)) {
			t.Fatal("/me says a password is set")
		}
		// A stale sign-in may not set one (credential changes need a fresh one); an API
		// key never may.
		e.clock.Advance(25 * time.Hour)
		r = e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": tk.RefreshToken})
		e.expect(r, http.StatusOK, "")
		var stale tokens
		r.data(t, &stale)
		change := func(bearer string, body map[string]string) *response {
			return e.do("POST", "/api/v1/auth/password/change", bearer, body)
		}
		e.expect(change(stale.AccessToken, map[string]string{"new_password": strongPassword2}), http.StatusForbidden, "reauthentication_required")

		// Freshly signed in: no current password needed; a weak one is refused as always.
		tk = e.emailSignIn("pat@example.com")
		e.expectNamed(change(tk.AccessToken, map[string]string{"new_password": "password1"}), http.StatusBadRequest, "invalid", "new_password")
		e.expectNamed(change(tk.AccessToken, map[string]string{}), http.StatusBadRequest, "invalid", "new_password")
		r = change(tk.AccessToken, map[string]string{"new_password": strongPassword2})
		e.expect(r, http.StatusOK, "")
		var after tokens
		r.data(t, &after)
		root = e.login("root@example.com", strongPassword).AccessToken // the first one expired meanwhile
		if !passwordSet(t, e.do("GET", "/api/v1/me", after.AccessToken, nil)) || !passwordSet(t, e.do("GET", pat, root, nil)) {
			t.Fatal("password_set still false after setting a password")
		}
		// The other sessions ended, as after any password change.
		e.expect(e.do("GET", "/api/v1/me", tk.AccessToken, nil), http.StatusUnauthorized, "unauthenticated")
		if !e.hasAudit("pat@example.com", gatehouse.AuditPasswordChange, "first password set (the account had none)") {
			t.Fatal("setting the first password is not audited")
		}
		e.login("pat@example.com", strongPassword2)
		// From now on a change needs the current password, as for every account.
		r = change(after.AccessToken, map[string]string{"new_password": strongPassword3})
		if e.expect(r, http.StatusBadRequest, "invalid"); r.Body.Error.Fields["current_password"] == "" {
			t.Fatalf("a change without the current password: %s", r.Raw)
		}
		// And email codes keep working.
		e.emailSignIn("pat@example.com")

		// Another account without a password adds a passkey (its sign-in is fresh) and then signs
		// in with that alone; the passkey is now its second factor after an emailed code.
		e.expect(e.do("POST", "/api/v1/users", root, map[string]any{"email": "quinn@example.com", "confirmed": true}), http.StatusCreated, "")
		key := newPasskey()
		e.passkeyRegister(e.emailSignIn("quinn@example.com").AccessToken, key, "laptop")
		e.signedInTokens(e.passkeySignIn(key))
		ticket := e.askEmailCode("quinn@example.com")
		code, _ := e.signInMail("quinn@example.com")
		r = e.verifyEmailCode("quinn@example.com", ticket.Binding, code)
		var a loginAnswer
		r.data(t, &a)
		if !a.TwoFactorRequired || !slices.Contains(a.Methods, "webauthn") {
			t.Fatalf("an emailed code after adding a passkey: %s", r.Raw)
		}
	})
}

// Registration without a password where sign-in by email is on; the mailed code then signs in
// (and confirms the address).
func TestPasswordlessRegistration(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		cfg := emailSignInConfig(db)
		cfg.Security.Registerable = true
		e := start(t, cfg, true)
		e.expect(e.do("POST", "/api/v1/auth/register", "", map[string]string{"email": "reg@example.com"}), http.StatusAccepted, "")
		u := e.userOf("reg@example.com")
		if u.PasswordSet() || u.ConfirmedAt != nil {
			t.Fatalf("registered account: password set %v, confirmed %v", u.PasswordSet(), u.ConfirmedAt)
		}
		tk := e.emailSignIn("reg@example.com")
		r := e.do("GET", "/api/v1/me", tk.AccessToken, nil)
		var me struct {
			ConfirmedAt *time.Time `json:"confirmed_at"`
		}
		r.data(t, &me)
		if me.ConfirmedAt == nil || passwordSet(t, r) {
			t.Fatalf("after the first email sign-in: %s", r.Raw)
		}
		// With a password, registration is as before.
		e.expect(e.do("POST", "/api/v1/auth/register", "", map[string]string{"email": "pw@example.com", "password": strongPassword}), http.StatusAccepted, "")
		if !e.userOf("pw@example.com").PasswordSet() {
			t.Fatal("a registration with a password made an account without one")
		}
		// Without sign-in by email, a password is required, as before.
		cfg = testConfig(testdb.New(t, config.DBSQLite))
		cfg.Security.Registerable = true
		plain := start(t, cfg, true)
		plain.expectNamed(plain.do("POST", "/api/v1/auth/register", "", map[string]string{"email": "reg@example.com"}), http.StatusBadRequest, "invalid", "password")
		plain.expectNamed(plain.do("POST", "/api/v1/users", plain.rootAdmin(), map[string]string{"email": "x@example.com"}), http.StatusBadRequest, "invalid", "password")
	})
}

// Someone registers a victim's address with a password they know; the owner's first sign-in
// by email confirms the address, so it must first take away what the stranger set.
func TestEmailSignInSecuresUnconfirmedAccount(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		cfg := emailSignInConfig(db)
		cfg.Security.Registerable = true
		cfg.Security.LoginWithoutConfirmation = true // the worst case: the stranger is signed in meanwhile
		e := start(t, cfg, true)
		e.expect(e.do("POST", "/api/v1/auth/register", "", map[string]string{"email": "victim@example.com", "password": strongPassword}), http.StatusAccepted, "")
		stranger := e.login("victim@example.com", strongPassword)

		e.emailSignIn("victim@example.com")
		u := e.userOf("victim@example.com")
		if u.PasswordSet() || u.ConfirmedAt == nil {
			t.Fatalf("after the owner's sign-in: password set %v, confirmed %v", u.PasswordSet(), u.ConfirmedAt)
		}
		e.expect(e.do("GET", "/api/v1/me", stranger.AccessToken, nil), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "victim@example.com", "password": strongPassword}), http.StatusUnauthorized, "unauthenticated")
		if n := e.auditCount("victim@example.com", gatehouse.AuditEmailSignInSecured); n != 1 {
			t.Fatalf("%d %s events", n, gatehouse.AuditEmailSignInSecured)
		}
		// A confirmed account keeps its password.
		e.createUser("kept@example.com", strongPassword)
		e.emailSignIn("kept@example.com")
		e.login("kept@example.com", strongPassword)
	})
}

// An emailed code is one factor: an account with a second factor gets the challenge, exactly
// as after its password.
func TestEmailSignInSecondFactor(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, emailSignInConfig(db), true)
		e.createUser("tess@example.com", strongPassword, "maintainer")
		secret, _ := e.enrolTOTP(e.login("tess@example.com", strongPassword).AccessToken)

		ticket := e.askEmailCode("tess@example.com")
		code, _ := e.signInMail("tess@example.com")
		r := e.verifyEmailCode("tess@example.com", ticket.Binding, code)
		e.expect(r, http.StatusOK, "")
		var a loginAnswer
		r.data(t, &a)
		if !a.TwoFactorRequired || a.Challenge == "" || a.AccessToken != "" {
			t.Fatalf("an email code skipped the second factor: %s", r.Raw)
		}
		if slices.Contains(a.Methods, "email") || !slices.Contains(a.Methods, "totp") {
			t.Fatalf("methods after an emailed code: %v", a.Methods)
		}
		e.clock.Advance(30 * time.Second) // a new TOTP step (enrolment spent the current one)
		e.signedInTokens(e.secondStep(a.Challenge, "totp", oathCode(t, secret, e.clock.Now())))

		// With codes by email as a second factor too, the second step still offers only the app;
		// with them as the only one, an emailed code cannot sign in (the password can).
		e.createUser("eve@example.com", strongPassword)
		r = e.do("POST", "/api/v1/me/2fa/email", e.login("eve@example.com", strongPassword).AccessToken, nil)
		e.expect(r, http.StatusOK, "")
		ticket = e.askEmailCode("eve@example.com")
		code, _ = e.signInMail("eve@example.com")
		e.expect(e.verifyEmailCode("eve@example.com", ticket.Binding, code), http.StatusForbidden, "two_factor_unavailable")
		e.passwordStep("eve@example.com", strongPassword)

		// SECURITY_TWO_FACTOR_REQUIRED applies too: an admin without a factor may only set one up.
		cfg := emailSignInConfig(testdb.New(t, config.DBSQLite))
		cfg.Security.TwoFactorRequired = "admins"
		strict := start(t, cfg, true)
		strict.createUser("root@example.com", strongPassword, "admin")
		tk := strict.emailSignIn("root@example.com")
		strict.expect(strict.do("GET", "/api/v1/users", tk.AccessToken, nil), http.StatusForbidden, "two_factor_setup_required")
	})
}

// Wrong codes count against the same counters as wrong passwords: the account's backoff
// slows password logins too, and the address's; asking for codes is limited as well.
func TestEmailSignInThrottled(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		cfg := emailSignInConfig(db)
		cfg.Security.LoginBackoffAfter = 3
		e := start(t, cfg, true)
		e.createUser("alice@example.com", strongPassword)
		ticket := e.askEmailCode("alice@example.com")
		code, _ := e.signInMail("alice@example.com")
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for range 3 {
			e.expectNamed(e.verifyEmailCode("alice@example.com", ticket.Binding, wrong), http.StatusUnauthorized, "unauthenticated", "code")
		}
		// Backoff now: even the right code waits, and so does the password.
		r := e.verifyEmailCode("alice@example.com", ticket.Binding, code)
		e.expect(r, http.StatusTooManyRequests, "rate_limited")
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
		e.expect(e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "alice@example.com", "password": strongPassword}), http.StatusTooManyRequests, "rate_limited")
		// After the wait the right code still works (three wrong ones are fewer than five).
		e.clock.Advance(2 * time.Second)
		e.signedInTokens(e.verifyEmailCode("alice@example.com", ticket.Binding, code))

		// Five wrong codes end a request, whatever the backoff.
		ticket = e.askEmailCode("alice@example.com")
		code, _ = e.signInMail("alice@example.com")
		for range 5 {
			e.clock.Advance(time.Hour)
			e.expectNamed(e.verifyEmailCode("alice@example.com", ticket.Binding, wrong), http.StatusUnauthorized, "unauthenticated", "code")
		}
		e.clock.Advance(time.Hour)
		e.expectNamed(e.verifyEmailCode("alice@example.com", ticket.Binding, code), http.StatusUnauthorized, "unauthenticated", "code")

		// Requests: every one counts, so one address cannot be flooded with mail.
		e.clock.Advance(25 * time.Hour)
		for range 3 {
			e.askEmailCode("bob@example.com")
		}
		e.expect(e.do("POST", "/api/v1/auth/login/email-code", "", map[string]string{"email": "bob@example.com"}), http.StatusTooManyRequests, "rate_limited")
	})
}

// Off by default: both endpoints answer feature_disabled.
func TestEmailSignInOffByDefault(t *testing.T) {
	e := start(t, testConfig(testdb.New(t, config.DBSQLite)), true)
	e.createUser("alice@example.com", strongPassword)
	e.expect(e.do("POST", "/api/v1/auth/login/email-code", "", map[string]string{"email": "alice@example.com"}), http.StatusForbidden, "feature_disabled")
	e.expect(e.verifyEmailCode("alice@example.com", "x", "123456"), http.StatusForbidden, "feature_disabled")
	if passwordSet(t, e.do("GET", "/api/v1/me", e.login("alice@example.com", strongPassword).AccessToken, nil)) != true {
		t.Fatal("password_set false for an account with a password")
	}
}
