package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/web"
	"github.com/gatehousehq/gatehouse/internal/webauthntest"
)

// api calls the JSON API with a bearer token and decodes the envelope's data into out.
func (s *site) api(method, path, bearer string, body, out any) int {
	s.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, s.srv.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(env.Data, out); err != nil {
			s.t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func (s *site) apiLogin(email, password string) string {
	s.t.Helper()
	var tk struct {
		AccessToken string `json:"access_token"`
	}
	if st := s.api("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": password}, &tk); st != http.StatusOK {
		s.t.Fatalf("API login: %d", st)
	}
	return tk.AccessToken
}

var invitationCode = regexp.MustCompile(`\b([A-Z2-9]{5}-[A-Z2-9]{5})\b`)

// The invitation email's link opens a page with a button; the POST joins the team. The page
// needs the invited account signed in, and sends the others to sign in first.
func TestInvitationPage(t *testing.T) {
	s := startSite(t, siteOptions{mail: true})
	s.createUser("owner@example.com", strongPassword, gatehouse.RoleMaintainer)
	s.createUser("bob@example.com", strongPassword)
	s.createUser("carol@example.com", strongPassword)
	owner := s.apiLogin("owner@example.com", strongPassword)
	var team struct {
		ID int64 `json:"id"`
	}
	if st := s.api("POST", "/api/v1/teams", owner, map[string]string{"name": "Platform"}, &team); st != http.StatusCreated {
		t.Fatalf("create team: %d", st)
	}
	invite := func(email string) (link, code string) {
		t.Helper()
		if st := s.api("POST", fmt.Sprintf("/api/v1/teams/%d/invitations", team.ID), owner, map[string]string{"email": email, "role": "member"}, nil); st != http.StatusCreated {
			t.Fatalf("invite: %d", st)
		}
		link = s.mailedLink(email)
		msg := s.smtp.Messages()
		for i := len(msg) - 1; i >= 0; i-- {
			if msg[i].To == email || strings.Contains(msg[i].To, email) {
				code = invitationCode.FindString(msg[i].Text)
				break
			}
		}
		return link, code
	}
	link, _ := invite("bob@example.com")
	if !strings.HasPrefix(link, "/invitations/accept?token=") {
		t.Fatalf("invitation link %s", link)
	}
	b := s.browser()
	r := b.expect(b.get(link), http.StatusSeeOther, "")
	if !strings.HasPrefix(r.location(), "/login?next=%2Finvitations%2Faccept%3Ftoken%3D") {
		t.Fatalf("anonymous visit sent to %s", r.location())
	}
	// Signing in comes back to the invitation.
	b.expect(b.post("/login", url.Values{"email": {"bob@example.com"}, "password": {strongPassword}, "next": {link}}), http.StatusSeeOther, link)
	page := b.expect(b.get(link), http.StatusOK, "")
	tok := strings.TrimPrefix(link, "/invitations/accept?token=")
	if !strings.Contains(page.body, `name="token" value="`+tok+`"`) {
		t.Fatalf("invitation page:\n%s", excerpt(page.body))
	}
	// Another account cannot use bob's invitation.
	c := s.browser()
	c.login("carol@example.com", strongPassword, "/profile")
	r = c.post("/invitations/accept", url.Values{"token": {tok}})
	if r.status != http.StatusNotFound || !strings.Contains(r.body, "This invitation is not valid") {
		t.Fatalf("someone else's invitation: %d\n%s", r.status, excerpt(r.body))
	}
	b.expect(b.post("/invitations/accept", url.Values{"token": {tok}}), http.StatusSeeOther, "/profile#teams")
	page = b.get("/profile")
	if !strings.Contains(page.body, "You have joined the team “Platform” as member.") || !strings.Contains(page.body, "<strong>Platform</strong>") {
		t.Fatalf("profile after joining:\n%s", excerpt(page.body))
	}
	b.expect(b.post("/invitations/accept", url.Values{"token": {tok}}), http.StatusNotFound, "")

	// The code from the email works on the page opened without a link.
	_, code := invite("carol@example.com")
	if code == "" {
		t.Fatal("no code in the invitation email")
	}
	c.expect(c.post("/invitations/accept", url.Values{"code": {strings.ToLower(code)}}), http.StatusSeeOther, "/profile#teams")
}

// SECURITY_TWO_FACTOR_REQUIRED: such an account is sent to set up a second factor and can do
// nothing else until it has one.
func TestTwoFactorSetupRequired(t *testing.T) {
	s := startSite(t, siteOptions{config: func(c *config.Config) { c.Security.TwoFactorRequired = "all" }})
	s.createUser("alice@example.com", strongPassword)
	b := s.browser()
	b.login("alice@example.com", strongPassword, "/profile")
	page := b.expect(b.get("/profile"), http.StatusOK, "")
	if !strings.Contains(page.body, "Your organisation requires two-factor authentication") || strings.Contains(page.body, `id="api-keys"`) {
		t.Fatalf("setup profile:\n%s", excerpt(page.body))
	}
	b.expect(b.get("/invitations/accept"), http.StatusSeeOther, "/profile#two-factor")
	b.expect(b.post("/profile/api-keys", url.Values{"name": {"x"}, "scopes": {"read"}, "expires": {"30"}}), http.StatusSeeOther, "/profile#two-factor")
	page = b.expect(b.get("/profile/2fa/totp"), http.StatusOK, "")
	secret := between(page.body, secretAttr, `"`)
	b.expect(b.post("/profile/2fa/totp", url.Values{"code": {code(t, secret, s.clock.Now())}}), http.StatusOK, "")
	page = b.expect(b.get("/profile"), http.StatusOK, "")
	if strings.Contains(page.body, "Your organisation requires two-factor authentication") || !strings.Contains(page.body, `id="api-keys"`) {
		t.Fatalf("profile after setup:\n%s", excerpt(page.body))
	}
	b.expect(b.get("/invitations/accept"), http.StatusOK, "")
}

var sixDigits = regexp.MustCompile(`\b([0-9]{6})\b`)

// Sign-in codes by email, and "don't ask again on this device".
func TestEmailCodesAndRememberDevice(t *testing.T) {
	s := startSite(t, siteOptions{mail: true})
	s.createUser("alice@example.com", strongPassword)
	b := s.browser()
	b.login("alice@example.com", strongPassword, "/profile")
	r := b.expect(b.post("/profile/2fa/email/enable", nil), http.StatusOK, "")
	if !strings.Contains(r.body, "Sign-in codes by email are on.") || strings.Count(r.body, "<li><code>") != 10 {
		t.Fatalf("enable email codes:\n%s", excerpt(r.body))
	}
	b.expect(b.post("/logout", nil), http.StatusSeeOther, "/login")
	drain := len(s.smtp.Messages())

	// Email is the only factor: the code goes out with the password step.
	b.login("alice@example.com", strongPassword, "/login/2fa")
	msg := waitMessage(t, s, "alice@example.com", drain, "sign-in code")
	c := sixDigits.FindString(msg.Text)
	page := b.expect(b.get("/login/2fa"), http.StatusOK, "")
	if !strings.Contains(page.body, `action="/login/2fa/email-code"`) || strings.Contains(page.body, `value="totp"`) {
		t.Fatalf("2fa page:\n%s", excerpt(page.body))
	}
	// Asking for another code at once is refused politely.
	r = b.post("/login/2fa/email-code", nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("resend at once: %d %v", r.status, r.header)
	}
	b.expect(b.post("/login/2fa", url.Values{"method": {"email"}, "code": {c}, "remember_device": {"1"}}), http.StatusSeeOther, "/profile")
	u, _ := url.Parse(s.srv.URL)
	var device string
	for _, ck := range b.c.Jar.Cookies(u) {
		if ck.Name == "gatehouse_device" {
			device = ck.Value
		}
	}
	if device == "" {
		t.Fatal("no remember-device cookie")
	}
	b.expect(b.post("/logout", nil), http.StatusSeeOther, "/login")
	// This browser is remembered: no second step.
	b.login("alice@example.com", strongPassword, "/profile")
	b.expect(b.post("/logout", nil), http.StatusSeeOther, "/login")
	// Another browser is not.
	o := s.browser()
	o.login("alice@example.com", strongPassword, "/login/2fa")
}

func waitMessage(t *testing.T, s *site, to string, after int, subject string) mailMessage {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		msgs := s.smtp.Messages()
		for i := after; i < len(msgs); i++ {
			if strings.Contains(msgs[i].To, to) && strings.Contains(msgs[i].Subject, subject) {
				return mailMessage{Subject: msgs[i].Subject, Text: msgs[i].Text}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no message %q to %s", subject, to)
	return mailMessage{}
}

type mailMessage struct{ Subject, Text string }

// Security keys through the pages' endpoints, answered by the software authenticator (the
// browser test does the same with Chromium's virtual one).
func TestSecurityKeyPages(t *testing.T) {
	s := startSite(t, siteOptions{})
	s.createUser("alice@example.com", strongPassword)
	key := webauthntest.New("https://gatehouse.test")
	b := s.browser()
	b.login("alice@example.com", strongPassword, "/profile")
	r := b.expect(b.post("/profile/2fa/webauthn/options", nil), http.StatusOK, "")
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("options: %v", r.header)
	}
	cred, err := key.Create([]byte(r.body))
	if err != nil {
		t.Fatal(err)
	}
	r = b.expect(b.post("/profile/2fa/webauthn", url.Values{"name": {"YubiKey <5>"}, "credential": {string(cred)}}), http.StatusOK, "")
	if !strings.Contains(r.body, "Your security key has been added.") || strings.Count(r.body, "<li><code>") != 10 {
		t.Fatalf("add key:\n%s", excerpt(r.body))
	}
	page := b.get("/profile")
	if !strings.Contains(page.body, "<strong>YubiKey &lt;5&gt;</strong>") {
		t.Fatalf("key not listed:\n%s", excerpt(page.body))
	}
	b.expect(b.post("/logout", nil), http.StatusSeeOther, "/login")

	b.login("alice@example.com", strongPassword, "/login/2fa")
	page = b.get("/login/2fa")
	if !strings.Contains(page.body, `id="webauthn-login-form"`) || !strings.Contains(page.body, `src="/static/webauthn.js"`) {
		t.Fatalf("2fa page without the security key:\n%s", excerpt(page.body))
	}
	r = b.expect(b.post("/login/2fa/webauthn/options", nil), http.StatusOK, "")
	assertion, err := key.Get([]byte(r.body))
	if err != nil {
		t.Fatal(err)
	}
	b.expect(b.post("/login/2fa", url.Values{"method": {"webauthn"}, "assertion": {string(assertion)}}), http.StatusSeeOther, "/profile")

	// Stale sign-in: the script gets the address of the password prompt instead of options.
	s.clock.Advance(25 * time.Hour)
	r = b.post("/profile/2fa/webauthn/options", nil)
	if r.status != http.StatusForbidden || !strings.Contains(r.body, `"verify":"/verify?next=%2Fprofile%23security-keys"`) {
		t.Fatalf("stale options: %d %s", r.status, r.body)
	}
	// Removing needs the password.
	page = b.get("/profile")
	id := between(page.body, `action="/profile/2fa/webauthn/`, `/remove"`)
	if r := b.post("/profile/2fa/webauthn/"+id+"/remove", url.Values{"password": {"wrong"}}); r.status != http.StatusForbidden {
		t.Fatalf("remove with a wrong password: %d", r.status)
	}
	b.expect(b.post("/profile/2fa/webauthn/"+id+"/remove", url.Values{"password": {strongPassword}}), http.StatusSeeOther, "/profile#security-keys")
	// Without a pending second step, the login options answer 401 JSON.
	o := s.browser()
	if r := o.post("/login/2fa/webauthn/options", nil); r.status != http.StatusUnauthorized {
		t.Fatalf("options without a pending login: %d", r.status)
	}
	o.expect(o.get("/login/2fa"), http.StatusSeeOther, "/login")
}

type buttons []web.SSOButton

func (b buttons) Buttons(context.Context) []web.SSOButton { return b }

// The login page shows the single sign-on buttons it is given, and EstablishSession signs a
// browser in from a handler outside the pages' middleware (as single sign-on callbacks may be).
func TestSSOButtonsAndEstablishSession(t *testing.T) {
	s := startSite(t, siteOptions{})
	s.createUser("alice@example.com", strongPassword)
	pages, err := web.New(web.Options{Auth: s.app.Auth, Teams: s.app.Teams, Sessions: s.app.Store.WebSessions(), Now: s.clock.Now, BrandName: "Gatehouse",
		SSO: buttons{{Label: "Sign in with Example <IdP>", URL: "/sso/example/start"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(pages)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if !strings.Contains(string(body), `<a class="btn btn-secondary btn-block" href="/sso/example/start">Sign in with Example &lt;IdP&gt;</a>`) {
		t.Fatalf("no SSO button:\n%s", body)
	}
	// A next parameter travels with the SSO buttons (checked as for the form: only local paths).
	for next, want := range map[string]string{
		"/profile#sessions":     `href="/sso/example/start?next=%2Fprofile%23sessions"`,
		"https://evil.example/": `href="/sso/example/start">`,
	} {
		resp, err := srv.Client().Get(srv.URL + "/login?next=" + url.QueryEscape(next))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if !strings.Contains(string(body), want) {
			t.Fatalf("next %q: no %s in\n%s", next, want, body)
		}
	}

	// A callback outside the middleware opens the page session itself.
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pair, err := s.app.Auth.Login(r.Context(), auth.LoginInput{Email: "alice@example.com", Password: strongPassword})
		if err == nil {
			err = pages.EstablishSession(w, r, pair, true)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/profile", http.StatusSeeOther)
	}))
	defer callback.Close()
	b := s.browser()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, callback.URL, nil)
	cresp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = cresp.Body.Close()
	var cookie *http.Cookie
	for _, c := range cresp.Cookies() {
		if c.Name == "gatehouse_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.MaxAge <= 0 {
		t.Fatalf("callback cookie = %+v", cookie)
	}
	u, _ := url.Parse(s.srv.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: cookie.Name, Value: cookie.Value, Path: "/"}})
	page := b.expect(b.get("/profile"), http.StatusOK, "")
	if !strings.Contains(page.body, "alice@example.com") {
		t.Fatal("the session made outside the middleware does not sign in")
	}
}
