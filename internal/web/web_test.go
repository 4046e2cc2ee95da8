package web_test

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
)

const (
	strongPassword  = "correct horse battery staple 42"
	strongPassword2 = "violet tangerine submarine orchestra 7"
)

const wantCSP = "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"

// Every page carries the security headers; account pages and forms are never cached; HSTS
// only over TLS.
func TestSecurityHeaders(t *testing.T) {
	s := startSite(t, siteOptions{mail: true})
	b := s.browser()
	for _, path := range []string{"/login", "/forgot-password", "/reset-password?token=x", "/confirm", "/nope"} {
		r := b.get(path)
		h := r.header
		if h.Get("Content-Security-Policy") != wantCSP {
			t.Errorf("%s: CSP %q", path, h.Get("Content-Security-Policy"))
		}
		if h.Get("Referrer-Policy") != "same-origin" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", path, h)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over plain HTTP", path)
		}
		if !strings.Contains(h.Get("Cache-Control"), "no-store") {
			t.Errorf("%s: Cache-Control %q", path, h.Get("Cache-Control"))
		}
		if !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Errorf("%s: Content-Type %q", path, h.Get("Content-Type"))
		}
	}
	// The API keeps its own envelope and headers; an unknown non-API path is an HTML 404.
	if r := b.get("/api/v1/nope"); r.status != http.StatusNotFound || !strings.Contains(r.header.Get("Content-Type"), "json") {
		t.Fatalf("/api/v1/nope: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if r := b.get("/healthz"); r.status != http.StatusOK || !strings.Contains(r.header.Get("Content-Type"), "json") {
		t.Fatalf("/healthz: %d %s", r.status, r.header.Get("Content-Type"))
	}
	r := b.expect(b.get("/no/such/page"), http.StatusNotFound, "")
	if !strings.Contains(r.body, "Page not found") {
		t.Fatalf("404 page:\n%s", r.body)
	}
	// Static files and the logo are cacheable, with the content type of what they are.
	if r := b.get("/static/app.css"); r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") || !strings.Contains(r.header.Get("Cache-Control"), "max-age") {
		t.Fatalf("app.css: %d %v", r.status, r.header)
	}
	logo := b.get("/logo")
	if logo.status != 200 || logo.header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(logo.body, ">Gatehouse</text>") {
		t.Fatalf("logo: %d %v\n%s", logo.status, logo.header, logo.body)
	}
	if !strings.Contains(logo.header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("logo CSP: %q", logo.header.Get("Content-Security-Policy"))
	}
	b.expect(b.do("GET", "/logo", nil, http.Header{"If-None-Match": {logo.header.Get("ETag")}}), http.StatusNotModified, "")
	b.expect(b.get("/"), http.StatusSeeOther, "/login")

	// Over TLS: HSTS, and the cookie is Secure with the __Host- prefix.
	ts := startSite(t, siteOptions{tls: true})
	tb := ts.browser()
	r = tb.get("/login")
	if r.header.Get("Strict-Transport-Security") == "" {
		t.Fatal("no HSTS over TLS")
	}
}

// The login page follows the standard to the letter: email (type email, autocomplete
// username, plus webauthn for passkey autofill), masked password (current-password), remember me, the forgot link only with SMTP,
// and never a value in a credential field — not from the query, not after a failure.
func TestLoginPage(t *testing.T) {
	s := startSite(t, siteOptions{mail: true})
	s.createUser("alice@example.com", strongPassword)
	b := s.browser()
	r := b.expect(b.get("/login?email=alice@example.com&password=secret&username=alice"), http.StatusOK, "")
	for _, want := range []string{
		`<input id="email" name="email" type="email" autocomplete="username webauthn"`, // passkeys in the autofill (issue #19)
		`<input id="password" name="password" type="password" autocomplete="current-password"`,
		`<input id="remember" name="remember" type="checkbox"`,
		`<label for="remember">Remember me</label>`,
		`href="/forgot-password"`,
		`<img class="brand-logo brand-logo-hero" src="/logo" alt="Gatehouse">`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	expectNoCredentialValues(t, r.body)
	if strings.Contains(r.body, "alice") || strings.Contains(r.body, "secret") {
		t.Fatal("a query value was put on the page")
	}

	// A wrong password and an unknown account get the same generic answer, empty fields.
	wrong := b.post("/login", url.Values{"email": {"alice@example.com"}, "password": {"wrong password"}})
	unknown := b.post("/login", url.Values{"email": {"nobody@example.com"}, "password": {"wrong password"}})
	for _, r := range []reply{wrong, unknown} {
		b.expect(r, http.StatusUnauthorized, "")
		if !strings.Contains(r.body, "Invalid email or password.") {
			t.Fatalf("no generic error:\n%s", r.body)
		}
		expectNoCredentialValues(t, r.body)
		if strings.Contains(r.body, "alice@example.com") || strings.Contains(r.body, "nobody@example.com") || strings.Contains(r.body, "wrong password") {
			t.Fatal("the failed login shows what was typed")
		}
	}
	if strip(wrong.body) != strip(unknown.body) {
		t.Fatal("a wrong password and an unknown account get different pages")
	}
	// Without SMTP there is no forgot link, and the recovery pages do not exist.
	ns := startSite(t, siteOptions{})
	nb := ns.browser()
	if r := nb.get("/login"); strings.Contains(r.body, "/forgot-password") {
		t.Fatal("forgot link without SMTP")
	}
	nb.expect(nb.get("/forgot-password"), http.StatusNotFound, "")
	nb.expect(nb.get("/reset-password?token=x"), http.StatusNotFound, "")
	nb.expect(nb.get("/register"), http.StatusNotFound, "")
}

func strip(s string) string { return strings.Join(strings.Fields(s), " ") }

// expectNoCredentialValues fails when an email, password or username input has a value.
func expectNoCredentialValues(t *testing.T, page string) {
	t.Helper()
	for name, v := range inputValues(page, "email", "password") {
		if v != "" {
			t.Fatalf("input %s has the value %q", name, v)
		}
	}
	for _, m := range inputTag.FindAllString(page, -1) {
		if n := attr(m, "name"); (n == "email" || n == "password" || n == "username") && attr(m, "value") != "" {
			t.Fatalf("input %s has a value: %s", n, m)
		}
	}
}

// Signing in renews the session token (no fixation); the cookie is HttpOnly and SameSite=Lax,
// ends with the browser without "remember me" and lasts SECURITY_REMEMBER_DURATION with it;
// signing out revokes the auth session.
func TestSessionCookie(t *testing.T) {
	s := startSite(t, siteOptions{mail: true})
	u := s.createUser("alice@example.com", strongPassword)
	b := s.browser()
	// A failed attempt leaves an anonymous session (its flash) to compare with.
	b.post("/login", url.Values{"email": {"alice@example.com"}, "password": {"nope"}})
	b.expect(b.post("/logout", nil), http.StatusSeeOther, "/login") // creates a session with a flash
	before := sessionCookie(t, b, "gatehouse_session")

	r := b.expect(b.post("/login", url.Values{"email": {"alice@example.com"}, "password": {strongPassword}}), http.StatusSeeOther, "/profile")
	c := setCookie(t, r, "gatehouse_session")
	if c.Value == "" || c.Value == before {
		t.Fatalf("the session token was not renewed at login: %q -> %q", before, c.Value)
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Path != "/" || c.MaxAge != 0 || !c.Expires.IsZero() {
		t.Fatalf("session cookie = %+v (want HttpOnly, Lax, not Secure over HTTP, no expiry)", c)
	}
	if !strings.Contains(r.header.Get("Cache-Control"), "no-store") && r.header.Get("Cache-Control") == "" {
		t.Fatal("no Cache-Control on the login answer")
	}
	page := b.expect(b.get("/profile"), http.StatusOK, "")
	if !strings.Contains(page.body, "alice@example.com") || page.header.Get("Cache-Control") != "no-store" && !strings.Contains(page.header.Get("Cache-Control"), "no-store") {
		t.Fatalf("profile: %v\n%s", page.header, excerpt(page.body))
	}
	// The database holds a hash of the token, never the token.
	var n int
	if err := s.app.Store.DB().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM web_sessions WHERE token_hash = ?", c.Value).Scan(&n); err != nil || n != 0 {
		t.Fatalf("raw token stored: %d %v", n, err)
	}
	sessions, err := s.app.Auth.Sessions(context.Background(), &gatehouse.Principal{User: u})
	if err != nil || len(sessions) != 1 {
		t.Fatalf("auth sessions = %v, %v", sessions, err)
	}
	sid := sessions[0].ID

	b.expect(b.post("/logout", nil), http.StatusSeeOther, "/login")
	if _, err := s.app.Auth.AuthenticateSession(context.Background(), sid); err == nil {
		t.Fatal("the auth session survived logout")
	}
	b.expect(b.get("/profile"), http.StatusSeeOther, "/login?next=%2Fprofile")

	// Remember me: a persistent cookie for SECURITY_REMEMBER_DURATION (30 days).
	r = b.expect(b.post("/login", url.Values{"email": {"alice@example.com"}, "password": {strongPassword}, "remember": {"1"}}), http.StatusSeeOther, "/profile")
	c = setCookie(t, r, "gatehouse_session")
	if d := time.Duration(c.MaxAge) * time.Second; d < 29*24*time.Hour || d > 31*24*time.Hour {
		t.Fatalf("remembered cookie Max-Age = %s, want ~30 days", d)
	}

	// COOKIE_SECURE=true: Secure and __Host- even over plain HTTP (a TLS proxy we do not know).
	ss := startSite(t, siteOptions{config: func(c *config.Config) { c.Web.CookieSecure = "true" }})
	ss.createUser("bob@example.com", strongPassword)
	sb := ss.browser()
	r = sb.expect(sb.post("/login", url.Values{"email": {"bob@example.com"}, "password": {strongPassword}}), http.StatusSeeOther, "/profile")
	if c := setCookie(t, r, "__Host-gatehouse_session"); !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" {
		t.Fatalf("secure cookie = %+v", c)
	}
}

func setCookie(t *testing.T, r reply, name string) *http.Cookie {
	t.Helper()
	for _, line := range r.header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err == nil && c.Name == name {
			return c
		}
	}
	t.Fatalf("no Set-Cookie %s in %v", name, r.header.Values("Set-Cookie"))
	return nil
}

func sessionCookie(t *testing.T, b *browser, name string) string {
	t.Helper()
	u, _ := url.Parse(b.site.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// COOKIE_SECURE=auto: Secure behind a trusted proxy that says https, not when an untrusted
// client says so.
func TestCookieSecureAuto(t *testing.T) {
	s := startSite(t, siteOptions{config: func(c *config.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	}})
	s.createUser("alice@example.com", strongPassword)
	b := s.browser()
	creds := url.Values{"email": {"alice@example.com"}, "password": {strongPassword}}
	r := b.do("POST", "/login", creds, http.Header{"X-Forwarded-Proto": {"https"}})
	b.expect(r, http.StatusSeeOther, "/profile")
	if c := setCookie(t, r, "__Host-gatehouse_session"); !c.Secure {
		t.Fatalf("cookie behind a trusted TLS proxy = %+v", c)
	}
	if r.header.Get("Strict-Transport-Security") == "" {
		t.Fatal("no HSTS behind a trusted TLS proxy")
	}

	u := startSite(t, siteOptions{}) // no trusted proxies
	u.createUser("alice@example.com", strongPassword)
	ub := u.browser()
	r = ub.do("POST", "/login", creds, http.Header{"X-Forwarded-Proto": {"https"}})
	if c := setCookie(t, r, "gatehouse_session"); c.Secure {
		t.Fatal("an untrusted X-Forwarded-Proto made the cookie Secure")
	}
	if r.header.Get("Strict-Transport-Security") != "" {
		t.Fatal("an untrusted X-Forwarded-Proto turned on HSTS")
	}
}

// Every POST is refused when the browser says it comes from another site.
func TestCrossSiteFormsRefused(t *testing.T) {
	s := startSite(t, siteOptions{mail: true})
	s.createUser("alice@example.com", strongPassword)
	b := s.browser()
	creds := url.Values{"email": {"alice@example.com"}, "password": {strongPassword}}
	for _, h := range []http.Header{
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Sec-Fetch-Site": {"same-site"}},
		{"Origin": {"https://evil.example"}},
	} {
		r := b.do("POST", "/login", creds, h)
		b.expect(r, http.StatusForbidden, "")
		if !strings.Contains(r.body, "sent from another site") || len(r.header.Values("Set-Cookie")) > 0 {
			t.Fatalf("refusal page for %v:\n%s", h, excerpt(r.body))
		}
	}
	// Same-origin posts pass.
	b.expect(b.do("POST", "/login", creds, http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {s.srv.URL}}), http.StatusSeeOther, "/profile")
	// Signed in, a cross-site logout or password change does nothing.
	b.expect(b.do("POST", "/logout", url.Values{}, http.Header{"Sec-Fetch-Site": {"cross-site"}}), http.StatusForbidden, "")
	b.expect(b.do("POST", "/profile/sessions/revoke-all", url.Values{}, http.Header{"Sec-Fetch-Site": {"cross-site"}}), http.StatusForbidden, "")
	b.expect(b.get("/profile"), http.StatusOK, "")
}

// next sends a signed-in browser on only to a path of this server.
func TestNextRedirects(t *testing.T) {
	s := startSite(t, siteOptions{})
	s.createUser("alice@example.com", strongPassword)
	for next, want := range map[string]string{
		"/profile#api-keys":            "/profile#api-keys",
		"/invitations/accept?token=AB": "/invitations/accept?token=AB",
		"":                             "/profile",
		"//evil.example/x":             "/profile",
		"/\\evil.example":              "/profile",
		"\\\\evil.example":             "/profile",
		"https://evil.example/":        "/profile",
		"javascript:alert(1)":          "/profile",
		"profile":                      "/profile",
		"/%2F%2Fevil.example":          "/profile", // decodes to //evil.example: refused too
		"/\t/evil.example":             "/profile",
		"/login":                       "/profile",
		"http:/evil.example":           "/profile",
	} {
		b := s.browser()
		r := b.post("/login", url.Values{"email": {"alice@example.com"}, "password": {strongPassword}, "next": {next}})
		if r.status != http.StatusSeeOther || r.location() != want {
			t.Errorf("next %q: %d to %q, want %q", next, r.status, r.location(), want)
		}
		// The login form carries only a checked next.
		page := b.get("/login?next=" + url.QueryEscape(next))
		if next != want && next != "" && strings.Contains(page.body, `name="next"`) && page.status == http.StatusOK {
			t.Errorf("the login form kept the unsafe next %q", next)
		}
	}
	// An anonymous visit to an account page comes back after signing in.
	b := s.browser()
	r := b.expect(b.get("/profile?x=1"), http.StatusSeeOther, "/login?next=%2Fprofile%3Fx%3D1")
	login := b.get(r.location())
	if !strings.Contains(login.body, `name="next" value="/profile?x=1"`) {
		t.Fatalf("login form lost next:\n%s", excerpt(login.body))
	}
}
