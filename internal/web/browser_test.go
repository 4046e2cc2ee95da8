package web_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
)

// The login page in a real browser, at both sizes: the logo's rendered height (300px wide
// screen, smaller on a phone) above the form, empty credential fields on load, after a
// failure and whatever the query says, the forgot link with SMTP, and signing in.
func TestBrowserLogin(t *testing.T) {
	s := startSite(t, siteOptions{mail: true, localhost: true})
	s.createUser("alice@example.com", strongPassword)
	for _, vp := range []viewport{desktop, phone} {
		t.Run(vp.name, func(t *testing.T) {
			c := s.chrome(vp)
			c.open("/login")
			h := eval[float64](c, `document.querySelector('img.brand-logo-hero').getBoundingClientRect().height`)
			loaded := eval[bool](c, `(() => { const i = document.querySelector('img.brand-logo-hero'); return i.complete && i.naturalWidth > 0 })()`)
			if !loaded {
				t.Fatal("the logo did not load")
			}
			switch vp {
			case desktop:
				if math.Abs(h-300) > 0.5 {
					t.Fatalf("logo height at %s = %.1fpx, want 300px", vp, h)
				}
			case phone:
				if h >= 300 || h < 48 {
					t.Fatalf("logo height at %s = %.1fpx, want smaller than 300px", vp, h)
				}
			}
			// Above the form, and nothing sticks out sideways.
			if above := eval[bool](c, `document.querySelector('img.brand-logo-hero').getBoundingClientRect().bottom <= document.querySelector('form[action="/login"]').getBoundingClientRect().top`); !above {
				t.Fatal("the logo is not above the form")
			}
			if wide := c.scrollsSideways(); wide {
				t.Fatal("the page scrolls sideways")
			}
			c.expectNoCredentialValues("login page")
			if got := eval[string](c, `document.querySelector('#password').type + " " + document.querySelector('#email').type + " " + document.querySelector('#email').autocomplete + " " + document.querySelector('#password').autocomplete`); got != "password email username webauthn current-password" { // webauthn: passkey autofill (issue #19)
				t.Fatalf("input types = %q", got)
			}
			if !eval[bool](c, `!!document.querySelector('#forgot-link') && document.querySelector('#forgot-link').offsetParent !== null`) {
				t.Fatal("no visible forgot-password link with SMTP configured")
			}
			// Keyboard order: email, password, remember me, then the button.
			if order := eval[string](c, `Array.from(document.querySelectorAll('form[action="/login"] input:not([type=hidden]), form[action="/login"] button')).map(e => e.id || e.type).join(",")`); order != "email,password,remember,submit" {
				t.Fatalf("form order = %s", order)
			}
			c.shot("login")

			// Query parameters never fill the form.
			c.open("/login?email=alice%40example.com&password=" + strongPassword + "&username=alice")
			c.expectNoCredentialValues("login page with a query")

			// A wrong password: the generic message, empty fields.
			c.fill("#email", "alice@example.com")
			c.fill("#password", "not the password")
			c.submit("form[action='/login'] button[type=submit]")
			if msg := c.text("#form-error"); msg != "Invalid email or password." {
				t.Fatalf("error = %q", msg)
			}
			c.expectNoCredentialValues("login page after a failure")
			c.shot("login-error")

			// An unknown account: the same message.
			c.fill("#email", "nobody@example.com")
			c.fill("#password", "not the password")
			c.submit("form[action='/login'] button[type=submit]")
			if msg := c.text("#form-error"); msg != "Invalid email or password." {
				t.Fatalf("error for an unknown account = %q", msg)
			}

			c.login("alice@example.com", strongPassword)
			c.waitPath("/profile")
			if !strings.Contains(eval[string](c, `document.querySelector('.topbar').textContent`), "alice@example.com") {
				t.Fatal("not signed in")
			}
			c.shot("profile")
			c.signOut()
		})
	}
}

// Without SMTP the forgot link is not there.
func TestBrowserNoForgotLinkWithoutSMTP(t *testing.T) {
	s := startSite(t, siteOptions{localhost: true})
	c := s.chrome(desktop)
	c.open("/login")
	if eval[bool](c, `!!document.querySelector('a[href="/forgot-password"]')`) {
		t.Fatal("forgot link without SMTP")
	}
	c.expectNoCredentialValues("login page")
}

// Forgot password → the real email from the test SMTP server → reset → sign in.
func TestBrowserForgotAndReset(t *testing.T) {
	s := startSite(t, siteOptions{mail: true, localhost: true})
	s.createUser("alice@example.com", strongPassword)
	c := s.chrome(desktop)
	c.open("/login")
	c.submit("#forgot-link")
	c.waitPath("/forgot-password")
	c.fill("#email", "alice@example.com")
	c.submit("form[action='/forgot-password'] button")
	if h := c.text("h1"); h != "Check your email" {
		t.Fatalf("after forgot: %q", h)
	}
	link := s.mailedLink("alice@example.com")
	c.open(link)
	c.expectNoCredentialValues("reset page")
	c.fill("#new_password", strongPassword2)
	c.fill("#confirm_password", strongPassword2)
	c.submit("form[action='/reset-password'] button")
	c.waitPath("/login")
	if msg := c.text(".alert-success"); !strings.Contains(msg, "Your password has been changed") {
		t.Fatalf("flash = %q", msg)
	}
	c.login("alice@example.com", strongPassword2)
	c.waitPath("/profile")
}

// Change the password on the profile, then sign in with the new one.
func TestBrowserChangePassword(t *testing.T) {
	s := startSite(t, siteOptions{localhost: true})
	s.createUser("alice@example.com", strongPassword)
	c := s.chrome(desktop)
	c.login("alice@example.com", strongPassword)
	c.waitPath("/profile")
	c.fill("#current_password", strongPassword)
	c.fill("#new_password", strongPassword2)
	c.fill("#confirm_password", strongPassword2)
	c.submit("form[action='/profile/password'] button")
	c.waitPath("/profile")
	if msg := c.text(".alert-success"); !strings.Contains(msg, "Your password has been changed") {
		t.Fatalf("flash = %q", msg)
	}
	c.expectNoCredentialValues("profile after the change")
	c.signOut()
	c.login("alice@example.com", strongPassword)
	if msg := c.text("#form-error"); msg != "Invalid email or password." {
		t.Fatalf("old password: %q", msg)
	}
	c.login("alice@example.com", strongPassword2)
	c.waitPath("/profile")
}

// The default admin is made to change its password before anything else.
func TestBrowserDefaultAdmin(t *testing.T) {
	s := startSite(t, siteOptions{localhost: true})
	c := s.chrome(desktop)
	c.login("admin@localhost.local", "admin123")
	c.waitPath("/change-password")
	c.expectNoCredentialValues("change-password page")
	c.open("/profile")
	c.waitPath("/change-password")
	c.fill("#current_password", "admin123")
	c.fill("#new_password", strongPassword)
	c.fill("#confirm_password", strongPassword)
	c.submit("form[action='/change-password'] button")
	c.waitPath("/profile")
	if !strings.Contains(eval[string](c, `document.querySelector('.topbar').textContent`), "admin@localhost.local") {
		t.Fatal("not on the admin's profile")
	}
}

// An authenticator app: enrol from the secret the page shows, then sign in with a code.
func TestBrowserTOTP(t *testing.T) {
	s := startSite(t, siteOptions{localhost: true})
	s.createUser("alice@example.com", strongPassword)
	c := s.chrome(desktop)
	c.login("alice@example.com", strongPassword)
	c.waitPath("/profile")
	c.submit("a[href='/profile/2fa/totp']")
	c.waitPath("/profile/2fa/totp")
	if !eval[bool](c, `(() => { const i = document.querySelector('img.qr'); return i.complete && i.naturalWidth > 0 })()`) {
		t.Fatal("the QR code did not load (CSP img-src must allow data:)")
	}
	secret := eval[string](c, `document.querySelector('#totp-secret').dataset.secret`)
	c.fill("#code", code(t, secret, s.clock.Now()))
	c.submit("form[action='/profile/2fa/totp'] button[type=submit]")
	if n := eval[int](c, `document.querySelectorAll('#recovery-codes li').length`); n != 10 {
		t.Fatalf("%d recovery codes shown", n)
	}
	c.open("/profile")
	c.signOut()

	s.clock.Advance(30 * time.Second) // a new code (the enrolment's is spent)
	c.login("alice@example.com", strongPassword)
	c.waitPath("/login/2fa")
	c.fill("#totp-code", code(t, secret, s.clock.Now()))
	c.submit("#totp form button[type=submit]")
	c.waitPath("/profile")
}

// A security key through Chromium's virtual authenticator: add it on the profile (the page's
// script runs navigator.credentials.create), then sign in with it (navigator.credentials.get).
func TestBrowserSecurityKey(t *testing.T) {
	s := startSite(t, siteOptions{localhost: true})
	s.createUser("alice@example.com", strongPassword)
	c := s.chrome(desktop)
	c.open("/login")
	c.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportUsb,
				HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
			},
		})
		return err
	}))
	c.login("alice@example.com", strongPassword)
	c.waitPath("/profile")
	c.do(chromedp.WaitVisible(chromedp.CSS("#webauthn-register-form")))
	c.fill("#webauthn-name", "Virtual key")
	c.submit("#webauthn-register") // the script runs the ceremony, then posts the form
	if n := eval[int](c, `document.querySelectorAll('#recovery-codes li').length`); n != 10 {
		t.Fatalf("%d recovery codes after adding the key%s", n, c.where())
	}
	c.open("/profile")
	if !strings.Contains(c.text("#security-keys"), "Virtual key") {
		t.Fatalf("key not listed: %s", c.text("#security-keys"))
	}
	c.signOut()

	c.login("alice@example.com", strongPassword)
	c.waitPath("/login/2fa")
	c.do(chromedp.WaitVisible(chromedp.CSS("#webauthn-login")))
	c.shot("login-2fa-security-key")
	c.submit("#webauthn-login")
	c.waitPath("/profile")
}

// TestBrowserScreenshots saves every page at both sizes for people to look at (see
// GATEHOUSE_TEST_ARTIFACTS), checking on the way that each renders without a sideways scroll.
func TestBrowserScreenshots(t *testing.T) {
	s := startSite(t, siteOptions{mail: true, localhost: true, config: func(c *config.Config) { c.Security.Registerable = true }})
	s.createUser("alice@example.com", strongPassword, gatehouse.RoleMaintainer)
	s.createUser("bob@example.com", strongPassword)

	// Bob has an authenticator app and codes by email, so his second step shows both.
	hb := s.browser()
	hb.login("bob@example.com", strongPassword, "/profile")
	page := hb.get("/profile/2fa/totp")
	bobSecret := between(page.body, secretAttr, `"`)
	hb.post("/profile/2fa/totp", map[string][]string{"code": {code(t, bobSecret, s.clock.Now())}})
	hb.post("/profile/2fa/email/enable", nil)

	for _, vp := range []viewport{desktop, phone} {
		t.Run(vp.name, func(t *testing.T) {
			c := s.chrome(vp)
			shot := func(name string) {
				t.Helper()
				if c.scrollsSideways() {
					t.Errorf("%s scrolls sideways at %s", name, vp)
				}
				c.shot(name)
			}
			c.open("/login")
			shot("login")
			c.open("/forgot-password")
			shot("forgot-password")
			c.fill("#email", "nobody@example.com")
			c.submit("form[action='/forgot-password'] button")
			shot("forgot-password-sent")
			c.open("/reset-password?token=EXAMPLE")
			shot("reset-password")
			c.open("/reset-password")
			shot("reset-password-code")
			c.open("/confirm?token=EXAMPLE")
			shot("confirm")
			c.open("/register")
			shot("register")
			c.open("/no-such-page")
			shot("not-found")

			// The second step with an app and email codes.
			s.clock.Advance(30 * time.Second)
			c.login("bob@example.com", strongPassword)
			c.waitPath("/login/2fa")
			shot("login-2fa")
			c.fill("#totp-code", code(t, bobSecret, s.clock.Now()))
			c.submit("#totp form button[type=submit]")
			c.waitPath("/profile")
			shot("profile-two-factor-on")
			c.signOut()

			c.login("alice@example.com", strongPassword)
			c.waitPath("/profile")
			shot("profile")
			c.open("/verify?next=%2Fprofile")
			shot("verify")
			c.open("/profile/2fa/totp")
			shot("totp-setup")
			c.open("/invitations/accept")
			shot("invitation")
			c.open("/profile")
			c.fill("#key-name", "deploy script")
			c.submit("form[action='/profile/api-keys'] button[type=submit]")
			shot("api-key-created")
			c.open("/profile")
			c.submit("form[action='/profile/2fa/email/enable'] button")
			shot("recovery-codes")
			c.open("/profile")
			// The removal form is in a closed <details>: open it as a person would.
			c.click("details.remove:has(form[action='/profile/2fa/email/disable']) summary")
			shot("profile-remove-factor")
			c.fill("form[action='/profile/2fa/email/disable'] input[name=password]", strongPassword)
			c.submit("form[action='/profile/2fa/email/disable'] button")
			c.waitPath("/profile")
			c.signOut()

			c.login("admin@localhost.local", "admin123")
			c.waitPath("/change-password")
			shot("change-password")
			c.open("/login")
			c.do(chromedp.WaitVisible(chromedp.CSS("body")))
		})
	}
}
