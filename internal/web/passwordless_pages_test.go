package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
)

// An account without a password on the pages: it signs in by email, its profile offers to set
// a password without asking for a current one, and the password then signs in; a stale
// sign-in proves itself again with a code, not a password.
func TestPasswordlessAccountPages(t *testing.T) {
	s := emailSignInSite(t, false)
	now := s.clock.Now()
	if err := s.app.Store.CreateUser(context.Background(), &gatehouse.User{Email: "pat@example.com", Active: true, ConfirmedAt: &now,
		Roles: []gatehouse.Role{gatehouse.RoleMaintainer}}); err != nil {
		t.Fatal(err)
	}
	b := s.browser()
	b.askCode("pat@example.com")
	code, _ := s.signInMail("pat@example.com")
	b.expect(b.post("/login/email/code", url.Values{"code": {code}}), http.StatusSeeOther, "/profile")
	profile := b.get("/profile").body
	if !strings.Contains(profile, `id="no-password"`) || strings.Contains(profile, `name="current_password"`) {
		t.Fatalf("profile of an account without a password:\n%s", excerpt(profile))
	}

	// Much later, a credential change asks for a code instead of a password.
	s.clock.Advance(25 * time.Hour)
	r := b.post("/profile/api-keys", url.Values{"name": {"ci"}, "expires": {"30"}, "scopes": {"read"}})
	b.expect(r, http.StatusSeeOther, "")
	if !strings.HasPrefix(r.location(), "/verify") {
		t.Fatalf("stale sign-in went to %q", r.location())
	}
	v := b.get(r.location())
	if !strings.Contains(v.body, `id="verify-by-email"`) || strings.Contains(v.body, `name="password"`) {
		t.Fatalf("verify page without a password:\n%s", excerpt(v.body))
	}
	next := inputValues(v.body, "hidden")["next"]
	b.expect(b.post("/login/email", url.Values{"next": {next}}), http.StatusSeeOther, "/login/email/code")
	code, _ = s.signInMail("pat@example.com")
	b.expect(b.post("/login/email/code", url.Values{"code": {code}}), http.StatusSeeOther, next)

	// Set a password: no current one asked for.
	b.expect(b.post("/profile/password", url.Values{"new_password": {strongPassword}, "confirm_password": {strongPassword}}), http.StatusSeeOther, "/profile#password")
	if profile := b.get("/profile").body; strings.Contains(profile, `id="no-password"`) || !strings.Contains(profile, `name="current_password"`) {
		t.Fatalf("profile after setting a password:\n%s", excerpt(profile))
	}
	p := s.browser()
	p.login("pat@example.com", strongPassword, "/profile")
}

// Registration without a password, where sign-in by email is on.
func TestPasswordlessRegistrationPage(t *testing.T) {
	s := emailSignInSite(t, false, func(c *config.Config) { c.Security.Registerable = true })
	b := s.browser()
	if form := b.get("/register").body; !strings.Contains(form, "Optional: without one") {
		t.Fatalf("registration page:\n%s", excerpt(form))
	}
	r := b.post("/register", url.Values{"email": {"reg@example.com"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "/login/email") {
		t.Fatalf("registration without a password: %d\n%s", r.status, excerpt(r.body))
	}
	b.askCode("reg@example.com")
	code, _ := s.signInMail("reg@example.com")
	b.expect(b.post("/login/email/code", url.Values{"code": {code}}), http.StatusSeeOther, "/profile")
}
