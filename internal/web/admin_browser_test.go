package web_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/browsertest"
	"github.com/gatehousehq/gatehouse/internal/config"
)

// The console in Chromium at 1280 and 375 px: each page is screenshotted, fits the width
// without a sideways scroll and passes axe-core's accessibility rules (no serious or critical
// violation); a role change, a deactivation and a mail retry are driven through the forms.
func TestBrowserAdminConsole(t *testing.T) {
	s := startSite(t, siteOptions{config: func(c *config.Config) {
		c.Security.TwoFactorRequired = "none"
		c.Settings = config.Effective(func(k string) string { return map[string]string{"DB_PASS": "secret"}[k] })
	}})
	s.createUser("root@example.com", strongPassword, gatehouse.RoleAdmin)
	ctx := context.Background()
	mail := &gatehouse.OutboxMail{To: "lost@example.com", Subject: "Confirm your email address", Text: "link"}
	if err := s.app.Store.EnqueueMail(ctx, mail, s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	team := &gatehouse.Team{Name: "Platform", Description: "The shared services"}
	if err := s.app.Store.CreateTeam(ctx, team, 1); err != nil { // the default admin owns it
		t.Fatal(err)
	}
	for _, vp := range []viewport{desktop, phone} {
		t.Run(vp.name, func(t *testing.T) {
			bob := s.createUser(fmt.Sprintf("bob-%s@example.com", vp.name), strongPassword, gatehouse.RoleViewer)
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
			c.login("root@example.com", strongPassword)
			c.waitPath("/profile")
			c.submit(".topbar a[href='/admin/users']")
			c.waitPath("/admin/users")
			check("admin-users")

			c.fill("#q", "bob-"+vp.name)
			c.submit("form[action='/admin/users'] button[type=submit]")
			c.submit("#user-list a")
			path := fmt.Sprintf("/admin/users/%d", bob.ID)
			c.waitPath(path)
			check("admin-user")

			c.click("#role-maintainer")
			c.submit("form[action$='/roles'] button[type=submit]")
			c.waitPath(path)
			if msg := c.text(".alert-success"); !strings.Contains(msg, "roles have been changed") {
				t.Fatalf("after saving roles: %q", msg)
			}
			c.submit("#toggle-active")
			c.waitPath(path)
			if u, err := s.app.Store.UserByID(ctx, bob.ID); err != nil || u.Active || !u.HasRole(gatehouse.RoleMaintainer) {
				t.Fatalf("bob after the console: %+v, %v", u, err)
			}
			check("admin-user-deactivated")

			c.open(fmt.Sprintf("/admin/audit?subject=%d", bob.ID))
			if txt := c.text("#audit-events"); !strings.Contains(txt, "user_deactivated") || !strings.Contains(txt, "role_change") {
				t.Fatalf("audit log about bob: %q", txt)
			}
			check("admin-audit")

			c.open("/admin/teams")
			check("admin-teams")
			c.submit("#team-list a")
			c.waitPath(fmt.Sprintf("/admin/teams/%d", team.ID))
			c.fill("#add-email", bob.Email)
			c.submit("#add-member button[type=submit]")
			if txt := c.text("#member-list"); !strings.Contains(txt, bob.Email) {
				t.Fatalf("members after adding bob: %q", txt)
			}
			check("admin-team")

			c.open("/admin/system")
			check("admin-system")

			c.open("/admin/mail?status=failed")
			check("admin-mail")
			c.submit(fmt.Sprintf("form[action='/admin/mail/%d/retry'] button", mail.ID))
			if msg := c.text(".alert-success"); !strings.Contains(msg, "queued again") {
				t.Fatalf("after retry: %q", msg)
			}
			s.clock.Advance(time.Minute)
		})
	}
}
