package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
	"github.com/gatehousehq/gatehouse/internal/webauthntest"
)

// freshness is SECURITY_FRESHNESS in these tests: short, so that a session goes stale while
// its access token (15 minutes) and WebAuthn options (5 minutes) are still valid.
const freshness = 2 * time.Minute

// credentialChange is one endpoint that changes a credential. prepare runs with a fresh token
// of the account before the credential under test signs in (adding a factor ends the other
// sessions) and returns what the request needs; body builds the request body from it and the
// password to send ("" for none).
type credentialChange struct {
	name, method, path string
	// passwordAlways: the endpoint asks for the password every time, in "password" (removing a
	// factor, changing the email address); the others take an optional "current_password".
	passwordAlways bool
	prepare        func(e *env, setup string) credentialPrep
	body           func(prep credentialPrep, password string) map[string]any
	success        int
}

type credentialPrep struct {
	path          string         // the request path when it depends on the preparation
	recoveryCodes []string       // when prepare added a factor: to pass the second login step
	secret        string         // a pending authenticator secret
	credential    map[string]any // a WebAuthn credential made from pending options
}

// withCurrentPassword is the body of the endpoints whose only member is current_password.
func withCurrentPassword(extra map[string]any, password string) map[string]any {
	if extra == nil && password == "" {
		return nil
	}
	out := map[string]any{}
	for k, v := range extra {
		out[k] = v
	}
	if password != "" {
		out["current_password"] = password
	}
	return out
}

func withPassword(extra map[string]any, password string) map[string]any {
	out := map[string]any{}
	for k, v := range extra {
		out[k] = v
	}
	if password != "" {
		out["password"] = password
	}
	return out
}

func credentialChanges() []credentialChange {
	none := func(*env, string) credentialPrep { return credentialPrep{} }
	withTOTP := func(e *env, setup string) credentialPrep {
		_, codes := e.enrolTOTP(setup)
		return credentialPrep{recoveryCodes: codes}
	}
	var n int
	return []credentialChange{
		{name: "totp_begin", method: "POST", path: "/api/v1/me/2fa/totp", prepare: none, success: http.StatusOK,
			body: func(_ credentialPrep, pw string) map[string]any { return withCurrentPassword(nil, pw) }},
		{name: "totp_confirm", method: "POST", path: "/api/v1/me/2fa/totp/confirm", success: http.StatusOK,
			prepare: func(e *env, setup string) credentialPrep {
				r := e.do("POST", "/api/v1/me/2fa/totp", setup, nil)
				e.expect(r, http.StatusOK, "")
				var en enrolment
				r.data(e.t, &en)
				return credentialPrep{secret: en.Secret}
			},
			body: nil}, // set below: it needs the env's clock
		{name: "totp_remove", method: "DELETE", path: "/api/v1/me/2fa/totp", passwordAlways: true, prepare: withTOTP, success: http.StatusOK,
			body: func(_ credentialPrep, pw string) map[string]any { return withPassword(nil, pw) }},
		{name: "recovery_codes", method: "POST", path: "/api/v1/me/2fa/recovery-codes", prepare: withTOTP, success: http.StatusOK,
			body: func(_ credentialPrep, pw string) map[string]any { return withCurrentPassword(nil, pw) }},
		{name: "email_enable", method: "POST", path: "/api/v1/me/2fa/email", prepare: none, success: http.StatusOK,
			body: func(_ credentialPrep, pw string) map[string]any { return withCurrentPassword(nil, pw) }},
		{name: "email_disable", method: "DELETE", path: "/api/v1/me/2fa/email", passwordAlways: true, success: http.StatusOK,
			prepare: func(e *env, setup string) credentialPrep {
				r := e.do("POST", "/api/v1/me/2fa/email", setup, nil)
				e.expect(r, http.StatusOK, "")
				var rc struct {
					Codes []string `json:"codes"`
				}
				r.data(e.t, &rc)
				return credentialPrep{recoveryCodes: rc.Codes}
			},
			body: func(_ credentialPrep, pw string) map[string]any { return withPassword(nil, pw) }},
		{name: "webauthn_options", method: "POST", path: "/api/v1/me/2fa/webauthn/register/options", prepare: none, success: http.StatusOK,
			body: func(_ credentialPrep, pw string) map[string]any { return withCurrentPassword(nil, pw) }},
		{name: "webauthn_register", method: "POST", path: "/api/v1/me/2fa/webauthn/register", success: http.StatusCreated,
			prepare: func(e *env, setup string) credentialPrep {
				r := e.do("POST", "/api/v1/me/2fa/webauthn/register/options", setup, nil)
				e.expect(r, http.StatusOK, "")
				cred, err := webauthntest.New("https://gatehouse.test").Create(publicKeyOptions(e.t, r))
				if err != nil {
					e.t.Fatal(err)
				}
				return credentialPrep{credential: map[string]any{"name": "key", "credential": cred}}
			},
			body: func(p credentialPrep, pw string) map[string]any { return withCurrentPassword(p.credential, pw) }},
		{name: "webauthn_remove", method: "DELETE", path: "/api/v1/me/2fa/webauthn/{id}", passwordAlways: true, success: http.StatusOK,
			prepare: func(e *env, setup string) credentialPrep {
				cred, codes := e.webAuthnRegister(setup, webauthntest.New("https://gatehouse.test"), "key")
				return credentialPrep{path: "/api/v1/me/2fa/webauthn/" + cred.ID, recoveryCodes: codes}
			},
			body: func(_ credentialPrep, pw string) map[string]any { return withPassword(nil, pw) }},
		{name: "api_key_create", method: "POST", path: "/api/v1/api-keys", prepare: none, success: http.StatusCreated,
			body: func(_ credentialPrep, pw string) map[string]any {
				return withCurrentPassword(map[string]any{"name": "ci", "scopes": []string{"read"}}, pw)
			}},
		{name: "email_change", method: "POST", path: "/api/v1/me/email", passwordAlways: true, prepare: none, success: http.StatusAccepted,
			body: func(_ credentialPrep, pw string) map[string]any {
				n++
				return withPassword(map[string]any{"new_email": fmt.Sprintf("moved%d@example.com", n)}, pw)
			}},
	}
}

// The credentials a change is tried with.
const (
	credReadOnly      = "read_only_token"
	credAPIKey        = "api_key"
	credStaleNoPass   = "stale_without_password"
	credStaleWrong    = "stale_wrong_password"
	credStaleRight    = "stale_right_password"
	credFreshAuthTime = "fresh_auth_time"
)

// TestCredentialChangesNeedFreshAuth: every endpoint that changes a credential, tried with a
// read-only token, an API key, a stale session (without, with a wrong, with the right current
// password) and a fresh one. Only a write-capable session that is fresh, or proves the password
// in the request, succeeds; the endpoints that always ask for the password keep doing so.
func TestCredentialChangesNeedFreshAuth(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		cfg := testConfig(db)
		cfg.Security.Freshness = freshness
		e := start(t, cfg, true)
		changes := credentialChanges()
		for i := range changes {
			if changes[i].name == "totp_confirm" {
				changes[i].body = func(p credentialPrep, pw string) map[string]any {
					return withCurrentPassword(map[string]any{"code": oathCode(e.t, p.secret, e.clock.Now())}, pw)
				}
			}
		}
		user := 0
		for _, ch := range changes {
			for _, cred := range []string{credReadOnly, credAPIKey, credStaleNoPass, credStaleWrong, credStaleRight, credFreshAuthTime} {
				t.Run(ch.name+"/"+cred, func(t *testing.T) {
					e.t = t
					user++
					email := fmt.Sprintf("fresh%d@example.com", user)
					e.createUser(email, strongPassword, "maintainer")
					setup := e.login(email, strongPassword)
					prep := ch.prepare(e, setup.AccessToken)
					path := ch.path
					if prep.path != "" {
						path = prep.path
					}
					var bearer string
					switch cred {
					case credAPIKey:
						bearer = e.createKey(setup.AccessToken, map[string]any{"name": "k", "scopes": []string{"read", "write"}}).Secret
					case credReadOnly:
						bearer = e.signIn(email, prep.recoveryCodes, "read").AccessToken
					default:
						tk := e.signIn(email, prep.recoveryCodes, "")
						bearer = tk.AccessToken
						if cred != credFreshAuthTime {
							// Stale: the sign-in is older than SECURITY_FRESHNESS, and a refreshed
							// token keeps the sign-in's auth_time.
							e.clock.Advance(freshness + time.Second)
							r := e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": tk.RefreshToken})
							e.expect(r, http.StatusOK, "")
							var next tokens
							r.data(t, &next)
							if at, before := authTime(t, next.AccessToken), authTime(t, tk.AccessToken); at != before {
								t.Fatalf("refresh moved auth_time from %d to %d", before, at)
							}
							bearer = next.AccessToken
						}
					}
					password := ""
					switch cred {
					case credStaleWrong:
						password = "not-the-password-1"
					case credStaleRight, credReadOnly, credAPIKey:
						password = strongPassword // the right password does not make up for the credential
					}
					if ch.passwordAlways && cred == credFreshAuthTime {
						password = strongPassword
					}
					// No body at all when there is nothing to send (a nil map would be sent as
					// JSON null, which the strict decoder refuses like any non-object).
					var body any
					if b := ch.body(prep, password); b != nil {
						body = b
					}
					r := e.do(ch.method, path, bearer, body)
					field := "current_password"
					if ch.passwordAlways {
						field = "password"
					}
					switch cred {
					case credReadOnly:
						e.expect(r, http.StatusForbidden, "insufficient_scope")
						if !strings.Contains(r.Header.Get("WWW-Authenticate"), `scope="write"`) {
							t.Fatalf("no insufficient_scope challenge: %v", r.Header)
						}
					case credAPIKey:
						e.expect(r, http.StatusForbidden, "session_required")
					case credStaleNoPass:
						if ch.passwordAlways {
							e.expectNamed(r, http.StatusBadRequest, "invalid", "password")
						} else {
							e.expect(r, http.StatusForbidden, "reauthentication_required")
						}
					case credStaleWrong:
						e.expectNamed(r, http.StatusForbidden, "forbidden", field)
					case credStaleRight, credFreshAuthTime:
						e.expect(r, ch.success, "")
					}
				})
			}
		}
		e.t = t
	})
}

// signIn logs the account in (through a recovery code when it has a second factor), asking
// for scope when it is not empty.
func (e *env) signIn(email string, recoveryCodes []string, scope string) tokens {
	e.t.Helper()
	body := map[string]any{"email": email, "password": strongPassword}
	if scope != "" {
		body["scope"] = scope
	}
	r := e.do("POST", "/api/v1/auth/login", "", body)
	e.expect(r, http.StatusOK, "")
	var a loginAnswer
	r.data(e.t, &a)
	if !a.TwoFactorRequired {
		return a.tokens
	}
	if len(recoveryCodes) == 0 {
		e.t.Fatalf("a second factor is asked for, and the test has no recovery code")
	}
	r = e.secondStep(a.Challenge, "recovery_code", recoveryCodes[0])
	e.expect(r, http.StatusOK, "")
	var tk tokens
	r.data(e.t, &tk)
	return tk
}

// authTime is the auth_time claim of an access token (unix seconds).
func authTime(t *testing.T, jwt string) int64 {
	t.Helper()
	v, ok := jwtPayload(t, jwt)["auth_time"].(float64)
	if !ok {
		t.Fatalf("access token without auth_time: %v", jwtPayload(t, jwt))
	}
	return int64(v)
}

// The auth_time claim is the sign-in's, refreshes keep it, and POST /api/v1/auth/reauth
// renews it (for the session, so the older access token counts as fresh too). A viewer, whose
// every token is read-only, can still protect the account; an API key cannot re-authenticate.
func TestReauthRenewsAuthTime(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		cfg := testConfig(db)
		cfg.Security.Freshness = freshness
		e := start(t, cfg, false)
		e.createUser("maint@example.com", strongPassword, "maintainer")
		e.createUser("viewer@example.com", strongPassword, "viewer")
		signedIn := e.clock.Now().Unix()
		tk := e.login("maint@example.com", strongPassword)
		if at := authTime(t, tk.AccessToken); at != signedIn {
			t.Fatalf("auth_time %d, want the sign-in time %d", at, signedIn)
		}
		key := e.createKey(tk.AccessToken, map[string]any{"name": "k", "scopes": []string{"read", "write"}})
		e.clock.Advance(freshness + time.Second)
		e.expect(e.do("POST", "/api/v1/me/2fa/totp", tk.AccessToken, nil), http.StatusForbidden, "reauthentication_required")

		e.expectNamed(e.do("POST", "/api/v1/auth/reauth", tk.AccessToken, map[string]string{"password": "wrong password 1"}), http.StatusForbidden, "forbidden", "password")
		e.expect(e.do("POST", "/api/v1/auth/reauth", key.Secret, map[string]string{"password": strongPassword}), http.StatusForbidden, "session_required")
		r := e.do("POST", "/api/v1/auth/reauth", tk.AccessToken, map[string]string{"password": strongPassword})
		e.expect(r, http.StatusOK, "")
		var re tokens
		r.data(t, &re)
		renewed := e.clock.Now().Unix()
		if authTime(t, re.AccessToken) != renewed || re.Scope != tk.Scope {
			t.Fatalf("reauth answer: %s", r.Raw)
		}
		// The old token of the same session is fresh now too, and a refresh keeps the new time.
		e.expect(e.do("POST", "/api/v1/me/2fa/totp", tk.AccessToken, nil), http.StatusOK, "")
		r = e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": tk.RefreshToken})
		e.expect(r, http.StatusOK, "")
		var next tokens
		r.data(t, &next)
		if at := authTime(t, next.AccessToken); at != renewed {
			t.Fatalf("refreshed auth_time %d, want %d", at, renewed)
		}

		viewer := e.login("viewer@example.com", strongPassword)
		if viewer.Scope != "read" {
			t.Fatalf("viewer scope %q", viewer.Scope)
		}
		e.expect(e.do("POST", "/api/v1/me/2fa/totp", viewer.AccessToken, nil), http.StatusOK, "")
	})
}
