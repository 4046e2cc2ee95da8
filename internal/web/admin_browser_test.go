package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/browsertest"
	"github.com/gatehousehq/gatehouse/internal/config"
)

// The console in Chromium at 1280 and 375 px, each section driven through its forms: create a
// user, change a role, end a session, revoke an API key, reset the second factors, deactivate;
// add a team member, refuse to remove the last owner, remove a member; filter the audit log and
// export it; retry a failed mail; the system page. Every page is screenshotted, must fit the
// width without a sideways scroll, and must pass axe-core's accessibility rules (no serious or
// critical violation).
func TestBrowserAdminConsole(t *testing.T) {
	s := startSite(t, siteOptions{mail: true, config: func(c *config.Config) {
		c.Security.TwoFactorRequired = "none"
		c.Settings = config.Effective(func(k string) string { return map[string]string{"DB_PASS": "secret"}[k] })
	}})
	s.createUser("root@example.com", strongPassword, gatehouse.RoleAdmin)
	ctx := context.Background()
	mail := &gatehouse.OutboxMail{To: "lost@example.com", Subject: "Confirm your email address", Text: "link"}
	if err := s.app.Store.EnqueueMail(ctx, mail, s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	for _, vp := range []viewport{desktop, phone} {
		t.Run(vp.name, func(t *testing.T) {
			// Bob is signed in twice (two sessions) with an API key and an authenticator app.
			bobEmail := fmt.Sprintf("bob-%s@example.com", vp.name)
			bob := s.createUser(bobEmail, strongPassword, gatehouse.RoleMaintainer)
			one, two := s.browser(), s.browser()
			one.login(bobEmail, strongPassword, "/profile")
			totp := one.get("/profile/2fa/totp").body
			secret := between(totp, secretAttr, `"`)
			one.expect(one.post("/profile/2fa/totp", url.Values{"code": {code(t, secret, s.clock.Now())}, "secret": {secret},
				"qr": {between(totp, `name="qr" value="`, `"`)}}), http.StatusOK, "")
			one.expect(one.post("/profile/api-keys", url.Values{"name": {"deploy"}, "scopes": {"read"}, "expires": {"30"}}), http.StatusCreated, "")
			s.clock.Advance(30 * time.Second) // a code not used yet
			two.login(bobEmail, strongPassword, "/login/2fa")
			two.expect(two.post("/login/2fa", url.Values{"method": {"totp"}, "code": {code(t, secret, s.clock.Now())}}), http.StatusSeeOther, "/profile")
			team := &gatehouse.Team{Name: "Platform " + vp.name, Description: "The shared services"}
			if err := s.app.Store.CreateTeam(ctx, team, bob.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.app.Store.DB().ExecContext(ctx, "UPDATE mail_outbox SET status = 'failed', last_error = 'smtp: 550 no such mailbox' WHERE id = "+
				strconv.FormatInt(mail.ID, 10)); err != nil {
				t.Fatal(err)
			}

			c := s.chrome(vp)
			check := func(name string) {
				t.Helper()
				if c.scrollsSideways() {
					t.Errorf("%s scrolls sideways at %s", name, vp)
				}
				c.shot(name)
				for _, v := range browsertest.Axe(t, c.ctx) {
					t.Errorf("%s at %s: axe %s (%s): %s, at %v", name, vp, v.ID, v.Impact, v.Help, v.Nodes)
				}
			}
			success := func(want string) {
				t.Helper()
				if msg := c.text(".alert-success"); !strings.Contains(msg, want) {
					t.Fatalf("wanted %q, the page says %q%s", want, msg, c.where())
				}
			}
			c.login("root@example.com", strongPassword)
			c.waitPath("/profile")
			c.submit(".topbar a[href='/admin/users']")
			c.waitPath("/admin/users")
			check("admin-users")

			// Create a user by invitation (the default with mail on): the owner is mailed a
			// link to choose the password.
			c.submit("#new-user")
			c.waitPath("/admin/users/new")
			check("admin-user-new")
			invited := fmt.Sprintf("dave-%s@example.com", vp.name)
			c.fill("#email", invited)
			c.submit("form[action='/admin/users/new'] button[type=submit]")
			if got := c.text("#invited"); !strings.Contains(got, invited) {
				t.Fatalf("invitation: %q", got)
			}
			check("admin-user-invited")
			s.smtp.WaitFor(t, invited, 20*time.Second)
			// Create a user with a one-time password, shown once.
			c.open("/admin/users/new")
			newEmail := fmt.Sprintf("carol-%s@example.com", vp.name)
			c.fill("#email", newEmail)
			c.click("#access-password")
			c.submit("form[action='/admin/users/new'] button[type=submit]")
			if pw := c.text("#one-time-password"); len(pw) != 23 {
				t.Fatalf("one-time password %q", pw)
			}
			check("admin-user-created")

			// Bob's page: role, a session, a key, second factors, deactivation.
			c.open("/admin/users?q=" + url.QueryEscape(bobEmail))
			c.submit("#user-list a")
			path := fmt.Sprintf("/admin/users/%d", bob.ID)
			c.waitPath(path)
			check("admin-user")
			c.click("#role-viewer")
			c.submit("form[action$='/roles'] button[type=submit]")
			success("roles have been changed")
			c.submit("#user-sessions form button")
			success("The session has ended.")
			if n := btoi(one.signedIn()) + btoi(two.signedIn()); n != 1 {
				t.Fatalf("%d of bob's browsers signed in after ending one session", n)
			}
			c.submit("#user-api-keys form button")
			success("The API key has been revoked.")
			c.submit(fmt.Sprintf("form[action='%s/reset-2fa'] button", path))
			success("Every second factor of the account has been removed")
			c.submit("#toggle-active")
			success("deactivated")
			u, err := s.app.Store.UserByID(ctx, bob.ID)
			if err != nil || u.Active || !u.HasRole(gatehouse.RoleViewer) {
				t.Fatalf("bob after the console: %+v, %v", u, err)
			}
			if tf, err := s.app.Store.TwoFactorOf(ctx, bob.ID); err != nil || tf.TOTPSecret != "" {
				t.Fatalf("bob's app after the reset: %+v, %v", tf, err)
			}
			check("admin-user-deactivated")

			// Teams: add a member, the last owner stays, remove the member.
			c.open("/admin/teams?q=" + url.QueryEscape(team.Name))
			check("admin-teams")
			c.submit("#team-list a")
			teamPath := fmt.Sprintf("/admin/teams/%d", team.ID)
			c.waitPath(teamPath)
			c.fill("#add-email", newEmail)
			c.submit("#add-member button[type=submit]")
			success("is a member of the team now")
			c.submit(fmt.Sprintf("form[action='%s/members/%d/remove'] button", teamPath, bob.ID))
			if msg := c.text(".alert-error"); !strings.Contains(msg, "at least one owner") {
				t.Fatalf("removing the last owner: %q", msg)
			}
			check("admin-team")
			carol, err := s.app.Store.UserByEmail(ctx, newEmail)
			if err != nil {
				t.Fatal(err)
			}
			c.submit(fmt.Sprintf("form[action='%s/members/%d/remove'] button", teamPath, carol.ID))
			success("removed from the team")

			// The audit log about bob, and its export from the page's link.
			c.open("/admin/audit")
			c.fill("#subject", strconv.FormatInt(bob.ID, 10))
			c.submit("form[action='/admin/audit'] button[type=submit]")
			if txt := c.text("#audit-events"); !strings.Contains(txt, "user_deactivated") || !strings.Contains(txt, "two_factor_reset") {
				t.Fatalf("audit log about bob: %q", txt)
			}
			check("admin-audit")
			export, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`fetch(document.querySelector('#export-csv').href).then(r => r.text())`,
				chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(strings.NewReader(export)).ReadAll()
			if err != nil || len(rows) < 5 || !strings.Contains(export, "user_deactivated") {
				t.Fatalf("exported CSV (%v):\n%s", err, export)
			}
			for _, row := range rows[1:] {
				if row[4] != strconv.FormatInt(bob.ID, 10) {
					t.Fatalf("an exported event is not about bob: %v", row)
				}
			}

			c.open("/admin/system")
			check("admin-system")

			c.open("/admin/mail?status=failed")
			check("admin-mail")
			c.submit(fmt.Sprintf("form[action='/admin/mail/%d/retry'] button", mail.ID))
			success("queued again")
			s.clock.Advance(time.Minute)
		})
	}
}
