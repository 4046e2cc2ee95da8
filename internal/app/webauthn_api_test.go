package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
	"github.com/gatehousehq/gatehouse/internal/webauthntest"
)

type webAuthnCredential struct {
	ID             string  `json:"id"`
	Name           string  `json:"name"`
	CreatedAt      string  `json:"created_at"`
	LastUsedAt     *string `json:"last_used_at"`
	BackupEligible bool    `json:"backup_eligible"`
	BackupState    bool    `json:"backup_state"`
}

// publicKeyOptions returns the options object of a response, whether the data is the options
// themselves or wraps them as {"publicKey": …}.
func publicKeyOptions(t *testing.T, r *response) json.RawMessage {
	t.Helper()
	var wrapped map[string]json.RawMessage
	r.data(t, &wrapped)
	for _, k := range []string{"publicKey", "public_key", "options"} {
		if v, ok := wrapped[k]; ok {
			return v
		}
	}
	if _, ok := wrapped["challenge"]; !ok {
		t.Fatalf("no WebAuthn options in %s", r.Raw)
	}
	return r.Body.Data
}

func (e *env) webAuthnList(bearer string) []webAuthnCredential {
	e.t.Helper()
	r := e.do("GET", "/api/v1/me/2fa/webauthn", bearer, nil)
	e.expect(r, http.StatusOK, "")
	var out []webAuthnCredential
	r.data(e.t, &out)
	return out
}

// webAuthnRegister runs a whole registration of key under name.
func (e *env) webAuthnRegister(bearer string, key *webauthntest.Authenticator, name string) (webAuthnCredential, []string) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/me/2fa/webauthn/register/options", bearer, nil)
	e.expect(r, http.StatusOK, "")
	cred, err := key.Create(publicKeyOptions(e.t, r))
	if err != nil {
		e.t.Fatal(err)
	}
	r = e.do("POST", "/api/v1/me/2fa/webauthn/register", bearer, map[string]any{"name": name, "credential": cred})
	e.expect(r, http.StatusCreated, "")
	var out struct {
		webAuthnCredential
		RecoveryCodes []string `json:"codes"`
	}
	r.data(e.t, &out)
	// A 201 names what it created: the credential's address (PATCH renames, DELETE removes it).
	if loc := r.Header.Get("Location"); loc != "/api/v1/me/2fa/webauthn/"+out.ID || out.ID == "" {
		e.t.Fatalf("registered credential %q: Location %q", out.ID, loc)
	}
	return out.webAuthnCredential, out.RecoveryCodes
}

func TestWebAuthnRegistrationAPI(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		e.createUser("alice@example.com", "correct horse battery staple")
		e.createUser("bob@example.com", "another long passphrase 42")
		alice := e.login("alice@example.com", "correct horse battery staple").AccessToken
		bob := e.login("bob@example.com", "another long passphrase 42").AccessToken

		if l := e.webAuthnList(alice); len(l) != 0 {
			t.Fatalf("fresh account has %d keys", len(l))
		}
		// Options: bound to PUBLIC_URL's host, the account's opaque user handle, ES256 allowed.
		r := e.do("POST", "/api/v1/me/2fa/webauthn/register/options", alice, nil)
		e.expect(r, http.StatusOK, "")
		var opts struct {
			Challenge string `json:"challenge"`
			RP        struct{ ID, Name string }
			User      struct{ ID, Name string }
			Params    []struct {
				Alg int `json:"alg"`
			} `json:"pubKeyCredParams"`
			Attestation string `json:"attestation"`
		}
		oldOptions := publicKeyOptions(t, r)
		if err := json.Unmarshal(oldOptions, &opts); err != nil {
			t.Fatal(err)
		}
		if opts.RP.ID != "gatehouse.test" || opts.User.Name != "alice@example.com" || opts.User.ID == "" || len(opts.Challenge) < 22 ||
			opts.Attestation != "none" || len(opts.Params) == 0 {
			t.Fatalf("creation options = %s", r.Raw)
		}

		// Bad input: each is refused naming the field, and nothing is registered.
		key := webauthntest.New("https://gatehouse.test")
		r = e.do("POST", "/api/v1/me/2fa/webauthn/register/options", alice, nil) // replaces the first ceremony
		e.expect(r, http.StatusOK, "")
		options := publicKeyOptions(t, r)
		stale, err := webauthntest.New("https://gatehouse.test").Create(oldOptions)
		if err != nil {
			t.Fatal(err)
		}
		evil, err := webauthntest.New("https://evil.example").Create(options)
		if err != nil {
			t.Fatal(err)
		}
		good, err := key.Create(options)
		if err != nil {
			t.Fatal(err)
		}
		var tampered map[string]any
		_ = json.Unmarshal(good, &tampered)
		tampered["response"].(map[string]any)["attestationObject"] = "AAAA"
		for _, bad := range []struct {
			name   string
			body   any
			field  string
			status int
		}{
			{"missing credential", map[string]any{"name": "Key"}, "credential", 400},
			{"credential not an object", map[string]any{"name": "Key", "credential": "hello"}, "credential", 400},
			{"empty credential", map[string]any{"name": "Key", "credential": map[string]any{}}, "credential", 400},
			{"malformed attestation", map[string]any{"name": "Key", "credential": tampered}, "credential", 400},
			{"answer to replaced options (wrong challenge)", map[string]any{"name": "Key", "credential": stale}, "credential", 400},
			{"wrong origin", map[string]any{"name": "Key", "credential": evil}, "credential", 400},
			{"name too long", map[string]any{"name": strings.Repeat("n", 65), "credential": good}, "name", 400},
			{"name with control characters", map[string]any{"name": "a\tb", "credential": good}, "name", 400},
		} {
			r := e.do("POST", "/api/v1/me/2fa/webauthn/register", alice, bad.body)
			if r.Status != bad.status || r.Body.Error == nil || r.Body.Error.Fields[bad.field] == "" {
				t.Fatalf("%s: got %d, want %d naming %s\n%s", bad.name, r.Status, bad.status, bad.field, r.Raw)
			}
			t.Logf("%s: %s", bad.name, r.Body.Error.Message)
			if l := e.webAuthnList(alice); len(l) != 0 {
				t.Fatalf("%s: a key was registered", bad.name)
			}
		}
		// Unknown members of the body are refused by the decoder.
		r = e.do("POST", "/api/v1/me/2fa/webauthn/register", alice, map[string]any{"name": "Key", "credential": good, "admin": true})
		e.expect(r, http.StatusBadRequest, "invalid")

		// The good answer still completes the pending ceremony: first factor, so recovery codes.
		r = e.do("POST", "/api/v1/me/2fa/webauthn/register", alice, map[string]any{"name": "  YubiKey 5 🔑 ", "credential": good})
		e.expect(r, http.StatusCreated, "")
		var reg struct {
			webAuthnCredential
			RecoveryCodes []string `json:"codes"`
		}
		r.data(t, &reg)
		if reg.Name != "YubiKey 5 🔑" || reg.ID == "" || len(reg.RecoveryCodes) != 10 || reg.LastUsedAt != nil || reg.BackupEligible {
			t.Fatalf("registered = %s", r.Raw)
		}
		// The ceremony is used up: the same answer again is refused.
		r = e.do("POST", "/api/v1/me/2fa/webauthn/register", alice, map[string]any{"name": "again", "credential": good})
		e.expectNamed(r, http.StatusBadRequest, "invalid", "credential")

		// The registered key is excluded from new ceremonies: the authenticator refuses.
		r = e.do("POST", "/api/v1/me/2fa/webauthn/register/options", alice, nil)
		e.expect(r, http.StatusOK, "")
		if _, err := key.Create(publicKeyOptions(t, r)); !errors.Is(err, webauthntest.ErrExcluded) {
			t.Fatalf("re-registering the same key: %v", err)
		}
		// A second key (a synced passkey) is not the first factor: no new recovery codes.
		passkey := webauthntest.New("https://gatehouse.test")
		passkey.BackupEligible, passkey.BackupState, passkey.Counter = true, true, false
		second, codes := e.webAuthnRegister(alice, passkey, "")
		if len(codes) != 0 || second.Name != "Security key" || !second.BackupEligible || !second.BackupState {
			t.Fatalf("second key = %+v, codes %v", second, codes)
		}
		list := e.webAuthnList(alice)
		if len(list) != 2 || list[0].ID != reg.ID || list[1].ID != second.ID {
			t.Fatalf("list = %+v", list)
		}

		// Rename.
		r = e.do("PATCH", "/api/v1/me/2fa/webauthn/"+second.ID, alice, map[string]any{"name": "Phone"})
		e.expect(r, http.StatusOK, "")
		r = e.do("PATCH", "/api/v1/me/2fa/webauthn/"+second.ID, alice, map[string]any{"name": " "})
		e.expectNamed(r, http.StatusBadRequest, "invalid", "name")
		r = e.do("PATCH", "/api/v1/me/2fa/webauthn/bm8tc3VjaC1rZXk", alice, map[string]any{"name": "x"})
		e.expectNamed(r, http.StatusNotFound, "not_found", "id")
		if l := e.webAuthnList(alice); l[1].Name != "Phone" {
			t.Fatalf("after rename: %+v", l)
		}

		// Another user reaches none of alice's keys.
		if l := e.webAuthnList(bob); len(l) != 0 {
			t.Fatalf("bob sees %d keys", len(l))
		}
		r = e.do("PATCH", "/api/v1/me/2fa/webauthn/"+reg.ID, bob, map[string]any{"name": "mine"})
		e.expectNamed(r, http.StatusNotFound, "not_found", "id")
		r = e.do("DELETE", "/api/v1/me/2fa/webauthn/"+reg.ID, bob, map[string]any{"password": "another long passphrase 42"})
		e.expectNamed(r, http.StatusNotFound, "not_found", "id")

		// Removal needs the password.
		r = e.do("DELETE", "/api/v1/me/2fa/webauthn/"+reg.ID, alice, map[string]any{"password": "wrong password"})
		e.expectNamed(r, http.StatusForbidden, "forbidden", "password")
		r = e.do("DELETE", "/api/v1/me/2fa/webauthn/"+reg.ID, alice, map[string]any{})
		e.expectNamed(r, http.StatusBadRequest, "invalid", "password")
		r = e.do("DELETE", "/api/v1/me/2fa/webauthn/not*base64!", alice, map[string]any{"password": "correct horse battery staple"})
		if r.Status != http.StatusNotFound && r.Status != http.StatusBadRequest {
			t.Fatalf("undecodable id: %d\n%s", r.Status, r.Raw)
		}
		if l := e.webAuthnList(alice); len(l) != 2 {
			t.Fatalf("refused removals removed something: %+v", l)
		}
		r = e.do("DELETE", "/api/v1/me/2fa/webauthn/"+second.ID, alice, map[string]any{"password": "correct horse battery staple"})
		e.expect(r, http.StatusOK, "")
		if l := e.webAuthnList(alice); len(l) != 1 || l[0].ID != reg.ID {
			t.Fatalf("after removal: %+v", l)
		}
		r = e.do("DELETE", "/api/v1/me/2fa/webauthn/"+second.ID, alice, map[string]any{"password": "correct horse battery staple"})
		e.expectNamed(r, http.StatusNotFound, "not_found", "id")

		// Enrolment and removal are audited with the method.
		ctx := context.Background()
		for _, ev := range []string{gatehouse.AuditTwoFactorEnabled, gatehouse.AuditTwoFactorDisabled} {
			evs, err := e.app.Store.AuditEvents(ctx, 0, ev, 10)
			if err != nil || len(evs) == 0 || evs[0].Detail != "webauthn" {
				t.Fatalf("%s events = %+v, %v", ev, evs, err)
			}
		}
	})
}

// webAuthnSignIn runs the password step, asks for the security-key options of its challenge
// and returns the challenge and the options.
func (e *env) webAuthnSignIn(email, password string) (challenge string, options json.RawMessage) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": email, "password": password})
	e.expect(r, http.StatusOK, "")
	var step struct {
		TwoFactorRequired bool     `json:"two_factor_required"`
		Challenge         string   `json:"challenge"`
		Methods           []string `json:"methods"`
		AccessToken       string   `json:"access_token"`
	}
	r.data(e.t, &step)
	if !step.TwoFactorRequired || step.Challenge == "" || step.AccessToken != "" || !slices.Contains(step.Methods, "webauthn") {
		e.t.Fatalf("password step = %s", r.Raw)
	}
	r = e.do("POST", "/api/v1/auth/login/2fa/webauthn/options", "", map[string]any{"challenge": step.Challenge})
	e.expect(r, http.StatusOK, "")
	return step.Challenge, publicKeyOptions(e.t, r)
}

func (e *env) webAuthnSecondStep(challenge string, assertion any) *response {
	e.t.Helper()
	return e.do("POST", "/api/v1/auth/login/2fa", "", map[string]any{"challenge": challenge, "method": "webauthn", "assertion": assertion})
}

func TestWebAuthnLoginAPI(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		const email, password = "carol@example.com", "correct horse battery staple"
		e.createUser(email, password, "maintainer") // may make API keys (write scope)
		tk := e.login(email, password).AccessToken
		key := webauthntest.New("https://gatehouse.test")
		// What an attacker who extracted the key's secrets right after registration holds.
		var clone *webauthntest.Authenticator
		cred, _ := e.webAuthnRegister(tk, key, "YubiKey")
		clone = key.Clone()

		// Password, then the security key: tokens, and the key's last use is recorded.
		challenge, options := e.webAuthnSignIn(email, password)
		var ro struct {
			RPID  string `json:"rpId"`
			Allow []struct {
				ID string `json:"id"`
			} `json:"allowCredentials"`
		}
		if err := json.Unmarshal(options, &ro); err != nil || ro.RPID != "gatehouse.test" || len(ro.Allow) != 1 || ro.Allow[0].ID != cred.ID {
			t.Fatalf("request options = %s (%v)", options, err)
		}
		assertion, err := key.Get(options)
		if err != nil {
			t.Fatal(err)
		}
		r := e.webAuthnSecondStep(challenge, assertion)
		e.expect(r, http.StatusOK, "")
		var got tokens
		r.data(t, &got)
		if got.AccessToken == "" || got.RefreshToken == "" {
			t.Fatalf("second step = %s", r.Raw)
		}
		if l := e.webAuthnList(got.AccessToken); len(l) != 1 || l[0].LastUsedAt == nil {
			t.Fatalf("after sign-in: %+v", l)
		}
		// The assertion cannot be replayed: its challenge is used up.
		r = e.webAuthnSecondStep(challenge, assertion)
		if r.Status < 400 || r.Status >= 500 {
			t.Fatalf("replayed assertion: %d\n%s", r.Status, r.Raw)
		}

		// Bad assertions, each refused naming the field; none signs in.
		challenge, options = e.webAuthnSignIn(email, password)
		evil := key.Clone()
		evil.Origin = "https://evil.example"
		fromEvil, err := evil.Get(options)
		if err != nil {
			t.Fatal(err)
		}
		r = e.webAuthnSecondStep(challenge, fromEvil)
		e.expectNamed(r, http.StatusUnauthorized, "unauthenticated", "assertion")
		r = e.webAuthnSecondStep(challenge, map[string]any{"id": "x"})
		e.expectNamed(r, http.StatusBadRequest, "invalid", "assertion")
		r = e.webAuthnSecondStep(challenge, nil)
		e.expectNamed(r, http.StatusBadRequest, "invalid", "assertion")
		// An assertion made for another challenge.
		_, otherOptions := e.webAuthnSignIn(email, password)
		forOther, err := key.Get(otherOptions)
		if err != nil {
			t.Fatal(err)
		}
		r = e.webAuthnSecondStep(challenge, forOther)
		e.expectNamed(r, http.StatusUnauthorized, "unauthenticated", "assertion")

		// The cloned key answers with a counter the server has seen already: refused, audited,
		// and the stored counter is not moved back.
		challenge, options = e.webAuthnSignIn(email, password)
		fromClone, err := clone.Get(options)
		if err != nil {
			t.Fatal(err)
		}
		r = e.webAuthnSecondStep(challenge, fromClone)
		e.expectNamed(r, http.StatusUnauthorized, "webauthn_counter_regression", "assertion")
		evs, err := e.app.Store.AuditEvents(context.Background(), 0, gatehouse.AuditWebAuthnCounterRegression, 10)
		if err != nil || len(evs) != 1 || !strings.Contains(evs[0].Detail, cred.ID) {
			t.Fatalf("counter regression events = %+v, %v", evs, err)
		}
		// The genuine key still works (its counter is ahead of the stored one).
		challenge, options = e.webAuthnSignIn(email, password)
		assertion, err = key.Get(options)
		if err != nil {
			t.Fatal(err)
		}
		e.expect(e.webAuthnSecondStep(challenge, assertion), http.StatusOK, "")

		// An API key cannot change second factors: that needs a signed-in session.
		r = e.do("POST", "/api/v1/api-keys", got.AccessToken, map[string]any{"name": "ci", "scopes": []string{"read", "write"}})
		e.expect(r, http.StatusCreated, "")
		var ak struct {
			Secret string `json:"secret"`
		}
		r.data(t, &ak)
		e.expect(e.do("POST", "/api/v1/me/2fa/webauthn/register/options", ak.Secret, nil), http.StatusForbidden, "session_required")
		e.expect(e.do("DELETE", "/api/v1/me/2fa/webauthn/"+cred.ID, ak.Secret, map[string]any{"password": password}), http.StatusForbidden, "session_required")
	})
}

// TestWebAuthnMeetsTwoFactorPolicy: an account SECURITY_TWO_FACTOR_REQUIRED covers can register
// a security key while everything else is closed to it, and is let through once it has.
func TestWebAuthnMeetsTwoFactorPolicy(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		cfg := testConfig(db)
		cfg.Security.TwoFactorRequired = "all"
		e := start(t, cfg, false)
		e.createUser("dave@example.com", "correct horse battery staple")
		tk := e.login("dave@example.com", "correct horse battery staple").AccessToken
		e.expect(e.do("GET", "/api/v1/auth/sessions", tk, nil), http.StatusForbidden, "two_factor_setup_required")
		e.webAuthnRegister(tk, webauthntest.New("https://gatehouse.test"), "Key")
		e.expect(e.do("GET", "/api/v1/auth/sessions", tk, nil), http.StatusOK, "")
	})
}
