package sso_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/gatehousehq/gatehouse/internal/browsertest"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// The browser test drives Debian's Chromium (headless) through the DevTools protocol, as the
// web pages' browser tests do: it skips without the chromium binary unless
// GATEHOUSE_TEST_REQUIRE is set (scripts/test sets it and installs Chromium), when it fails.

type tab struct {
	t   *testing.T
	ctx context.Context
}

func newTab(t *testing.T) *tab {
	t.Helper()
	ctx, _ := browsertest.Start(t)
	return &tab{t: t, ctx: ctx}
}

func (c *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, steps...); err != nil {
		c.t.Fatalf("browser: %v%s", err, c.where())
	}
}

func (c *tab) where() string { return browsertest.Where(c.ctx, 1000) }

func (c *tab) open(url string) {
	c.t.Helper()
	c.do(chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
}

func (c *tab) click(sel string) {
	c.t.Helper()
	c.do(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

func (c *tab) fill(sel, value string) {
	c.t.Helper()
	c.do(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), value))
}

// waitAt waits until the browser shows url (it follows redirects and auto-posting forms of
// other sites on the way) with the page loaded.
func (c *tab) waitAt(url string) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		loc, err := chromedp.Run(c.ctx, chromedp.Location())
		if err == nil && (loc == url || strings.HasPrefix(loc, url+"?") || strings.HasPrefix(loc, url+"#")) {
			c.do(chromedp.WaitReady(chromedp.CSS("body")))
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the browser is not at %s%s", url, c.where())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitText waits until the element's text contains want.
func (c *tab) waitText(sel, want string) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS(sel)))
		if err == nil && strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s never showed %q%s", sel, want, c.where())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *tab) text(sel string) string {
	c.t.Helper()
	s, err := browsertest.Text(c.ctx, sel)
	if err != nil {
		c.t.Fatalf("text of %s: %v%s", sel, err, c.where())
	}
	return s
}

// TestBrowserSSO clicks each SSO button of the login page in Chromium and follows the provider
// through to the signed-in profile page: OIDC (the mock provider signs in at once), then SAML
// (after signing in at the IdP's own login form).
func TestBrowserSSO(t *testing.T) {
	s := startApp(t, testdb.New(t, config.DBSQLite), true)
	c := newTab(t)
	base := s.srv.URL

	s.oidc.QueueUser(&mockoidc.MockUser{Subject: "browser-1", Email: "erin@example.com", EmailVerified: true})
	c.open(base + "/login")
	c.click(`a[href="/sso/oidc/corp/login"]`)
	c.waitAt(base + "/profile")
	if got := c.text(".topbar"); !strings.Contains(got, "erin@example.com") {
		t.Fatalf("after OIDC the top bar says %q", got)
	}
	c.click(".topbar form[action='/logout'] button")
	c.waitAt(base + "/login")

	s.idp.addUser(t, "frank", "frank@example.com", "frank-password")
	c.open(s.idp.srv.URL + "/login")
	c.fill(`input[name="user"]`, "frank")
	c.fill(`input[name="password"]`, "frank-password")
	c.click(`input[type="submit"]`)
	c.waitText("body", `"UserName":"frank"`) // the IdP answers its login form with the session
	c.open(base + "/login")
	c.click(`a[href="/sso/saml/login"]`)
	c.waitAt(base + "/profile")
	if got := c.text(".topbar"); !strings.Contains(got, "frank@example.com") {
		t.Fatalf("after SAML the top bar says %q", got)
	}
	// The IdP (localhost) posted to the ACS (127.0.0.1) cross-site, without the SameSite=Lax
	// sign-in cookie; the ACS posted the form once more from its own page, with it.
	if n := strings.Count(s.logs.String(), "path=/sso/saml/acs"); n != 2 {
		t.Fatalf("%d posts to the ACS, want 2 (the IdP's and the bounce)\n%s", n, s.logs)
	}
}
