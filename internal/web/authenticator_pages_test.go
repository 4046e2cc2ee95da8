package web_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/config"
)

// Sign-in with an authenticator-app code on the pages (SECURITY_PASSWORDLESS_AUTHENTICATOR):
// the login page's link, one message for every failure with the fields left empty, a named
// field for a malformed code, and a right code leading to the account's other second factor
// (email codes here, never the app again) and then to where the sign-in was going.
func TestAuthenticatorSignInPages(t *testing.T) {
	s := startSite(t, siteOptions{mail: true, config: func(c *config.Config) {
		c.Security.PasswordlessAuthenticator = true
	}})
	s.createUser("alice@example.com", strongPassword)
	s.createUser("bob@example.com", strongPassword) // no app
	b := s.browser()
	b.login("alice@example.com", strongPassword, "/profile")
	page := b.expect(b.get("/profile/2fa/totp"), http.StatusOK, "")
	secret := between(page.body, secretAttr, `"`)
	qr := html.UnescapeString(between(page.body, `name="qr" value="`, `"`))
	b.expect(b.post("/profile/2fa/totp", url.Values{"code": {code(t, secret, s.clock.Now())}, "secret": {secret}, "qr": {qr}}), http.StatusOK, "")
	b.expect(b.post("/profile/2fa/email/enable", nil), http.StatusSeeOther, "/profile#two-factor") // recovery codes were shown with the app
	b.expect(b.post("/logout", nil), http.StatusSeeOther, "/login")

	login := b.expect(b.get("/login?next=%2Fprofile%23sessions"), http.StatusOK, "")
	if !strings.Contains(login.body, `href="/login/authenticator?next=%2fprofile%23sessions" id="authenticator-link"`) {
		t.Fatalf("login page without the authenticator link:\n%s", excerpt(login.body))
	}
	form := b.expect(b.get("/login/authenticator?email=alice%40example.com&code=123456"), http.StatusOK, "")
	if !strings.Contains(form.body, `action="/login/authenticator"`) || strings.Contains(form.body, "123456") {
		t.Fatalf("authenticator page:\n%s", excerpt(form.body))
	}
	expectNoCredentialValues(t, form.body)

	s.clock.Advance(30 * time.Second) // the enrolment's code is spent
	for name, f := range map[string]url.Values{
		"wrong code":          {"email": {"alice@example.com"}, "code": {"000000"}},
		"unknown address":     {"email": {"nobody@example.com"}, "code": {code(t, secret, s.clock.Now())}},
		"account without app": {"email": {"bob@example.com"}, "code": {code(t, secret, s.clock.Now())}},
	} {
		r := b.post("/login/authenticator", f)
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "Invalid email or code.") {
			t.Fatalf("%s: %d\n%s", name, r.status, excerpt(r.body))
		}
		expectNoCredentialValues(t, r.body)
	}
	r := b.post("/login/authenticator", url.Values{"email": {"alice@example.com"}, "code": {"12345"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="code-error"`) {
		t.Fatalf("malformed code: %d\n%s", r.status, excerpt(r.body))
	}

	drain := len(s.smtp.Messages())
	b.expect(b.post("/login/authenticator", url.Values{"email": {"alice@example.com"}, "code": {code(t, secret, s.clock.Now())},
		"next": {"/profile#sessions"}}), http.StatusSeeOther, "/login/2fa")
	b.expect(b.get("/profile"), http.StatusSeeOther, "/login?next=%2Fprofile") // one factor is not a sign-in
	step := b.expect(b.get("/login/2fa"), http.StatusOK, "")
	if strings.Contains(step.body, `value="totp"`) || !strings.Contains(step.body, `action="/login/2fa/email-code"`) {
		t.Fatalf("second step after an authenticator code:\n%s", excerpt(step.body))
	}
	msg := waitMessage(t, s, "alice@example.com", drain, "sign-in code")
	b.expect(b.post("/login/2fa", url.Values{"method": {"email"}, "code": {sixDigits.FindString(msg.Text)}}), http.StatusSeeOther, "/profile#sessions")
	if !b.signedIn() {
		t.Fatal("not signed in after the second step")
	}
	// Signed in, the page sends on.
	b.expect(b.get("/login/authenticator"), http.StatusSeeOther, "/profile")
}

// Off by default: no link, and the page is not there.
func TestAuthenticatorSignInPagesOff(t *testing.T) {
	s := startSite(t, siteOptions{})
	b := s.browser()
	if login := b.get("/login"); strings.Contains(login.body, "authenticator-link") {
		t.Fatalf("login page offers authenticator codes while off:\n%s", excerpt(login.body))
	}
	b.expect(b.get("/login/authenticator"), http.StatusNotFound, "")
	b.expect(b.post("/login/authenticator", url.Values{"email": {"a@example.com"}, "code": {"123456"}}), http.StatusNotFound, "")
}
