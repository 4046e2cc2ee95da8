package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/webauthntest"
)

// The login page's passkey part sits below the standard layout (form, forgot link), hidden until
// the script shows it; the email field offers passkeys in its autofill. Turned off, the page is
// exactly the password form.
func TestLoginPagePasskeyMarkup(t *testing.T) {
	s := startSite(t, siteOptions{mail: true})
	b := s.browser()
	r := b.expect(b.get("/login"), http.StatusOK, "")
	for _, want := range []string{
		`<script src="/static/passkey.js" defer></script>`,
		`<input id="email" name="email" type="email" autocomplete="username webauthn"`,
		`<div class="passkey-signin js-only" id="passkey" hidden>`,
		`<form method="post" action="/login/passkey" id="passkey-login-form" data-options="/login/passkey/options" data-autofill="on">`,
		`<button type="button" class="btn btn-secondary btn-block" id="passkey-login">Sign in with a passkey</button>`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	form, forgot, passkey := strings.Index(r.body, `action="/login" class="form"`), strings.Index(r.body, `id="forgot-link"`), strings.Index(r.body, `id="passkey-login-form"`)
	if form < 0 || forgot < form || passkey < forgot {
		t.Fatalf("order: form %d, forgot link %d, passkey %d", form, forgot, passkey)
	}
	expectNoCredentialValues(t, r.body)

	off := startSite(t, siteOptions{mail: true, config: func(c *config.Config) { c.Security.WANAllowAsFirstFactor = false }})
	ob := off.browser()
	r = ob.expect(ob.get("/login"), http.StatusOK, "")
	if !strings.Contains(r.body, `<input id="email" name="email" type="email" autocomplete="username" `) ||
		strings.Contains(r.body, "passkey") {
		t.Fatalf("login page with passkeys off:\n%s", excerpt(r.body))
	}
	if r := ob.post("/login/passkey/options", nil); r.status != http.StatusBadRequest || !strings.Contains(r.body, "turned off") {
		t.Fatalf("options with passkeys off: %d %s", r.status, r.body)
	}
}

// A passkey added on the profile signs in on the login page's endpoints, answered by the
// software authenticator (the browser test does it with Chromium's virtual one).
func TestPasskeyPages(t *testing.T) {
	s := startSite(t, siteOptions{})
	s.createUser("alice@example.com", strongPassword)
	key := webauthntest.New("https://gatehouse.test")
	key.UserVerified = true
	b := s.browser()
	b.login("alice@example.com", strongPassword, "/profile")
	profile := b.get("/profile")
	if !strings.Contains(profile.body, `id="passkey-register-form"`) || !strings.Contains(profile.body, `>Add a passkey</button>`) {
		t.Fatalf("profile without the passkey form:\n%s", excerpt(profile.body))
	}
	r := b.expect(b.post("/profile/2fa/passkeys/options", nil), http.StatusOK, "")
	cred, err := key.Create([]byte(r.body))
	if err != nil {
		t.Fatal(err)
	}
	r = b.expect(b.post("/profile/2fa/passkeys", url.Values{"name": {"Phone"}, "credential": {string(cred)}}), http.StatusOK, "")
	if !strings.Contains(r.body, "Your passkey has been added.") {
		t.Fatalf("add passkey:\n%s", excerpt(r.body))
	}
	if page := b.get("/profile"); !strings.Contains(page.body, `<strong>Phone</strong> <span class="badge badge-ok">passkey</span>`) {
		t.Fatalf("passkey not listed as one:\n%s", excerpt(page.body))
	}
	b.expect(b.post("/logout", nil), http.StatusSeeOther, "/login")

	// Signed out: the options, the authenticator, the form post; no email typed.
	options := func(b *browser) (ceremony string, publicKey json.RawMessage) {
		t.Helper()
		r := b.expect(b.post("/login/passkey/options", nil), http.StatusOK, "")
		var o struct {
			PublicKey json.RawMessage `json:"publicKey"`
			Ceremony  string          `json:"ceremony"`
		}
		if err := json.Unmarshal([]byte(r.body), &o); err != nil || o.Ceremony == "" || len(o.PublicKey) == 0 {
			t.Fatalf("options: %s (%v)", r.body, err)
		}
		return o.Ceremony, o.PublicKey
	}
	ceremony, pk := options(b)
	assertion, err := key.Get(pk)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"ceremony": {ceremony}, "assertion": {string(assertion)}, "next": {"/profile#sessions"}}
	b.expect(b.post("/login/passkey", form), http.StatusSeeOther, "/profile#sessions")
	if page := b.get("/profile"); page.status != http.StatusOK || !strings.Contains(page.body, "alice@example.com") {
		t.Fatalf("not signed in: %d", page.status)
	}

	// Another browser replays the same post: the ceremony is spent.
	o := s.browser()
	r = o.expect(o.post("/login/passkey", form), http.StatusUnauthorized, "")
	if !strings.Contains(r.body, "took too long or was already used") || !strings.Contains(r.body, `data-autofill="off"`) {
		t.Fatalf("replayed passkey sign-in:\n%s", excerpt(r.body))
	}
	expectNoCredentialValues(t, r.body)
	// Without user verification: the page says what is missing.
	key.UserVerified = false
	ceremony, pk = options(o)
	if assertion, err = key.Get(pk); err != nil {
		t.Fatal(err)
	}
	r = o.expect(o.post("/login/passkey", url.Values{"ceremony": {ceremony}, "assertion": {string(assertion)}}), http.StatusUnauthorized, "")
	if !strings.Contains(r.body, "did not verify the user") {
		t.Fatalf("unverified passkey:\n%s", excerpt(r.body))
	}
}
