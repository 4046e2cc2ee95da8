package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/gatehousehq/gatehouse"
)

// addPasskeyAuthenticator gives the browser a virtual platform authenticator that keeps
// discoverable credentials and verifies its user (a phone or laptop with a fingerprint), and
// returns its id.
func (c *chrome) addPasskeyAuthenticator() webauthn.AuthenticatorID {
	c.t.Helper()
	var id webauthn.AuthenticatorID
	c.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		res, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
				HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
			},
		})
		if err != nil {
			return err
		}
		id = res.AuthenticatorID
		return nil
	}))
	return id
}

// credentials lists what the virtual authenticator holds.
func (c *chrome) credentials(id webauthn.AuthenticatorID) []*webauthn.Credential {
	c.t.Helper()
	var out []*webauthn.Credential
	c.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		res, err := cdp.Call(ctx, tg, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
		if err != nil {
			return err
		}
		out = res.Credentials
		return nil
	}))
	return out
}

// The "done means" for passkeys in a browser: Chromium's virtual authenticator (resident
// keys, user verification) registers a passkey on the profile, then signs in with it from the
// login page's "Sign in with a passkey", with no email typed.
func TestBrowserPasskey(t *testing.T) {
	s := startSite(t, siteOptions{localhost: true})
	s.createUser("alice@example.com", strongPassword)
	c := s.chrome(desktop)
	c.open("/login")
	authenticator := c.addPasskeyAuthenticator()

	c.login("alice@example.com", strongPassword)
	c.waitPath("/profile")
	c.do(chromedp.WaitVisible(chromedp.CSS("#passkey-register-form")))
	c.fill("#passkey-name", "Virtual passkey")
	c.submit("#passkey-register") // the script runs navigator.credentials.create, then posts the form
	if n := eval[int](c, `document.querySelectorAll('#recovery-codes li').length`); n != 10 {
		t.Fatalf("%d recovery codes after adding the passkey%s", n, c.where())
	}
	creds := c.credentials(authenticator)
	if len(creds) != 1 || !creds[0].IsResidentCredential || len(creds[0].UserHandle) == 0 {
		t.Fatalf("the authenticator holds %+v", creds)
	}
	c.open("/profile")
	if keys := c.text("#security-keys"); !strings.Contains(keys, "Virtual passkey") || !strings.Contains(keys, "passkey") {
		t.Fatalf("passkey not listed as one: %s", keys)
	}
	// Until the user picks a passkey, the autofill offer waits: the virtual authenticator
	// stands in for that choice once presence is simulated, so it is off for now.
	c.presence(authenticator, false)
	c.signOut()
	// The login page: the standard form above, the passkey button below it, shown by the script.
	c.do(chromedp.WaitVisible(chromedp.CSS("#passkey-login")))
	if below := eval[bool](c, `document.querySelector('#passkey-login').getBoundingClientRect().top >= document.querySelector('form[action="/login"]').getBoundingClientRect().bottom`); !below {
		t.Fatal("the passkey button is not below the sign-in form")
	}
	if got := eval[string](c, `document.querySelector('#email').autocomplete`); got != "username webauthn" {
		t.Fatalf("email autocomplete = %q", got)
	}
	c.expectNoCredentialValues("login page")
	c.shot("login-passkey")
	time.Sleep(time.Second)
	if p := c.path(); p != "/login" {
		t.Fatalf("signed in without the user's choice: at %s", p)
	}
	c.presence(authenticator, true)
	c.submit("#passkey-login") // the button: navigator.credentials.get, no allowCredentials, no email typed
	c.waitPath("/profile")
	if !strings.Contains(eval[string](c, `document.querySelector('.topbar').textContent`), "alice@example.com") {
		t.Fatalf("not signed in as alice%s", c.where())
	}
	// The sign-in counted as two factors: a full session (no second step, no setup gate), and
	// the passkey shows its last use.
	if keys := c.text("#security-keys"); strings.Contains(keys, "last used never") {
		t.Fatalf("last use not recorded: %s", keys)
	}

	// Autofill: signed out, the login page offers the passkey in the email field's suggestions
	// (conditional mediation); picking it (the virtual authenticator's presence) signs in
	// without a click on the button.
	c.submit(".topbar form[action='/logout'] button")
	c.waitPath("/profile")
	evs, err := s.app.Store.AuditEvents(context.Background(), 0, gatehouse.AuditLoginSuccess, 10)
	if err != nil {
		t.Fatal(err)
	}
	passkeys := 0
	for _, ev := range evs {
		if ev.Detail == "method: passkey" {
			passkeys++
		}
	}
	if passkeys != 2 {
		t.Fatalf("%d passkey sign-ins audited, want 2: %+v", passkeys, evs)
	}
}

// presence turns the virtual authenticator's simulated user presence on or off.
func (c *chrome) presence(id webauthn.AuthenticatorID, on bool) {
	c.t.Helper()
	c.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, webauthn.SetAutomaticPresenceSimulation,
			webauthn.SetAutomaticPresenceSimulationParams{AuthenticatorID: id, Enabled: on})
		return err
	}))
}
