package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/config"
)

func usernameSite(t *testing.T) *site {
	return startSite(t, siteOptions{mail: true, config: func(c *config.Config) {
		c.Security.Username.Enable = true
		c.Security.Username.Recovery = true
		c.Security.Registerable = true
		off := false
		c.Security.Confirmable = &off
		c.Security.Freshness = 10 * time.Minute
	}})
}

// With usernames on, the login page keeps the standard's layout (one identity field, masked
// password, remember me, forgot link) with the field taking an address or a username, and the
// username recovery link below the form; the field is never pre-filled; an unknown username and
// a wrong password get one answer.
func TestUsernameLoginPage(t *testing.T) {
	s := usernameSite(t)
	b := s.browser()
	r := b.expect(b.get("/login?email=alice&username=alice&password=secret"), http.StatusOK, "")
	for _, want := range []string{
		`<label for="email">Email or username</label>`,
		`<input id="email" name="email" type="text" autocomplete="username`,
		`<input id="password" name="password" type="password"`,
		`<label for="remember">Remember me</label>`,
		`href="/forgot-password"`,
		`<a href="/recover-username" id="recover-username-link">`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	if strings.Index(r.body, "recover-username-link") < strings.Index(r.body, "</form>") {
		t.Error("the username recovery link is not below the form")
	}
	expectNoCredentialValues(t, r.body)
	if strings.Contains(r.body, "secret") || strings.Contains(r.body, `value="alice"`) {
		t.Fatal("a query value was put on the page")
	}

	// Register with a username, then sign in with it (any case) and with the address.
	b.expect(b.post("/register", url.Values{"email": {"alice@example.com"}, "username": {"Alice_W"},
		"password": {strongPassword}, "confirm_password": {strongPassword}}), http.StatusOK, "")
	b.login("alice_w", strongPassword, "/profile")
	p := b.expect(b.get("/profile"), http.StatusOK, "")
	if !strings.Contains(p.body, `<dd id="username-value">Alice_W</dd>`) || !strings.Contains(p.body, `action="/profile/username"`) {
		t.Fatalf("the profile does not show the username and its form:\n%s", excerpt(p.body))
	}
	// Change it on the profile; a bad name is shown on the field.
	bad := b.post("/profile/username", url.Values{"username": {"no spaces please"}})
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, `id="username-error"`) {
		t.Fatalf("bad name: %d\n%s", bad.status, excerpt(bad.body))
	}
	b.expect(b.post("/profile/username", url.Values{"username": {"Alice.W"}}), http.StatusSeeOther, "/profile#username")
	if p := b.get("/profile"); !strings.Contains(p.body, `<dd id="username-value">Alice.W</dd>`) {
		t.Fatal("the new username is not shown")
	}
	b2 := s.browser()
	b2.login("ALICE.W", strongPassword, "/profile")
	// A stale sign-in proves the password again before the change, as for the address.
	s.clock.Advance(11 * time.Minute)
	stale := b2.post("/profile/username", url.Values{"username": {"Alice.X"}})
	if stale.status != http.StatusSeeOther || !strings.HasPrefix(stale.location(), "/verify?next=") {
		t.Fatalf("stale change: %d %q", stale.status, stale.location())
	}
	s.browser().login("alice@example.com", strongPassword, "/profile")

	c := s.browser()
	wrong := c.post("/login", url.Values{"email": {"alice.w"}, "password": {"wrong password"}})
	unknown := c.post("/login", url.Values{"email": {"nobody.here"}, "password": {"wrong password"}})
	for _, r := range []reply{wrong, unknown} {
		c.expect(r, http.StatusUnauthorized, "")
		if !strings.Contains(r.body, "Invalid email, username or password.") {
			t.Fatalf("no generic error:\n%s", excerpt(r.body))
		}
		expectNoCredentialValues(t, r.body)
	}
	if strip(wrong.body) != strip(unknown.body) {
		t.Fatal("a wrong password and an unknown username get different pages")
	}
}

// /recover-username mails the username and answers the same for any address; off, the page
// does not exist and the login page has no link to it.
func TestRecoverUsernamePage(t *testing.T) {
	s := usernameSite(t)
	b := s.browser()
	b.expect(b.post("/register", url.Values{"email": {"kim@example.com"}, "username": {"kimchi"},
		"password": {strongPassword}, "confirm_password": {strongPassword}}), http.StatusOK, "")
	form := b.expect(b.get("/recover-username"), http.StatusOK, "")
	if !strings.Contains(form.body, `action="/recover-username"`) {
		t.Fatal("no recovery form")
	}
	known := b.expect(b.post("/recover-username", url.Values{"email": {"kim@example.com"}}), http.StatusOK, "")
	unknown := b.expect(b.post("/recover-username", url.Values{"email": {"nobody@example.com"}}), http.StatusOK, "")
	if strip(known.body) != strip(unknown.body) {
		t.Fatal("known and unknown addresses get different pages")
	}
	m := s.smtp.WaitFor(t, "kim@example.com", 20*time.Second)
	if !strings.Contains(m.Text, "kimchi") {
		t.Fatalf("recovery mail:\n%s", m.Text)
	}

	off := startSite(t, siteOptions{mail: true})
	ob := off.browser()
	if r := ob.get("/login"); strings.Contains(r.body, "recover-username") || strings.Contains(r.body, "Email or username") {
		t.Fatal("username options on the login page while usernames are off")
	}
	ob.expect(ob.get("/recover-username"), http.StatusNotFound, "")
}
