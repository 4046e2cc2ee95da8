package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Changing the email address from the profile: the form (behind the freshness prompt), the
// mailed link's page (GET shows a button, POST changes), and signing in with the new address.
func TestEmailChangePages(t *testing.T) {
	s := startSite(t, siteOptions{mail: true})
	const alice, next = "alice@example.com", "alice.new@example.org"
	s.createUser(alice, strongPassword)
	b := s.browser()
	b.login(alice, strongPassword, "/profile")
	page := b.expect(b.get("/profile"), http.StatusOK, "")
	if !strings.Contains(page.body, `action="/profile/email"`) {
		t.Fatalf("no email form on the profile:\n%s", excerpt(page.body))
	}

	// Bad input stays on the profile with the field named.
	r := b.post("/profile/email", url.Values{"new_email": {"nope"}, "password": {strongPassword}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="new_email-error"`) {
		t.Fatalf("bad address: %d\n%s", r.status, excerpt(r.body))
	}
	r = b.post("/profile/email", url.Values{"new_email": {next}, "password": {"wrong"}})
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "Password is not correct.") {
		t.Fatalf("wrong password: %d\n%s", r.status, excerpt(r.body))
	}

	// A stale sign-in proves the password first, then comes back.
	s.clock.Advance(25 * time.Hour)
	b.expect(b.post("/profile/email", url.Values{"new_email": {next}, "password": {strongPassword}}), http.StatusSeeOther, "/verify?next=%2Fprofile%23email")
	b.expect(b.post("/verify", url.Values{"password": {strongPassword}, "next": {"/profile#email"}}), http.StatusSeeOther, "/profile#email")
	b.expect(b.post("/profile/email", url.Values{"new_email": {next}, "password": {strongPassword}}), http.StatusSeeOther, "/profile#email")
	if page := b.expect(b.get("/profile"), http.StatusOK, ""); !strings.Contains(page.body, "We have sent a link and a code to "+next) {
		t.Fatalf("no flash:\n%s", excerpt(page.body))
	}

	link := s.mailedLink(next)
	if !strings.HasPrefix(link, "/confirm-email?token=") {
		t.Fatalf("mailed link %q", link)
	}
	// Opening the link (a mail scanner, say) changes nothing; it only shows the button.
	o := s.browser()
	form := o.expect(o.get(link), http.StatusOK, "")
	o.expect(o.get(link), http.StatusOK, "")
	if !strings.Contains(form.body, `action="/confirm-email"`) {
		t.Fatalf("confirm page:\n%s", excerpt(form.body))
	}
	b.expect(b.get("/profile"), http.StatusOK, "")

	// The button changes the address; the signed-in browser is signed out too.
	tok := inputValues(form.body, "hidden")["token"]
	b.expect(b.post("/confirm-email", url.Values{"token": {tok}}), http.StatusSeeOther, "/login")
	if r := b.get("/login"); !strings.Contains(r.body, "Your email address is now "+next) {
		t.Fatalf("no confirmation message:\n%s", excerpt(r.body))
	}
	b.expect(b.get("/profile"), http.StatusSeeOther, "/login?next=%2Fprofile")
	r = b.post("/login", url.Values{"email": {alice}, "password": {strongPassword}})
	if r.status != http.StatusUnauthorized {
		t.Fatalf("old address signs in: %d", r.status)
	}
	b.login(next, strongPassword, "/profile")

	// The link works once: the page then asks for a code and says why.
	r = o.post("/confirm-email", url.Values{"token": {tok}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="code"`) {
		t.Fatalf("reused link: %d\n%s", r.status, excerpt(r.body))
	}
}

func TestEmailChangePagesNeedMail(t *testing.T) {
	s := startSite(t, siteOptions{})
	s.createUser("alice@example.com", strongPassword)
	b := s.browser()
	b.login("alice@example.com", strongPassword, "/profile")
	if page := b.get("/profile"); strings.Contains(page.body, `action="/profile/email"`) {
		t.Fatal("email form offered without SMTP")
	}
	b.expect(b.get("/confirm-email?token=X"), http.StatusNotFound, "")
	b.expect(b.post("/profile/email", url.Values{"new_email": {"a2@example.com"}, "password": {strongPassword}}), http.StatusNotFound, "")
}
