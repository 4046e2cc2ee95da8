package web_test

import (
	"strings"
	"testing"
)

// askCodeIn asks for a sign-in code from the login page's option, in the browser.
func (c *chrome) askCodeIn(email string) {
	c.t.Helper()
	c.open("/login")
	c.submit("#email-code-link")
	c.waitPath("/login/email")
	c.expectNoCredentialValues("the email code form")
	c.fill("#email", email)
	c.submit("form[action='/login/email'] button[type=submit]")
	c.waitPath("/login/email/code")
}

func (c *chrome) expectSignedInAs(email string) {
	c.t.Helper()
	c.waitPath("/profile")
	if !strings.Contains(eval[string](c, `document.querySelector('.topbar').textContent`), email) {
		c.t.Fatalf("not signed in as %s%s", email, c.where())
	}
}

// The "done means" for email: in Chromium, sign in with the code from a real mail (the
// in-process SMTP server) typed into the page, and with the mailed link, both in the browser
// that asked and, confirmed from another browser, finished in the one that asked.
func TestBrowserEmailSignIn(t *testing.T) {
	s := emailSignInSite(t, true)
	s.createUser("alice@example.com", strongPassword)
	c := s.chrome(desktop)

	// The option sits below the sign-in form, whose fields keep their order.
	c.open("/login")
	if !eval[bool](c, `document.querySelector('#email-code-link').getBoundingClientRect().top >= document.querySelector('form[action="/login"]').getBoundingClientRect().bottom`) {
		t.Fatal("\"Email me a sign-in code\" is not below the form")
	}
	if order := eval[string](c, `Array.from(document.querySelectorAll('form[action="/login"] input:not([type=hidden]), form[action="/login"] button')).map(e => e.id || e.type).join(",")`); order != "email,password,remember,submit" {
		t.Fatalf("form order = %s", order)
	}
	c.shot("login-with-email-code")

	// The code, typed into the page.
	c.askCodeIn("alice@example.com")
	code, _ := s.signInMail("alice@example.com")
	if got := eval[string](c, `document.querySelector('#code').autocomplete + " " + document.querySelector('#code').inputMode`); got != "one-time-code numeric" {
		t.Fatalf("code field: %q", got)
	}
	c.fill("#code", code)
	c.shot("email-code")
	c.submit("form[action='/login/email/code'] button.btn-primary")
	c.expectSignedInAs("alice@example.com")
	c.signOut()

	// The link, opened in the browser that asked: a button, then signed in.
	c.askCodeIn("alice@example.com")
	_, link := s.signInMail("alice@example.com")
	c.open(link)
	c.shot("email-link")
	c.submit("#email-link-signin")
	c.expectSignedInAs("alice@example.com")
	c.signOut()

	// The link, opened in another browser: it cannot sign in there; confirmed there, the
	// browser that asked continues.
	c.askCodeIn("alice@example.com")
	_, link = s.signInMail("alice@example.com")
	other := s.chrome(phone)
	other.open(link)
	if eval[bool](other, `!!document.querySelector('#email-link-signin')`) {
		t.Fatal("the link offers to sign in a browser that did not ask")
	}
	other.shot("email-link-elsewhere")
	other.submit("#email-link-approve")
	if txt := other.text("#email-link-done"); !strings.Contains(txt, "This browser is not signed in") {
		t.Fatalf("after confirming: %q", txt)
	}
	eval[bool](c, `document.querySelector('#other-device').open = true`)
	c.submit("#email-continue")
	c.expectSignedInAs("alice@example.com")
	other.open("/profile")
	other.waitPath("/login?next=%2Fprofile")
}
