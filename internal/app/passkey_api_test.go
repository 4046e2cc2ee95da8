package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
	"github.com/gatehousehq/gatehouse/internal/webauthntest"
)

type passkeyCredential struct {
	webAuthnCredential
	Passkey bool `json:"passkey"`
}

// newPasskey is a platform authenticator as a passkey provider is one: it verifies the user
// and keeps discoverable credentials.
func newPasskey() *webauthntest.Authenticator {
	k := webauthntest.New("https://gatehouse.test")
	k.UserVerified = true
	return k
}

// passkeyCreationOptions asks for the options of a new passkey.
func (e *env) passkeyCreationOptions(bearer string) json.RawMessage {
	e.t.Helper()
	r := e.do("POST", "/api/v1/me/2fa/webauthn/passkeys/register/options", bearer, nil)
	e.expect(r, http.StatusOK, "")
	return publicKeyOptions(e.t, r)
}

// passkeyRegister registers key as a passkey under name.
func (e *env) passkeyRegister(bearer string, key *webauthntest.Authenticator, name string) passkeyCredential {
	e.t.Helper()
	cred, err := key.Create(e.passkeyCreationOptions(bearer))
	if err != nil {
		e.t.Fatal(err)
	}
	r := e.do("POST", "/api/v1/me/2fa/webauthn/register", bearer, map[string]any{"name": name, "credential": cred})
	e.expect(r, http.StatusCreated, "")
	var out passkeyCredential
	r.data(e.t, &out)
	if !out.Passkey {
		e.t.Fatalf("registered through the passkey options but not a passkey: %s", r.Raw)
	}
	return out
}

// passkeyOptions starts a passkey sign-in and returns its ceremony and request options.
func (e *env) passkeyOptions() (ceremony string, options json.RawMessage) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/auth/login/passkey/options", "", nil)
	e.expect(r, http.StatusOK, "")
	var out struct {
		Ceremony  string          `json:"ceremony"`
		PublicKey json.RawMessage `json:"public_key"`
		ExpiresAt time.Time       `json:"expires_at"`
	}
	r.data(e.t, &out)
	if len(out.Ceremony) < 40 || len(out.PublicKey) == 0 || !out.ExpiresAt.After(e.clock.Now()) {
		e.t.Fatalf("passkey options = %s", r.Raw)
	}
	return out.Ceremony, out.PublicKey
}

func (e *env) passkeyLogin(ceremony string, assertion any) *response {
	e.t.Helper()
	return e.do("POST", "/api/v1/auth/login/passkey", "", map[string]any{"ceremony": ceremony, "assertion": assertion})
}

// passkeySignIn runs a whole passkey sign-in with key and returns the answer.
func (e *env) passkeySignIn(key *webauthntest.Authenticator) *response {
	e.t.Helper()
	ceremony, options := e.passkeyOptions()
	assertion, err := key.Get(options)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.passkeyLogin(ceremony, assertion)
}

func TestPasskeyRegistrationAPI(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		e.createUser("alice@example.com", strongPassword)
		tk := e.login("alice@example.com", strongPassword).AccessToken

		// The options ask for a discoverable credential with user verification, and whether the
		// browser made one.
		options := e.passkeyCreationOptions(tk)
		var o struct {
			Selection struct {
				ResidentKey        string `json:"residentKey"`
				RequireResidentKey bool   `json:"requireResidentKey"`
				UserVerification   string `json:"userVerification"`
			} `json:"authenticatorSelection"`
			Extensions map[string]any `json:"extensions"`
		}
		if err := json.Unmarshal(options, &o); err != nil {
			t.Fatal(err)
		}
		if o.Selection.ResidentKey != "required" || !o.Selection.RequireResidentKey || o.Selection.UserVerification != "required" ||
			o.Extensions["credProps"] != true {
			t.Fatalf("passkey creation options = %s", options)
		}
		// An authenticator that cannot keep discoverable credentials fails in the browser.
		old := newPasskey()
		old.NoResidentKeys = true
		if _, err := old.Create(options); !errors.Is(err, webauthntest.ErrNoResidentKey) {
			t.Fatalf("a key without resident keys: %v", err)
		}
		// Without user verification the answer is refused, and nothing is registered.
		noUV := webauthntest.New("https://gatehouse.test")
		cred, err := noUV.Create(options)
		if err != nil {
			t.Fatal(err)
		}
		r := e.do("POST", "/api/v1/me/2fa/webauthn/register", tk, map[string]any{"credential": cred})
		e.expectNamed(r, http.StatusBadRequest, "invalid", "credential")
		if !strings.Contains(r.Body.Error.Message, "verify the user") {
			t.Fatalf("registration without user verification: %s", r.Raw)
		}
		// A browser that says it made no discoverable credential is refused too.
		cred, err = newPasskey().Create(e.passkeyCreationOptions(tk))
		if err != nil {
			t.Fatal(err)
		}
		var tampered map[string]any
		_ = json.Unmarshal(cred, &tampered)
		tampered["clientExtensionResults"] = map[string]any{"credProps": map[string]any{"rk": false}}
		r = e.do("POST", "/api/v1/me/2fa/webauthn/register", tk, map[string]any{"credential": tampered})
		e.expectNamed(r, http.StatusBadRequest, "invalid", "credential")
		if l := e.webAuthnList(tk); len(l) != 0 {
			t.Fatalf("refused answers registered %+v", l)
		}

		// A good one: a passkey, named "Passkey" when no name is given; the first factor of the
		// account, so recovery codes come with it.
		phone := newPasskey()
		cred, err = phone.Create(e.passkeyCreationOptions(tk))
		if err != nil {
			t.Fatal(err)
		}
		r = e.do("POST", "/api/v1/me/2fa/webauthn/register", tk, map[string]any{"credential": cred})
		e.expect(r, http.StatusCreated, "")
		var reg struct {
			passkeyCredential
			Codes []string `json:"codes"`
		}
		r.data(t, &reg)
		if !reg.Passkey || reg.Name != "Passkey" || len(reg.Codes) != 10 {
			t.Fatalf("registered passkey = %s", r.Raw)
		}
		// A security key registered the usual way is not a passkey; both are listed, flagged.
		e.webAuthnRegister(tk, webauthntest.New("https://gatehouse.test"), "YubiKey")
		named := e.passkeyRegister(tk, newPasskey(), "Laptop")
		r = e.do("GET", "/api/v1/me/2fa/webauthn", tk, nil)
		e.expect(r, http.StatusOK, "")
		var list []passkeyCredential
		r.data(t, &list)
		if len(list) != 3 || !list[0].Passkey || list[1].Passkey || !list[2].Passkey || list[2].Name != "Laptop" || list[2].ID != named.ID {
			t.Fatalf("list = %s", r.Raw)
		}
		// Renamed like any key.
		r = e.do("PATCH", "/api/v1/me/2fa/webauthn/"+named.ID, tk, map[string]any{"name": "Work laptop"})
		e.expect(r, http.StatusOK, "")
		var renamed passkeyCredential
		r.data(t, &renamed)
		if renamed.Name != "Work laptop" || !renamed.Passkey {
			t.Fatalf("renamed = %s", r.Raw)
		}
		// The same authenticator cannot register twice (excludeCredentials).
		if _, err := phone.Create(e.passkeyCreationOptions(tk)); !errors.Is(err, webauthntest.ErrExcluded) {
			t.Fatalf("registering the same passkey again: %v", err)
		}
		// Registering needs a signed-in account.
		r = e.do("POST", "/api/v1/me/2fa/webauthn/passkeys/register/options", "", nil)
		e.expect(r, http.StatusUnauthorized, "unauthenticated")
	})
}

// The "done means" for passkeys over the API: a passkey signs in with no email typed,
// counts as two factors, is throttled, tracked and audited; every way of getting it wrong is
// refused.
func TestPasskeyLoginAPI(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		cfg := testConfig(db)
		cfg.Security.TwoFactorRequired = "all"
		cfg.Security.LoginBackoffAfter = 3
		e := start(t, cfg, false)
		const email = "carol@example.com"
		e.createUser(email, strongPassword, "maintainer")
		tk := e.login(email, strongPassword).AccessToken
		key := newPasskey() // keeps a signature counter, as a hardware passkey does
		cred := e.passkeyRegister(tk, key, "YubiKey Bio")
		clone := key.Clone() // what an attacker who extracted the key right after registration holds

		// The options name no account and no credential, and require user verification.
		ceremony, options := e.passkeyOptions()
		var ro struct {
			RPID  string            `json:"rpId"`
			UV    string            `json:"userVerification"`
			Allow []json.RawMessage `json:"allowCredentials"`
		}
		if err := json.Unmarshal(options, &ro); err != nil || ro.RPID != "gatehouse.test" || ro.UV != "required" || len(ro.Allow) != 0 {
			t.Fatalf("request options = %s (%v)", options, err)
		}
		assertion, err := key.Get(options)
		if err != nil {
			t.Fatal(err)
		}
		// Tokens at once: possession and user verification are two factors, so neither the
		// challenge nor the two-factor setup gate applies.
		r := e.passkeyLogin(ceremony, assertion)
		e.expect(r, http.StatusOK, "")
		var got loginAnswer
		r.data(t, &got)
		if got.AccessToken == "" || got.RefreshToken == "" || got.TwoFactorRequired || !strings.Contains(got.Scope, "write") {
			t.Fatalf("passkey sign-in = %s", r.Raw)
		}
		e.expect(e.do("GET", "/api/v1/auth/sessions", got.AccessToken, nil), http.StatusOK, "")
		r = e.do("GET", "/api/v1/me", got.AccessToken, nil)
		var me struct {
			Email      string `json:"email"`
			LoginCount int64  `json:"login_count"`
			Setup      bool   `json:"two_factor_setup_required"`
		}
		r.data(t, &me)
		if me.Email != email || me.LoginCount != 2 || me.Setup {
			t.Fatalf("me after the passkey sign-in = %s", r.Raw)
		}
		evs, err := e.app.Store.AuditEvents(context.Background(), 0, gatehouse.AuditLoginSuccess, 1)
		if err != nil || len(evs) != 1 || evs[0].Detail != "method: passkey" || evs[0].Email != email {
			t.Fatalf("login_success events = %+v, %v", evs, err)
		}
		if l := e.webAuthnList(got.AccessToken); len(l) != 1 || l[0].LastUsedAt == nil {
			t.Fatalf("after the sign-in: %+v", l)
		}
		// The password still needs a second factor, which the passkey also is.
		if step := e.passwordStep(email, strongPassword); len(step.Methods) == 0 || step.Methods[0] != "webauthn" {
			t.Fatalf("password step methods = %v", step.Methods)
		}

		// Replayed: the ceremony is spent.
		e.expectNamed(e.passkeyLogin(ceremony, assertion), http.StatusUnauthorized, "unauthenticated", "ceremony")
		// Unknown ceremony.
		e.expectNamed(e.passkeyLogin("NOT2A3REAL4CEREMONY", assertion), http.StatusUnauthorized, "unauthenticated", "ceremony")
		// An assertion answering another ceremony's challenge: refused, and it spends the
		// ceremony it was sent with.
		c1, _ := e.passkeyOptions()
		_, o2 := e.passkeyOptions()
		forOther, err := key.Get(o2)
		if err != nil {
			t.Fatal(err)
		}
		e.expectNamed(e.passkeyLogin(c1, forOther), http.StatusUnauthorized, "unauthenticated", "assertion")
		e.expectNamed(e.passkeyLogin(c1, forOther), http.StatusUnauthorized, "unauthenticated", "ceremony")
		// Expired: options are good for 5 minutes.
		c3, o3 := e.passkeyOptions()
		late, err := key.Get(o3)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(5*time.Minute + time.Second)
		e.expectNamed(e.passkeyLogin(c3, late), http.StatusUnauthorized, "unauthenticated", "ceremony")
		// Malformed input names its field.
		c4, _ := e.passkeyOptions()
		e.expectNamed(e.passkeyLogin(c4, map[string]any{"id": "x"}), http.StatusBadRequest, "invalid", "assertion")
		e.expectNamed(e.passkeyLogin(c4, nil), http.StatusBadRequest, "invalid", "assertion")
		e.expectNamed(e.passkeyLogin("", assertion), http.StatusBadRequest, "invalid", "ceremony")
		e.expect(e.do("POST", "/api/v1/auth/login/passkey", "", map[string]any{"ceremony": c4, "assertion": assertion, "email": email}),
			http.StatusBadRequest, "invalid")

		// A credential registered nowhere: refused, counted against the address only.
		stranger := newPasskey()
		foreign, _, err := webauthntest.NewCredential("gatehouse.test", []byte{0, 0, 0, 0, 0, 0, 0, 42}, 0)
		if err != nil {
			t.Fatal(err)
		}
		stranger.Add(foreign)
		e.expectNamed(e.passkeySignIn(stranger), http.StatusUnauthorized, "unauthenticated", "assertion")
		// A security key registered as a second factor does not sign in on its own.
		yubi := webauthntest.New("https://gatehouse.test")
		yubi.UserVerified = true
		e.webAuthnRegister(got.AccessToken, yubi, "Second factor")
		r = e.passkeySignIn(yubi)
		e.expectNamed(r, http.StatusUnauthorized, "unauthenticated", "assertion")
		if !strings.Contains(r.Body.Error.Message, "second factor only") {
			t.Fatalf("security key as a passkey: %s", r.Raw)
		}

		// User verification is required: the same passkey without it is refused (and counted).
		key.UserVerified = false
		r = e.passkeySignIn(key)
		e.expectNamed(r, http.StatusUnauthorized, "unauthenticated", "assertion")
		if !strings.Contains(r.Body.Error.Message, "verify the user") {
			t.Fatalf("sign-in without user verification: %s", r.Raw)
		}
		key.UserVerified = true

		// The cloned key answers with a counter the server has seen: refused and audited.
		r = e.passkeySignIn(clone)
		e.expectNamed(r, http.StatusUnauthorized, "webauthn_counter_regression", "assertion")
		evs, err = e.app.Store.AuditEvents(context.Background(), 0, gatehouse.AuditWebAuthnCounterRegression, 10)
		if err != nil || len(evs) != 1 || !strings.Contains(evs[0].Detail, cred.ID) {
			t.Fatalf("counter regression events = %+v, %v", evs, err)
		}
		// Three failures for the account (the assertion for another challenge, the one without
		// user verification, the clone): the account is in backoff, even for the real passkey.
		r = e.passkeySignIn(key)
		e.expect(r, http.StatusTooManyRequests, "rate_limited")
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
		e.clock.Advance(2 * time.Second)
		e.expect(e.passkeySignIn(key), http.StatusOK, "")
		fails, err := e.app.Store.AuditEvents(context.Background(), 0, gatehouse.AuditLoginFailure, 20)
		if err != nil {
			t.Fatal(err)
		}
		var details []string
		for _, ev := range fails {
			details = append(details, ev.Detail)
		}
		for _, want := range []string{"passkey: assertion refused", "passkey: user not verified", "passkey: unknown credential", "passkey: security key registered as a second factor only", "passkey: signature counter went backwards"} {
			if !strings.Contains(strings.Join(details, "\n"), want) {
				t.Errorf("no login_failure %q in %q", want, details)
			}
		}

		// A deactivated account: the passkey is good, the sign-in is refused all the same.
		u, err := e.app.Store.UserByEmail(context.Background(), email)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.app.Store.SetActive(context.Background(), u.ID, false); err != nil {
			t.Fatal(err)
		}
		e.expectNamed(e.passkeySignIn(key), http.StatusUnauthorized, "unauthenticated", "assertion")
	})
}

// SECURITY_WAN_ALLOW_AS_FIRST_FACTOR=false: passkeys are second factors only.
func TestPasskeySignInTurnedOff(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		cfg := testConfig(db)
		cfg.Security.WANAllowAsFirstFactor = false
		e := start(t, cfg, false)
		e.createUser("dan@example.com", strongPassword)
		tk := e.login("dan@example.com", strongPassword).AccessToken
		key := newPasskey()
		e.passkeyRegister(tk, key, "Phone") // still registered, as a second factor
		e.expect(e.do("POST", "/api/v1/auth/login/passkey/options", "", nil), http.StatusForbidden, "feature_disabled")
		e.expect(e.passkeyLogin("X", json.RawMessage(`{}`)), http.StatusForbidden, "feature_disabled")
		challenge, options := e.webAuthnSignIn("dan@example.com", strongPassword)
		assertion, err := key.Get(options)
		if err != nil {
			t.Fatal(err)
		}
		e.expect(e.webAuthnSecondStep(challenge, assertion), http.StatusOK, "")
	})
}
