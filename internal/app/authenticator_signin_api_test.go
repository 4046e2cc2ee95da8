package app_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
	"github.com/gatehousehq/gatehouse/internal/webauthntest"
)

func (e *env) authenticatorLogin(email, code string, more ...any) *response {
	e.t.Helper()
	body := map[string]any{"email": email, "code": code}
	for i := 0; i+1 < len(more); i += 2 {
		body[more[i].(string)] = more[i+1]
	}
	return e.do("POST", "/api/v1/auth/login/authenticator", "", body)
}

// nextCode moves the clock to the next 30-second step and returns the code oathtool makes
// for it: every sign-in needs a code not used before.
func (e *env) nextCode(secret string) string {
	e.t.Helper()
	e.clock.Advance(30 * time.Second)
	return oathCode(e.t, secret, e.clock.Now())
}

// Flask-Security's unified sign-in with "authenticator": the code takes the password's place,
// and is one factor, so the account's other second factor follows (never the app again).
func TestAuthenticatorCodeSignIn(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		cfg := testConfig(db)
		cfg.Security.PasswordlessAuthenticator = true
		cfg.Security.LoginBackoffAfter = 3
		e := start(t, cfg, false)
		const alice, bob, carol = "alice@example.com", "bob@example.com", "carol@example.com"
		for _, u := range []string{alice, bob, carol} {
			e.createUser(u, strongPassword)
		}
		tk := e.login(alice, strongPassword).AccessToken
		secret, _ := e.enrolTOTP(tk)
		key := webauthntest.New("https://gatehouse.test")
		e.webAuthnRegister(tk, key, "YubiKey")
		carolSecret, _ := e.enrolTOTP(e.login(carol, strongPassword).AccessToken) // the app is carol's only factor

		// The code answers the challenge of a password step, without totp among its methods.
		code := e.nextCode(secret)
		r := e.authenticatorLogin(alice, code)
		e.expect(r, http.StatusOK, "")
		var step loginAnswer
		r.data(t, &step)
		if !step.TwoFactorRequired || step.AccessToken != "" || slices.Contains(step.Methods, "totp") ||
			!slices.Equal(step.Methods, []string{"webauthn", "recovery_code"}) {
			t.Fatalf("authenticator step = %s", r.Raw)
		}
		// The app cannot be the second factor too, not even with its next code.
		e.expectNamed(e.secondStep(step.Challenge, "totp", e.nextCode(secret)), http.StatusBadRequest, "invalid", "method")
		// The security key finishes it.
		r = e.do("POST", "/api/v1/auth/login/2fa/webauthn/options", "", map[string]any{"challenge": step.Challenge})
		e.expect(r, http.StatusOK, "")
		assertion, err := key.Get(publicKeyOptions(t, r))
		if err != nil {
			t.Fatal(err)
		}
		r = e.do("POST", "/api/v1/auth/login/2fa", "", map[string]any{"challenge": step.Challenge, "method": "webauthn",
			"assertion": assertion, "remember_device": true})
		e.expect(r, http.StatusOK, "")
		var done loginAnswer
		r.data(t, &done)
		if done.AccessToken == "" || done.RememberDeviceToken == "" {
			t.Fatalf("second step = %s", r.Raw)
		}

		// One answer for everything that fails, and each counts like a wrong password.
		for name, r := range map[string]*response{
			"replayed code":       e.authenticatorLogin(alice, code),
			"unknown address":     e.authenticatorLogin("nobody@example.com", code),
			"account without app": e.authenticatorLogin(bob, code),
		} {
			e.expect(r, http.StatusUnauthorized, "unauthenticated")
			if r.Body.Error.Message != "invalid email or code" {
				t.Fatalf("%s: %s", name, r.Raw)
			}
		}
		// Malformed input names its field.
		e.expectNamed(e.authenticatorLogin(alice, "12345"), http.StatusBadRequest, "invalid", "code")
		e.expectNamed(e.authenticatorLogin(alice, ""), http.StatusBadRequest, "invalid", "code")
		e.expectNamed(e.authenticatorLogin("not an address", "123456"), http.StatusBadRequest, "invalid", "email")
		e.expect(e.authenticatorLogin(alice, "123456", "password", "x"), http.StatusBadRequest, "invalid")

		// A remembered device skips the second step, as after a password.
		r = e.authenticatorLogin(alice, e.nextCode(secret), "remember_device_token", done.RememberDeviceToken)
		e.expect(r, http.StatusOK, "")
		var remembered loginAnswer
		r.data(t, &remembered)
		if remembered.AccessToken == "" || remembered.TwoFactorRequired {
			t.Fatalf("with a remembered device = %s", r.Raw)
		}
		evs, err := e.app.Store.AuditEvents(context.Background(), 0, gatehouse.AuditLoginSuccess, 1)
		if err != nil || len(evs) != 1 || evs[0].Detail != "method: authenticator, remembered device" {
			t.Fatalf("login_success = %+v, %v", evs, err)
		}

		// An account whose only other way in is its recovery codes signs in with its password.
		r = e.authenticatorLogin(carol, e.nextCode(carolSecret))
		e.expect(r, http.StatusForbidden, "two_factor_unavailable")

		// Throttled like passwords: three wrong codes, and even the right one waits.
		for range 3 {
			e.expect(e.authenticatorLogin(alice, "000000"), http.StatusUnauthorized, "unauthenticated")
		}
		r = e.authenticatorLogin(alice, oathCode(t, secret, e.clock.Now().Add(30*time.Second)))
		e.expect(r, http.StatusTooManyRequests, "rate_limited")
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
		// The password login shares the counter.
		e.expect(e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": alice, "password": strongPassword}),
			http.StatusTooManyRequests, "rate_limited")
		if n := e.auditCount(alice, gatehouse.AuditLoginFailure); n != 4 { // the replay and the three wrong codes
			t.Fatalf("%d login_failure events for alice", n)
		}
	})
}

// Off by default, and without an app it cannot be turned on for anyone.
func TestAuthenticatorCodeSignInOffByDefault(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		e.createUser("alice@example.com", strongPassword)
		secret, _ := e.enrolTOTP(e.login("alice@example.com", strongPassword).AccessToken)
		e.expect(e.authenticatorLogin("alice@example.com", e.nextCode(secret)), http.StatusForbidden, "feature_disabled")
	})
}
