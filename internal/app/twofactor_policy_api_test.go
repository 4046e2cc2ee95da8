package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// Without SMTP, email codes cannot be enabled.
func TestTwoFactorEmailNeedsSMTP(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		e.createUser("erin@example.com", strongPassword, "viewer")
		tk := e.login("erin@example.com", strongPassword)
		e.expect(e.do("POST", "/api/v1/me/2fa/email", tk.AccessToken, nil), http.StatusForbidden, "feature_disabled")
		// Recovery codes stand in for a factor: none to regenerate without one.
		e.expect(e.do("POST", "/api/v1/me/2fa/recovery-codes", tk.AccessToken, nil), http.StatusConflict, "conflict")
	})
}

// SECURITY_TWO_FACTOR_REQUIRED=admins: an admin without a second factor can do nothing but set
// one up (and read /me, sign out, change the password); others are not affected.
func TestTwoFactorRequiredForAdmins(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		cfg := testConfig(db)
		cfg.Security.TwoFactorRequired = "admins"
		e := start(t, cfg, false)
		e.createUser("root@example.com", strongPassword, "admin")
		e.createUser("viewer@example.com", strongPassword, "viewer")

		tk := e.login("root@example.com", strongPassword)
		e.expect(e.do("GET", "/api/v1/users", tk.AccessToken, nil), http.StatusForbidden, "two_factor_setup_required")
		e.expect(e.do("GET", "/api/v1/auth/sessions", tk.AccessToken, nil), http.StatusForbidden, "two_factor_setup_required")
		r := e.do("GET", "/api/v1/me", tk.AccessToken, nil)
		e.expect(r, http.StatusOK, "")
		var me struct {
			TwoFactorSetupRequired bool `json:"two_factor_setup_required"`
		}
		r.data(t, &me)
		if !me.TwoFactorSetupRequired {
			t.Fatalf("me: %s", r.Raw)
		}
		if st := e.twoFactorState(tk.AccessToken); !st.Required || !st.SetupRequired {
			t.Fatalf("state = %+v", st)
		}
		e.enrolTOTP(tk.AccessToken)
		if st := e.twoFactorState(tk.AccessToken); !st.Required || st.SetupRequired {
			t.Fatalf("state after enrolment = %+v", st)
		}
		e.expect(e.do("GET", "/api/v1/users", tk.AccessToken, nil), http.StatusOK, "")

		vt := e.login("viewer@example.com", strongPassword)
		e.expect(e.do("GET", "/api/v1/auth/sessions", vt.AccessToken, nil), http.StatusOK, "")
		if st := e.twoFactorState(vt.AccessToken); st.Required || st.SetupRequired {
			t.Fatalf("viewer state = %+v", st)
		}

		// Only an admin may reset second factors. An admin resetting their own keeps the session
		// they made it from, and the policy applies again.
		root, _ := e.app.Store.UserByEmail(context.Background(), "root@example.com")
		e.expect(e.do("POST", "/api/v1/users/"+itoa(root.ID)+"/2fa/reset", vt.AccessToken, nil), http.StatusForbidden, "forbidden")
		e.expect(e.do("POST", "/api/v1/users/"+itoa(root.ID)+"/2fa/reset", tk.AccessToken, nil), http.StatusOK, "")
		if n := e.auditCount("root@example.com", gatehouse.AuditTwoFactorReset); n != 1 {
			t.Fatalf("%d reset audit events", n)
		}
		// Their own session survived the reset (they made it); the policy bites again.
		e.expect(e.do("GET", "/api/v1/users", tk.AccessToken, nil), http.StatusForbidden, "two_factor_setup_required")
		if again := e.login("root@example.com", strongPassword); again.AccessToken == "" { // every factor is gone
			t.Fatal("a second step after the reset")
		}
	})
}

// "Remember this device" skips the second step until the security stamp changes; removing a
// factor needs the password and ends the other sessions; an admin reset removes everything.
func TestTwoFactorRememberDeviceAndReset(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		const frank = "frank@example.com"
		e.createUser(frank, strongPassword, "maintainer")
		e.createUser("admin@example.com", strongPassword, "admin")
		tk := e.login(frank, strongPassword)
		secret, codes := e.enrolTOTP(tk.AccessToken)
		e.clock.Advance(30 * time.Second)

		ch := e.passwordStep(frank, strongPassword)
		r := e.secondStep(ch.Challenge, "totp", oathCode(t, secret, e.clock.Now()), "remember_device", true)
		e.expect(r, http.StatusOK, "")
		var a loginAnswer
		r.data(t, &a)
		if a.RememberDeviceToken == "" || a.AccessToken == "" {
			t.Fatalf("no remember-device token: %s", r.Raw)
		}
		withDevice := func(tok string) loginAnswer {
			r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": frank, "password": strongPassword, "remember_device_token": tok})
			e.expect(r, http.StatusOK, "")
			var la loginAnswer
			r.data(t, &la)
			return la
		}
		if la := withDevice(a.RememberDeviceToken); la.TwoFactorRequired || la.AccessToken == "" {
			t.Fatalf("remembered device still asked: %+v", la)
		}
		if la := withDevice("forged-token"); !la.TwoFactorRequired {
			t.Fatal("a forged device token skipped the second step")
		}
		// Signing out everywhere changes the stamp: the device is forgotten.
		e.expect(e.do("POST", "/api/v1/auth/logout-all", tk.AccessToken, nil), http.StatusOK, "")
		if la := withDevice(a.RememberDeviceToken); !la.TwoFactorRequired {
			t.Fatal("the device token outlived logout-all")
		}

		// Regenerating recovery codes: the old ones stop working.
		ch = e.passwordStep(frank, strongPassword)
		e.clock.Advance(30 * time.Second)
		r = e.secondStep(ch.Challenge, "totp", oathCode(t, secret, e.clock.Now()))
		e.expect(r, http.StatusOK, "")
		r.data(t, &a)
		mine := a.AccessToken
		r = e.do("POST", "/api/v1/me/2fa/recovery-codes", mine, nil)
		e.expect(r, http.StatusOK, "")
		var rc struct {
			Codes []string `json:"codes"`
		}
		r.data(t, &rc)
		if len(rc.Codes) != 10 || slices.Contains(rc.Codes, codes[0]) {
			t.Fatalf("regenerated codes = %v", rc.Codes)
		}
		ch = e.passwordStep(frank, strongPassword)
		e.expect(e.secondStep(ch.Challenge, "recovery_code", codes[0]), http.StatusUnauthorized, "unauthenticated")
		r = e.secondStep(ch.Challenge, "recovery_code", rc.Codes[0])
		e.expect(r, http.StatusOK, "")
		r.data(t, &a)
		other := a.AccessToken

		// Removing the app needs the password and ends the other sessions, not the caller's.
		del := func(body any) *response { return e.do("DELETE", "/api/v1/me/2fa/totp", mine, body) }
		e.expectNamed(del(map[string]string{"password": ""}), http.StatusBadRequest, "invalid", "password")
		e.expectNamed(del(map[string]string{"password": strongPassword2}), http.StatusForbidden, "forbidden", "password")
		e.expect(e.do("GET", "/api/v1/me", other, nil), http.StatusOK, "")
		e.expect(del(map[string]string{"password": strongPassword}), http.StatusOK, "")
		e.expect(e.do("GET", "/api/v1/me", other, nil), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.do("GET", "/api/v1/me", mine, nil), http.StatusOK, "")
		e.expect(del(map[string]string{"password": strongPassword}), http.StatusNotFound, "not_found")
		if st := e.twoFactorState(mine); st.TOTP || st.RecoveryCodesLeft != 0 {
			t.Fatalf("state after removal = %+v", st)
		}
		if again := e.login(frank, strongPassword); again.AccessToken == "" {
			t.Fatal("a second step without a factor")
		}

		// An admin reset removes every factor; it needs the admin scope.
		e.enrolTOTP(mine)
		frankUser, _ := e.app.Store.UserByEmail(context.Background(), frank)
		path := "/api/v1/users/" + itoa(frankUser.ID) + "/2fa/reset"
		r = e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "admin@example.com", "password": strongPassword, "scope": "read write"})
		e.expect(r, http.StatusOK, "")
		var rw tokens
		r.data(t, &rw)
		e.expect(e.do("POST", path, rw.AccessToken, nil), http.StatusForbidden, "insufficient_scope")
		e.expect(e.do("POST", path, mine, nil), http.StatusForbidden, "forbidden")
		admin := e.login("admin@example.com", strongPassword)
		e.expect(e.do("POST", "/api/v1/users/999999/2fa/reset", admin.AccessToken, nil), http.StatusNotFound, "not_found")
		e.expect(e.do("POST", path, admin.AccessToken, nil), http.StatusOK, "")
		e.expect(e.do("GET", "/api/v1/me", mine, nil), http.StatusUnauthorized, "unauthenticated")
		if la := e.login(frank, strongPassword); la.AccessToken == "" {
			t.Fatal("no tokens after the reset")
		}
	})
}

// AuthenticateSession (for the web pages) accepts a live session by id, with the same flags
// as a bearer token, and nothing else.
func TestAuthenticateSession(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		cfg := testConfig(db)
		cfg.Security.TwoFactorRequired = "admins"
		e := start(t, cfg, false)
		e.createUser("root@example.com", strongPassword, "admin")
		ctx := context.Background()
		pair, err := e.app.Auth.Login(ctx, auth.LoginInput{Email: "root@example.com", Password: strongPassword, Scope: "read write"})
		if err != nil || pair.SessionID == "" || pair.TwoFactor != nil {
			t.Fatalf("Login = %+v, %v", pair, err)
		}
		p, err := e.app.Auth.AuthenticateSession(ctx, pair.SessionID)
		if err != nil || p.User.Email != "root@example.com" || p.SessionID != pair.SessionID ||
			gatehouse.FormatScopes(p.Scopes) != "read write" || !p.TwoFactorSetupRequired {
			t.Fatalf("AuthenticateSession = %+v, %v", p, err)
		}
		for _, id := range []string{"", "unknown"} {
			if _, err := e.app.Auth.AuthenticateSession(ctx, id); gatehouse.ErrorCode(err) != gatehouse.EUnauthenticated {
				t.Fatalf("session %q: %v", id, err)
			}
		}
		// Use keeps a page session inside the idle limit (7 days): it is recorded, so 12 days of
		// regular use pass; a week and a day without use ends it.
		const day = 24 * time.Hour
		for range 2 {
			e.clock.Advance(6 * day)
			if _, err := e.app.Auth.AuthenticateSession(ctx, pair.SessionID); err != nil {
				t.Fatalf("session used within the idle limit: %v", err)
			}
		}
		if sess, err := e.app.Store.SessionByID(ctx, pair.SessionID); err != nil || !sess.LastUsedAt.Equal(e.clock.Now()) {
			t.Fatalf("last use not recorded: %+v, %v (now %v)", sess, err, e.clock.Now())
		}
		e.clock.Advance(8 * day)
		if _, err := e.app.Auth.AuthenticateSession(ctx, pair.SessionID); gatehouse.ErrorCode(err) != gatehouse.EUnauthenticated {
			t.Fatalf("idle session: %v", err)
		}

		pair, err = e.app.Auth.Login(ctx, auth.LoginInput{Email: "root@example.com", Password: strongPassword, Scope: "read write"})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.app.Auth.Logout(ctx, pair.RefreshToken, nil, auth.Client{}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.app.Auth.AuthenticateSession(ctx, pair.SessionID); gatehouse.ErrorCode(err) != gatehouse.EUnauthenticated {
			t.Fatalf("ended session: %v", err)
		}
	})
}

// SECURITY_TOTP_SECRETS_KEY: a bad key is a configuration error naming the variable.
func TestTOTPSecretsKeyConfig(t *testing.T) {
	for _, bad := range []string{"short", base64.StdEncoding.EncodeToString(make([]byte, 16)), "!!!"} {
		_, err := config.Load(func(k string) string {
			if k == "SECURITY_TOTP_SECRETS_KEY" {
				return bad
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), "SECURITY_TOTP_SECRETS_KEY") || strings.Contains(err.Error(), bad) {
			t.Fatalf("key %q: %v", bad, err)
		}
	}
	k1, k2 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)), base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	cfg, err := config.Load(func(k string) string {
		if k == "SECURITY_TOTP_SECRETS_KEY" {
			return k1 + ", " + k2
		}
		return ""
	})
	if err != nil || len(cfg.Security.TOTPSecretsKeys) != 2 || cfg.Security.TOTPSecretsKeys[1][0] != 2 {
		t.Fatalf("two keys: %v", err)
	}
}

// A secret encrypted under a key is read after rotation (new key first, old kept), and an
// enrolment keeps working across restarts with a generated key.
func TestTOTPSecretsKeyRotation(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		oldKey := bytes.Repeat([]byte{7}, 32)
		cfg := testConfig(db)
		cfg.Security.TOTPSecretsKeys = [][]byte{oldKey}
		e := start(t, cfg, false)
		e.createUser("gina@example.com", strongPassword, "viewer")
		secret, _ := e.enrolTOTP(e.login("gina@example.com", strongPassword).AccessToken)

		cfg2 := testConfig(db)
		cfg2.Security.TOTPSecretsKeys = [][]byte{bytes.Repeat([]byte{8}, 32), oldKey}
		e2 := start(t, cfg2, false)
		e2.clock.Set(e.clock.Now().Add(30 * time.Second))
		ch := e2.passwordStep("gina@example.com", strongPassword)
		e2.expect(e2.secondStep(ch.Challenge, "totp", oathCode(t, secret, e2.clock.Now())), http.StatusOK, "")
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Hostile input to the second login step and its helpers: wrong types, look-alike digits and
// huge values are 4xx naming the field, and they neither count against nor end the challenge.
func TestTwoFactorLoginHostileInput(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), true)
		const alice = "alice@example.com"
		e.createUser(alice, strongPassword)
		secret, _ := e.enrolTOTP(e.login(alice, strongPassword).AccessToken)
		ch := e.passwordStep(alice, strongPassword)
		step := func(body map[string]any) *response {
			t.Helper()
			return e.do("POST", "/api/v1/auth/login/2fa", "", body)
		}

		e.expectNamed(step(map[string]any{"challenge": 5, "method": "totp", "code": "123456"}), http.StatusBadRequest, "invalid", "challenge")
		e.expectNamed(step(map[string]any{"challenge": ch.Challenge, "method": []string{"totp"}, "code": "123456"}), http.StatusBadRequest, "invalid", "method")
		e.expectNamed(step(map[string]any{"challenge": ch.Challenge, "method": "totp", "code": 123456}), http.StatusBadRequest, "invalid", "code")
		e.expectNamed(e.secondStep(ch.Challenge, "totp", "١٢٣٤٥٦"), http.StatusBadRequest, "invalid", "code") // Arabic-Indic digits
		e.expectNamed(e.secondStep(ch.Challenge, "totp", strings.Repeat("9", 40<<10)), http.StatusBadRequest, "invalid", "code")
		e.expectNamed(e.secondStep(ch.Challenge, "recovery_code", strings.Repeat("Ω", 5000)), http.StatusBadRequest, "invalid", "code")
		e.expectNamed(e.secondStep(strings.Repeat("x", 40<<10), "totp", "123456"), http.StatusUnauthorized, "unauthenticated", "challenge")
		e.expect(e.secondStep(ch.Challenge, "totp", strings.Repeat("9", 70<<10)), http.StatusRequestEntityTooLarge, "payload_too_large")
		e.expectNamed(e.do("POST", "/api/v1/auth/login/2fa/email-code", "", map[string]any{"challenge": true}), http.StatusBadRequest, "invalid", "challenge")
		e.expectNamed(e.do("POST", "/api/v1/auth/login/2fa/webauthn/options", "", map[string]any{"challenge": strings.Repeat("é", 2000)}), http.StatusUnauthorized, "unauthenticated", "challenge")

		// The challenge is still alive and uncounted: the right code (of a step the enrolment
		// did not use) finishes the login.
		e.clock.Advance(30 * time.Second)
		r := e.secondStep(ch.Challenge, "totp", oathCode(t, secret, e.clock.Now()))
		e.expect(r, http.StatusOK, "")
	})
}
