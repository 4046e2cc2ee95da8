package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/config"
)

// emailSignInSite runs the pages with sign-in by email on.
func emailSignInSite(t *testing.T, localhost bool, more ...func(*config.Config)) *site {
	return startSite(t, siteOptions{mail: true, localhost: localhost, config: func(c *config.Config) {
		c.Security.PasswordlessEmail = true
		for _, f := range more {
			f(c)
		}
	}})
}

var mailedSixDigits = regexp.MustCompile(`(?m)^\s+(\d{6})\s*$`)

// signInMail waits for the next sign-in mail to `to` and returns its code and its link (path
// and query).
func (s *site) signInMail(to string) (code, link string) {
	s.t.Helper()
	for range 10 {
		msg := s.smtp.WaitFor(s.t, to, 20*time.Second)
		if !strings.HasPrefix(msg.Subject, "Sign in to") {
			continue
		}
		c, l := mailedSixDigits.FindStringSubmatch(msg.Text), mailLink.FindStringSubmatch(msg.Text)
		if c == nil || l == nil || l[1] != "/login/email/link" {
			s.t.Fatalf("no code or link in the sign-in mail:\n%s", msg.Text)
		}
		return c[1], l[1] + "?token=" + l[2]
	}
	s.t.Fatalf("no sign-in mail to %s", to)
	return "", ""
}

// askCode asks for a code on the pages and expects the code page.
func (b *browser) askCode(email string) {
	b.t.Helper()
	b.expect(b.post("/login/email", url.Values{"email": {email}}), http.StatusSeeOther, "/login/email/code")
}

// signedIn reports whether the browser is signed in (the profile opens).
func (b *browser) signedIn() bool {
	b.t.Helper()
	return b.get("/profile").status == http.StatusOK
}

// The pages of sign-in by email: the login page's option, the code typed in, the mailed link
// in the browser that asked (GET changes nothing, POST signs in), and in another browser
// (it cannot sign in there; it confirms for the one that asked, which then continues).
func TestEmailSignInPages(t *testing.T) {
	s := emailSignInSite(t, false)
	s.createUser("alice@example.com", strongPassword)

	b := s.browser()
	if !strings.Contains(b.get("/login").body, `id="email-code-link"`) {
		t.Fatal("no \"Email me a sign-in code\" on the login page")
	}
	b.expect(b.get("/login/email"), http.StatusOK, "")
	b.askCode("alice@example.com")
	code, _ := s.signInMail("alice@example.com")
	page := b.get("/login/email/code")
	if page.status != http.StatusOK || !strings.Contains(page.body, "alice@example.com") {
		t.Fatalf("code page: %d\n%s", page.status, excerpt(page.body))
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	r := b.post("/login/email/code", url.Values{"code": {wrong}})
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "The code is not correct") {
		t.Fatalf("wrong code: %d\n%s", r.status, excerpt(r.body))
	}
	b.expect(b.post("/login/email/code", url.Values{"code": {""}}), http.StatusBadRequest, "")
	b.expect(b.post("/login/email/code", url.Values{"code": {code}}), http.StatusSeeOther, "/profile")
	if !b.signedIn() {
		t.Fatal("not signed in after the code")
	}

	// The link, in the browser that asked: the GET shows a button and uses nothing up.
	b = s.browser()
	b.askCode("alice@example.com")
	_, link := s.signInMail("alice@example.com")
	for range 2 {
		if r := b.get(link); r.status != http.StatusOK || !strings.Contains(r.body, `id="email-link-signin"`) {
			t.Fatalf("link page: %d\n%s", r.status, excerpt(r.body))
		}
	}
	tok := strings.TrimPrefix(link, "/login/email/link?token=")
	b.expect(b.post("/login/email/link", url.Values{"token": {tok}}), http.StatusSeeOther, "/profile")
	if !b.signedIn() {
		t.Fatal("not signed in after the link")
	}
	if r := b.get(link); r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="email-link-invalid"`) {
		t.Fatalf("a used link: %d\n%s", r.status, excerpt(r.body))
	}

	// The link in another browser: it cannot sign in there, it asks to confirm for the one
	// that asked, which then continues without the code.
	asker, other := s.browser(), s.browser()
	asker.askCode("alice@example.com")
	_, link = s.signInMail("alice@example.com")
	tok = strings.TrimPrefix(link, "/login/email/link?token=")
	r = other.get(link)
	if r.status != http.StatusOK || !strings.Contains(r.body, `id="email-link-approve"`) || strings.Contains(r.body, `id="email-link-signin"`) {
		t.Fatalf("link page elsewhere: %d\n%s", r.status, excerpt(r.body))
	}
	other.post("/login/email/link", url.Values{"token": {tok}}) // "sign in" from the wrong browser
	if other.signedIn() {
		t.Fatal("the link signed in a browser that did not ask")
	}
	r = asker.post("/login/email/code", url.Values{"action": {"continue"}})
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "has not been confirmed") {
		t.Fatalf("continue before confirming: %d\n%s", r.status, excerpt(r.body))
	}
	r = other.post("/login/email/link", url.Values{"token": {tok}, "action": {"approve"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, `id="email-link-done"`) || other.signedIn() {
		t.Fatalf("approve: %d\n%s", r.status, excerpt(r.body))
	}
	asker.expect(asker.post("/login/email/code", url.Values{"action": {"continue"}}), http.StatusSeeOther, "/profile")
	if !asker.signedIn() || other.signedIn() {
		t.Fatal("after confirming elsewhere, the asking browser should be signed in, the other not")
	}

	// An unknown address: the same code page, and the code page says nothing more.
	n := s.browser()
	n.askCode("nobody@example.com")
	if r := n.get("/login/email/code"); r.status != http.StatusOK || !strings.Contains(r.body, "If nobody@example.com has an account") {
		t.Fatalf("unknown address: %d\n%s", r.status, excerpt(r.body))
	}
	n.expect(n.post("/login/email/code", url.Values{"code": {"123456"}}), http.StatusUnauthorized, "")
}

// Off by default: no option on the login page, no pages.
func TestEmailSignInPagesOff(t *testing.T) {
	s := startSite(t, siteOptions{mail: true})
	b := s.browser()
	if strings.Contains(b.get("/login").body, "email-code-link") {
		t.Fatal("sign-in by email offered while off")
	}
	for _, p := range []string{"/login/email", "/login/email/code", "/login/email/link?token=x"} {
		b.expect(b.get(p), http.StatusNotFound, "")
	}
}
