package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/users"
)

var versionField = regexp.MustCompile(`name="version" value="([^"]+)"`)

// The console is for global admins only: every /admin address is the 404 for anyone else who
// is signed in (and a sign-in first for a browser that is not), whatever the rest of the path.
func TestAdminConsoleOnlyForAdmins(t *testing.T) {
	s := startSite(t, siteOptions{})
	s.createUser("root@example.com", strongPassword, gatehouse.RoleAdmin)
	bob := s.createUser("bob@example.com", strongPassword, gatehouse.RoleMaintainer)
	b := s.browser()
	b.login("bob@example.com", strongPassword, "/profile")
	if strings.Contains(b.get("/profile").body, `href="/admin/users"`) {
		t.Fatal("a maintainer's top bar links to the console")
	}
	id := fmt.Sprint(bob.ID)
	for _, path := range []string{"/admin", "/admin/users", "/admin/users?role=admin", "/admin/users/" + id, "/admin/users/999", "/admin/users/x"} {
		if r := b.get(path); r.status != http.StatusNotFound {
			t.Fatalf("GET %s as a maintainer: %d", path, r.status)
		}
	}
	for _, action := range []string{"roles", "deactivate", "reset-access", "nonsense"} {
		if r := b.post("/admin/users/"+id+"/"+action, url.Values{"roles": {"admin"}}); r.status != http.StatusNotFound {
			t.Fatalf("POST %s as a maintainer: %d", action, r.status)
		}
	}
	if u, err := s.app.Store.UserByID(context.Background(), bob.ID); err != nil || u.HasRole(gatehouse.RoleAdmin) {
		t.Fatalf("bob after the refused posts: %+v, %v", u, err)
	}
	anon := s.browser()
	anon.expect(anon.get("/admin/users"), http.StatusSeeOther, "/login?next=%2Fadmin%2Fusers")
}

// The user list: search, filters, order and pages; a bad filter names its field.
func TestAdminUserList(t *testing.T) {
	s := startSite(t, siteOptions{})
	s.createUser("root@example.com", strongPassword, gatehouse.RoleAdmin)
	for i := range 52 {
		s.createUser(fmt.Sprintf("user%02d@example.com", i), strongPassword, gatehouse.RoleViewer)
	}
	b := s.browser()
	b.login("root@example.com", strongPassword, "/profile")
	if !strings.Contains(b.get("/profile").body, `href="/admin/users"`) {
		t.Fatal("an admin's top bar does not link to the console")
	}
	b.expect(b.get("/admin"), http.StatusSeeOther, "/admin/users")

	first := b.expect(b.get("/admin/users"), http.StatusOK, "")
	if n := strings.Count(first.body, `<a href="/admin/users/`); n != 50 {
		t.Fatalf("first page lists %d users", n)
	}
	next := regexp.MustCompile(`href="(/admin/users\?cursor=[^"]+)" rel="next"`).FindStringSubmatch(first.body)
	if next == nil {
		t.Fatalf("no next page:\n%s", excerpt(first.body))
	}
	second := b.expect(b.get(strings.ReplaceAll(next[1], "&amp;", "&")), http.StatusOK, "")
	// 52 users, root and the default admin: 54.
	if n := strings.Count(second.body, `<a href="/admin/users/`); n != 4 || strings.Contains(second.body, `rel="next"`) {
		t.Fatalf("second page lists %d users (next link: %t)", n, strings.Contains(second.body, `rel="next"`))
	}

	found := b.expect(b.get("/admin/users?q=USER07"), http.StatusOK, "")
	if n := strings.Count(found.body, `<a href="/admin/users/`); n != 1 || !strings.Contains(found.body, "user07@example.com") ||
		!strings.Contains(found.body, `value="USER07"`) {
		t.Fatalf("search:\n%s", excerpt(found.body))
	}
	admins := b.expect(b.get("/admin/users?role=admin&active=true&sort=-email"), http.StatusOK, "")
	// root and the default admin.
	if n := strings.Count(admins.body, `<a href="/admin/users/`); n != 2 || !strings.Contains(admins.body, "root@example.com") ||
		strings.Index(admins.body, "root@example.com") > strings.Index(admins.body, "admin@localhost.local") {
		t.Fatalf("role filter:\n%s", excerpt(admins.body))
	}
	if none := b.expect(b.get("/admin/users?two_factor=true"), http.StatusOK, ""); strings.Contains(none.body, `<a href="/admin/users/`) {
		t.Fatalf("users with a second factor (there are none):\n%s", excerpt(none.body))
	}
	if n := strings.Count(b.expect(b.get("/admin/users?two_factor=false&sso_only=false&q=user0"), http.StatusOK, "").body, `<a href="/admin/users/`); n != 10 {
		t.Fatalf("users user00..user09 without a second factor: %d", n)
	}
	for query, field := range map[string]string{"role=wizard": "role", "active=maybe": "active", "two_factor=1": "two_factor", "sso_only=x": "sso_only", "confirmed=0": "confirmed",
		"sort=age": "sort", "colour=red": "colour", "cursor=zzz": "cursor"} {
		r := b.get("/admin/users?" + query)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, field) || strings.Contains(r.body, `<a href="/admin/users/`) {
			t.Fatalf("%s: %d\n%s", query, r.status, excerpt(r.body))
		}
	}
}

// A user's page: change roles, refuse a change made on a stale page, deactivate (which ends
// the user's sessions) and reactivate, each audited and shown; a sensitive action after the
// sign-in has gone stale asks for the password first; the last admin cannot demote itself.
func TestAdminUserPage(t *testing.T) {
	s := startSite(t, siteOptions{config: func(c *config.Config) { c.Security.Freshness = 15 * time.Minute }})
	root := s.createUser("root@example.com", strongPassword, gatehouse.RoleAdmin)
	bob := s.createUser("bob@example.com", strongPassword, gatehouse.RoleViewer)
	bobBrowser := s.browser()
	bobBrowser.login("bob@example.com", strongPassword, "/profile")
	b := s.browser()
	b.login("root@example.com", strongPassword, "/profile")
	path := fmt.Sprintf("/admin/users/%d", bob.ID)
	version := func() string {
		t.Helper()
		m := versionField.FindStringSubmatch(b.expect(b.get(path), http.StatusOK, "").body)
		if m == nil {
			t.Fatal("no version on the user page")
		}
		return m[1]
	}

	v := version()
	b.expect(b.post(path+"/roles", url.Values{"version": {v}, "roles": {"maintainer"}}), http.StatusSeeOther, path)
	page := b.expect(b.get(path), http.StatusOK, "")
	if !strings.Contains(page.body, "The roles have been changed.") || !strings.Contains(page.body, `value="maintainer" checked`) ||
		!strings.Contains(page.body, "role_change") {
		t.Fatalf("after the role change:\n%s", excerpt(page.body))
	}

	// Another admin (here the API's service) changes bob in between: the old form is refused.
	stale := version()
	viewer := []gatehouse.Role{gatehouse.RoleViewer}
	if _, err := s.app.Users.Update(context.Background(), &gatehouse.Principal{User: root, Scopes: []gatehouse.Scope{gatehouse.ScopeRead, gatehouse.ScopeWrite, gatehouse.ScopeAdmin}}, bob.ID,
		users.Change{UserChange: gatehouse.UserChange{Roles: &viewer}}, users.Client{}); err != nil {
		t.Fatal(err)
	}
	r := b.post(path+"/roles", url.Values{"version": {stale}, "roles": {"admin"}})
	if r.status != http.StatusPreconditionFailed || !strings.Contains(r.body, "Someone changed this user") {
		t.Fatalf("stale form: %d\n%s", r.status, excerpt(r.body))
	}
	if u, _ := s.app.Store.UserByID(context.Background(), bob.ID); u.HasRole(gatehouse.RoleAdmin) {
		t.Fatal("a stale form made bob an admin")
	}
	r = b.post(path+"/roles", url.Values{"version": {version()}, "roles": {"wizard"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "must be admin, maintainer or viewer") {
		t.Fatalf("unknown role: %d\n%s", r.status, excerpt(r.body))
	}

	// Deactivation ends bob's sessions at once; reactivation lets him sign in again.
	b.expect(b.post(path+"/deactivate", url.Values{"version": {version()}}), http.StatusSeeOther, path)
	if bobBrowser.signedIn() {
		t.Fatal("bob is still signed in after deactivation")
	}
	if page := b.get(path).body; !strings.Contains(page, "deactivated") || !strings.Contains(page, "user_deactivated") {
		t.Fatalf("after deactivation:\n%s", excerpt(page))
	}
	b.expect(b.post(path+"/activate", url.Values{"version": {version()}}), http.StatusSeeOther, path)
	bobBrowser.login("bob@example.com", strongPassword, "/profile")

	// Twenty minutes later the sign-in is no longer fresh (SECURITY_FRESHNESS=15m): reset access
	// asks for the password first.
	s.clock.Advance(20 * time.Minute)
	b.expect(b.post(path+"/reset-access", nil), http.StatusSeeOther, "/verify?next="+url.QueryEscape(path))
	if !bobBrowser.signedIn() {
		t.Fatal("reset access ran without a fresh sign-in")
	}
	b.expect(b.post("/verify", url.Values{"password": {strongPassword}, "next": {path}}), http.StatusSeeOther, path)
	b.expect(b.post(path+"/reset-access", nil), http.StatusSeeOther, path)
	if bobBrowser.signedIn() {
		t.Fatal("bob is still signed in after reset access")
	}

	// The last admin cannot take admin away from itself; the page says why. (The default admin
	// is deactivated first, from the console.)
	def, err := s.app.Store.UserByEmail(context.Background(), "admin@localhost.local")
	if err != nil {
		t.Fatal(err)
	}
	defPath := fmt.Sprintf("/admin/users/%d", def.ID)
	m := versionField.FindStringSubmatch(b.get(defPath).body)
	b.expect(b.post(defPath+"/deactivate", url.Values{"version": {m[1]}}), http.StatusSeeOther, defPath)
	self := fmt.Sprintf("/admin/users/%d", root.ID)
	m = versionField.FindStringSubmatch(b.get(self).body)
	r = b.post(self+"/roles", url.Values{"version": {m[1]}, "roles": {"viewer"}})
	if r.status != http.StatusConflict || !strings.Contains(r.body, "last active admin") {
		t.Fatalf("last admin demoting itself: %d\n%s", r.status, excerpt(r.body))
	}
}

// Creating a user from the console: a one-time password shown once, which signs in only to
// the forced password change; a taken address or a bad role is refused with the field named.
func TestAdminCreateUser(t *testing.T) {
	s := startSite(t, siteOptions{mail: true})
	s.createUser("root@example.com", strongPassword, gatehouse.RoleAdmin)
	b := s.browser()
	b.login("root@example.com", strongPassword, "/profile")
	form := b.expect(b.get("/admin/users/new"), http.StatusOK, "")
	if !strings.Contains(form.body, `action="/admin/users/new"`) || !strings.Contains(form.body, `value="viewer" checked`) {
		t.Fatalf("new user form:\n%s", excerpt(form.body))
	}
	r := b.expect(b.post("/admin/users/new", url.Values{"email": {"New.Person@Example.com"}, "roles": {"maintainer"}, "confirmed": {"1"}}), http.StatusOK, "")
	pw := regexp.MustCompile(`id="one-time-password">([a-z0-9-]+)<`).FindStringSubmatch(r.body)
	if pw == nil || len(pw[1]) != 23 {
		t.Fatalf("no one-time password:\n%s", excerpt(r.body))
	}
	u, err := s.app.Store.UserByEmail(context.Background(), "new.person@example.com")
	if err != nil || !u.MustChangePassword || !u.HasRole(gatehouse.RoleMaintainer) || u.ConfirmedAt == nil {
		t.Fatalf("created user: %+v, %v", u, err)
	}
	n := s.browser()
	n.login("new.person@example.com", pw[1], "/change-password")

	for name, f := range map[string]url.Values{
		"taken":     {"email": {"new.person@example.com"}, "roles": {"viewer"}},
		"bad email": {"email": {"not an address"}, "roles": {"viewer"}},
		"bad role":  {"email": {"other@example.com"}, "roles": {"wizard"}},
	} {
		r := b.post("/admin/users/new", f)
		if r.status/100 != 4 || strings.Contains(r.body, "one-time-password") {
			t.Fatalf("%s: %d\n%s", name, r.status, excerpt(r.body))
		}
	}
	if _, err := s.app.Store.UserByEmail(context.Background(), "other@example.com"); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
		t.Fatalf("a refused form created other@example.com: %v", err)
	}
	nb := s.browser()
	nb.login("new.person@example.com", pw[1], "/change-password")
	nb.expect(nb.get("/admin/users/new"), http.StatusSeeOther, "/change-password")
}

// Creating a user by invitation from the console: no password, a mail with the link to choose
// one; without password recovery the choice is not offered and the post falls back to a
// one-time password.
func TestAdminInviteUser(t *testing.T) {
	s := startSite(t, siteOptions{mail: true})
	s.createUser("root@example.com", strongPassword, gatehouse.RoleAdmin)
	b := s.browser()
	b.login("root@example.com", strongPassword, "/profile")
	form := b.expect(b.get("/admin/users/new"), http.StatusOK, "")
	if !strings.Contains(form.body, `id="access-invite" name="access" type="radio" value="invite" checked`) {
		t.Fatalf("the invitation is not offered by default:\n%s", excerpt(form.body))
	}
	r := b.expect(b.post("/admin/users/new", url.Values{"email": {"invitee@example.com"}, "roles": {"viewer"}, "access": {"invite"}}), http.StatusOK, "")
	if !strings.Contains(r.body, `id="invited"`) || strings.Contains(r.body, "one-time-password") {
		t.Fatalf("invitation page:\n%s", excerpt(r.body))
	}
	u, err := s.app.Store.UserByEmail(context.Background(), "invitee@example.com")
	if err != nil || u.PasswordSet() || u.MustChangePassword || u.ConfirmedAt != nil {
		t.Fatalf("invited user: %+v, %v", u, err)
	}
	msg := s.smtp.WaitFor(t, "invitee@example.com", 20*time.Second)
	if !strings.Contains(msg.Text, "/reset-password?token=") {
		t.Fatalf("invitation mail:\n%s", msg.Text)
	}

	off := startSite(t, siteOptions{})
	off.createUser("root@example.com", strongPassword, gatehouse.RoleAdmin)
	ob := off.browser()
	ob.login("root@example.com", strongPassword, "/profile")
	if f := ob.expect(ob.get("/admin/users/new"), http.StatusOK, ""); strings.Contains(f.body, "access-invite") {
		t.Fatal("the invitation is offered without mail")
	}
	r = ob.expect(ob.post("/admin/users/new", url.Values{"email": {"plain@example.com"}, "roles": {"viewer"}, "access": {"invite"}}), http.StatusOK, "")
	if !strings.Contains(r.body, "one-time-password") {
		t.Fatalf("without mail:\n%s", excerpt(r.body))
	}
}

// A user's sessions and API keys on the user's page: listed, and ended one at a time; an id
// that is not the user's (or has ended) changes nothing and says so.
func TestAdminUserSessionsAndKeys(t *testing.T) {
	s := startSite(t, siteOptions{})
	s.createUser("root@example.com", strongPassword, gatehouse.RoleAdmin)
	bob := s.createUser("bob@example.com", strongPassword, gatehouse.RoleMaintainer)
	one, two := s.browser(), s.browser()
	one.login("bob@example.com", strongPassword, "/profile")
	two.login("bob@example.com", strongPassword, "/profile")
	one.expect(one.post("/profile/api-keys", url.Values{"name": {"deploy"}, "scopes": {"read"}, "expires": {"30"}}), http.StatusCreated, "")

	b := s.browser()
	b.login("root@example.com", strongPassword, "/profile")
	path := fmt.Sprintf("/admin/users/%d", bob.ID)
	page := b.expect(b.get(path), http.StatusOK, "").body
	ends := regexp.MustCompile(`action="(`+path+`/sessions/[^"]+/end)"`).FindAllStringSubmatch(page, -1)
	revokes := regexp.MustCompile(`action="(`+path+`/api-keys/\d+/revoke)"`).FindAllStringSubmatch(page, -1)
	if len(ends) != 2 || len(revokes) != 1 || !strings.Contains(page, "<strong>deploy</strong>") {
		t.Fatalf("bob's page: %d sessions, %d keys\n%s", len(ends), len(revokes), excerpt(page))
	}
	// Another user's path with bob's session: nothing ends.
	rootPath := fmt.Sprintf("/admin/users/%d", s.userID("root@example.com"))
	other := strings.Replace(ends[0][1], path, rootPath, 1)
	b.expect(b.post(other, nil), http.StatusSeeOther, rootPath+"#sessions")
	if !one.signedIn() || !two.signedIn() {
		t.Fatal("a session ended through another user's page")
	}
	b.expect(b.post(ends[0][1], nil), http.StatusSeeOther, path+"#sessions")
	if n := btoi(one.signedIn()) + btoi(two.signedIn()); n != 1 {
		t.Fatalf("%d of bob's browsers are signed in after ending one session", n)
	}
	b.expect(b.post(revokes[0][1], nil), http.StatusSeeOther, path+"#api-keys")
	page = b.get(path).body
	if !strings.Contains(page, "The API key has been revoked.") || strings.Contains(page, "<strong>deploy</strong>") ||
		!strings.Contains(page, "api_key_revoked") {
		t.Fatalf("after the revocation:\n%s", excerpt(page))
	}
	b.expect(b.post(revokes[0][1], nil), http.StatusSeeOther, path+"#api-keys")
	if page := b.get(path).body; !strings.Contains(page, "That has ended already") {
		t.Fatalf("second revocation:\n%s", excerpt(page))
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *site) userID(email string) int64 {
	s.t.Helper()
	u, err := s.app.Store.UserByEmail(context.Background(), email)
	if err != nil {
		s.t.Fatal(err)
	}
	return u.ID
}

// Single sign-on on a user's page: the linked identities, unlinked one at a time, and the
// SSO-only switch, which stops and allows password sign-in.
func TestAdminUserSSO(t *testing.T) {
	s := startSite(t, siteOptions{config: func(c *config.Config) {
		c.SSO.OIDC = []config.OIDCProvider{{Name: "corp", Issuer: "http://127.0.0.1:9", ClientID: "gatehouse", Label: "Sign in with Corp"}}
	}})
	s.createUser("root@example.com", strongPassword, gatehouse.RoleAdmin)
	ctx := context.Background()
	u := &gatehouse.User{Email: "sso@example.com", Active: true, SSOOnly: true}
	if err := s.app.Store.CreateExternalUser(ctx, u, &gatehouse.Identity{Provider: "oidc:corp", Subject: "corp-sub-1", Email: "sso@example.com"}); err != nil {
		t.Fatal(err)
	}
	b := s.browser()
	b.login("root@example.com", strongPassword, "/profile")
	path := fmt.Sprintf("/admin/users/%d", u.ID)
	page := b.expect(b.get(path), http.StatusOK, "").body
	unlink := regexp.MustCompile(`action="(` + path + `/identities/\d+/unlink)"`).FindStringSubmatch(page)
	if unlink == nil || !strings.Contains(page, "<code>corp-sub-1</code>") || !strings.Contains(page, "Signs in only through SSO") {
		t.Fatalf("user page of an SSO account:\n%s", excerpt(page))
	}
	b.expect(b.post(path+"/not-sso-only", nil), http.StatusSeeOther, path)
	if got, _ := s.app.Store.UserByID(ctx, u.ID); got.SSOOnly {
		t.Fatal("still SSO-only")
	}
	b.expect(b.post(unlink[1], nil), http.StatusSeeOther, path+"#sso")
	if page := b.get(path).body; strings.Contains(page, "corp-sub-1") || !strings.Contains(page, "No linked identities.") {
		t.Fatalf("after unlinking:\n%s", excerpt(page))
	}
	b.expect(b.post(path+"/sso-only", nil), http.StatusSeeOther, path)
	if got, _ := s.app.Store.UserByID(ctx, u.ID); !got.SSOOnly {
		t.Fatal("not SSO-only again")
	}

	// Link one by hand, from a configured provider only; a subject linked already is refused.
	if page := b.get(path).body; !strings.Contains(page, `<option value="oidc:corp"`) {
		t.Fatalf("no configured provider to link from:\n%s", excerpt(page))
	}
	b.expect(b.post(path+"/identities", url.Values{"provider": {"oidc:corp"}, "subject": {"corp-sub-2"}}), http.StatusSeeOther, path+"#sso")
	if page := b.get(path).body; !strings.Contains(page, "<code>corp-sub-2</code>") {
		t.Fatalf("after linking:\n%s", excerpt(page))
	}
	for name, f := range map[string]url.Values{
		"unconfigured provider": {"provider": {"oidc:other"}, "subject": {"x"}},
		"no subject":            {"provider": {"oidc:corp"}, "subject": {""}},
		"linked already":        {"provider": {"oidc:corp"}, "subject": {"corp-sub-2"}},
	} {
		if r := b.post(path+"/identities", f); r.status/100 != 4 || !strings.Contains(r.body, "form-error") {
			t.Fatalf("%s: %d\n%s", name, r.status, excerpt(r.body))
		}
	}
}
