package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/app"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// The default admin must change its password first, on a page that allows nothing else.
func TestMustChangePassword(t *testing.T) {
	s := startSite(t, siteOptions{})
	b := s.browser()
	b.login("admin@localhost.local", "admin123", "/change-password")
	for _, path := range []string{"/profile", "/", "/profile/2fa/totp", "/invitations/accept"} {
		r := b.get(path)
		if r.status != http.StatusSeeOther || r.location() != "/change-password" {
			t.Fatalf("GET %s: %d %s", path, r.status, r.location())
		}
	}
	b.expect(b.post("/profile/api-keys", url.Values{"name": {"x"}, "scopes": {"read"}, "expires": {"30"}}), http.StatusSeeOther, "/change-password")
	page := b.expect(b.get("/change-password"), http.StatusOK, "")
	expectNoCredentialValues(t, page.body)
	if strings.Contains(page.body, "admin123") {
		t.Fatal("the default password is on the page")
	}
	// Mismatch, wrong current password, then success.
	r := b.post("/change-password", url.Values{"current_password": {"admin123"}, "new_password": {strongPassword}, "confirm_password": {strongPassword2}})
	b.expect(r, http.StatusBadRequest, "")
	if !strings.Contains(r.body, "The passwords do not match.") {
		t.Fatalf("mismatch:\n%s", excerpt(r.body))
	}
	r = b.post("/change-password", url.Values{"current_password": {"wrong"}, "new_password": {strongPassword}, "confirm_password": {strongPassword}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Current password is not correct.") {
		t.Fatalf("wrong current: %d\n%s", r.status, excerpt(r.body))
	}
	expectNoCredentialValues(t, r.body)
	b.expect(b.post("/change-password", url.Values{"current_password": {"admin123"}, "new_password": {strongPassword}, "confirm_password": {strongPassword}}),
		http.StatusSeeOther, "/profile")
	b.expect(b.get("/profile"), http.StatusOK, "")
	b.expect(b.get("/change-password"), http.StatusSeeOther, "/profile#password")
}

// Changing the password on the profile keeps this browser signed in and ends the others.
func TestChangePasswordOnProfile(t *testing.T) {
	s := startSite(t, siteOptions{mail: true})
	s.createUser("alice@example.com", strongPassword)
	one, two := s.browser(), s.browser()
	one.login("alice@example.com", strongPassword, "/profile")
	two.login("alice@example.com", strongPassword, "/profile")
	one.expect(one.post("/profile/password", url.Values{"current_password": {strongPassword}, "new_password": {strongPassword2}, "confirm_password": {strongPassword2}}),
		http.StatusSeeOther, "/profile#password")
	page := one.expect(one.get("/profile"), http.StatusOK, "")
	if !strings.Contains(page.body, "Your password has been changed") {
		t.Fatalf("no confirmation:\n%s", excerpt(page.body))
	}
	two.expect(two.get("/profile"), http.StatusSeeOther, "/login?next=%2Fprofile")
	fresh := s.browser()
	fresh.expect(fresh.post("/login", url.Values{"email": {"alice@example.com"}, "password": {strongPassword}}), http.StatusUnauthorized, "")
	fresh.login("alice@example.com", strongPassword2, "/profile")
}

// Forgot → the real email → reset (the GET only shows the form) → sign in.
func TestForgotAndReset(t *testing.T) {
	s := startSite(t, siteOptions{mail: true})
	s.createUser("alice@example.com", strongPassword)
	b := s.browser()
	r := b.expect(b.post("/forgot-password", url.Values{"email": {"alice@example.com"}}), http.StatusOK, "")
	unknown := b.expect(b.post("/forgot-password", url.Values{"email": {"nobody@example.com"}}), http.StatusOK, "")
	if strip(r.body) != strip(unknown.body) || !strings.Contains(r.body, "Check your email") {
		t.Fatal("forgot answers differ for unknown addresses")
	}
	link := s.mailedLink("alice@example.com")
	if !strings.HasPrefix(link, "/reset-password?token=") {
		t.Fatalf("link %s", link)
	}
	for range 2 { // opening the link (a mail scanner) consumes nothing
		page := b.expect(b.get(link), http.StatusOK, "")
		expectNoCredentialValues(t, page.body)
	}
	tok := strings.TrimPrefix(link, "/reset-password?token=")
	r = b.post("/reset-password", url.Values{"token": {tok}, "new_password": {strongPassword2}, "confirm_password": {"other"}})
	b.expect(r, http.StatusBadRequest, "")
	b.expect(b.post("/reset-password", url.Values{"token": {tok}, "new_password": {strongPassword2}, "confirm_password": {strongPassword2}}), http.StatusSeeOther, "/login")
	r = b.post("/reset-password", url.Values{"token": {tok}, "new_password": {strongPassword}, "confirm_password": {strongPassword}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "The link or code is invalid or has expired.") {
		t.Fatalf("reused token: %d\n%s", r.status, excerpt(r.body))
	}
	b.login("alice@example.com", strongPassword2, "/profile")
}

// Registration (when on) and confirmation by the mailed link's button.
func TestRegisterAndConfirm(t *testing.T) {
	s := startSite(t, siteOptions{mail: true, config: func(c *config.Config) { c.Security.Registerable = true }})
	b := s.browser()
	page := b.expect(b.get("/register"), http.StatusOK, "")
	expectNoCredentialValues(t, page.body)
	if !strings.Contains(b.get("/login").body, `href="/register"`) {
		t.Fatal("no registration link on the login page")
	}
	r := b.post("/register", url.Values{"email": {"new@example.com"}, "password": {"password"}, "confirm_password": {"password"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Password") {
		t.Fatalf("weak password: %d\n%s", r.status, excerpt(r.body))
	}
	expectNoCredentialValues(t, r.body)
	b.expect(b.post("/register", url.Values{"email": {"new@example.com"}, "password": {strongPassword}, "confirm_password": {strongPassword}}), http.StatusOK, "")
	// Not confirmed yet: the login says so (after a right password only).
	r = b.post("/login", url.Values{"email": {"new@example.com"}, "password": {strongPassword}})
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "Confirm your email address first") {
		t.Fatalf("unconfirmed login: %d\n%s", r.status, excerpt(r.body))
	}
	link := s.mailedLink("new@example.com")
	if !strings.HasPrefix(link, "/confirm?token=") {
		t.Fatalf("link %s", link)
	}
	page = b.expect(b.get(link), http.StatusOK, "")
	if !strings.Contains(page.body, `name="token" value="`) {
		t.Fatalf("confirm page:\n%s", excerpt(page.body))
	}
	b.expect(b.post("/confirm", url.Values{"token": {strings.TrimPrefix(link, "/confirm?token=")}}), http.StatusSeeOther, "/login")
	b.login("new@example.com", strongPassword, "/profile")
}

// SECURITY_FRESHNESS: an old sign-in must give the password again before changing second
// factors.
func TestFreshness(t *testing.T) {
	s := startSite(t, siteOptions{})
	s.createUser("alice@example.com", strongPassword)
	b := s.browser()
	b.login("alice@example.com", strongPassword, "/profile")
	b.expect(b.get("/profile/2fa/totp"), http.StatusOK, "") // fresh: straight in
	s.clock.Advance(25 * time.Hour)
	b.expect(b.get("/profile/2fa/totp"), http.StatusSeeOther, "/verify?next=%2Fprofile%2F2fa%2Ftotp")
	b.expect(b.post("/profile/2fa/recovery-codes", nil), http.StatusSeeOther, "/verify?next=%2Fprofile%23two-factor")
	b.expect(b.post("/profile/api-keys", url.Values{"name": {"x"}, "scopes": {"read"}, "expires": {"30"}}), http.StatusSeeOther, "/verify?next=%2Fprofile%23api-keys")
	page := b.expect(b.get("/verify?next=%2Fprofile%2F2fa%2Ftotp"), http.StatusOK, "")
	expectNoCredentialValues(t, page.body)
	r := b.post("/verify", url.Values{"password": {"wrong"}, "next": {"/profile/2fa/totp"}})
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "Password is not correct.") {
		t.Fatalf("wrong password: %d\n%s", r.status, excerpt(r.body))
	}
	b.expect(b.post("/verify", url.Values{"password": {strongPassword}, "next": {"/profile/2fa/totp"}}), http.StatusSeeOther, "/profile/2fa/totp")
	page = b.expect(b.get("/profile/2fa/totp"), http.StatusOK, "")
	if !strings.Contains(page.body, `src="data:image/png;base64,`) {
		t.Fatalf("no QR code:\n%s", excerpt(page.body))
	}
	// The verify page sends on only to this server.
	b.expect(b.post("/verify", url.Values{"password": {strongPassword}, "next": {"//evil.example"}}), http.StatusSeeOther, "/profile")
}

var secretAttr = `data-secret="`

// TOTP: enrol from the page's secret, get recovery codes once, sign in with a code.
func TestTOTPEnrolAndSignIn(t *testing.T) {
	s := startSite(t, siteOptions{})
	s.createUser("alice@example.com", strongPassword)
	b := s.browser()
	b.login("alice@example.com", strongPassword, "/profile")
	page := b.expect(b.get("/profile/2fa/totp"), http.StatusOK, "")
	secret := between(page.body, secretAttr, `"`)
	qr := html.UnescapeString(between(page.body, `name="qr" value="`, `"`))
	if secret == "" || qr == "" {
		t.Fatalf("no secret on the page:\n%s", excerpt(page.body))
	}
	// A wrong code shows the same secret again.
	r := b.post("/profile/2fa/totp", url.Values{"code": {"000000"}, "secret": {secret}, "qr": {qr}})
	if r.status != http.StatusBadRequest || between(r.body, secretAttr, `"`) != secret || !strings.Contains(r.body, "The code is not correct") {
		t.Fatalf("wrong code: %d\n%s", r.status, excerpt(r.body))
	}
	r = b.expect(b.post("/profile/2fa/totp", url.Values{"code": {code(t, secret, s.clock.Now())}, "secret": {secret}, "qr": {qr}}), http.StatusOK, "")
	if !strings.Contains(r.body, "Save your recovery codes") || strings.Count(r.body, "<li><code>") != 10 {
		t.Fatalf("recovery codes page:\n%s", excerpt(r.body))
	}
	recovery := between(r.body, "<li><code>", "</code>")
	b.expect(b.post("/logout", nil), http.StatusSeeOther, "/login")

	// Password, then the second step.
	b.login("alice@example.com", strongPassword, "/login/2fa")
	b.expect(b.get("/profile"), http.StatusSeeOther, "/login?next=%2Fprofile") // not signed in yet
	page = b.expect(b.get("/login/2fa"), http.StatusOK, "")
	if !strings.Contains(page.body, `name="method" value="totp"`) || !strings.Contains(page.body, `name="method" value="recovery_code"`) {
		t.Fatalf("2fa page:\n%s", excerpt(page.body))
	}
	r = b.post("/login/2fa", url.Values{"method": {"totp"}, "code": {"123456"}})
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "The code is not correct") {
		t.Fatalf("wrong code: %d\n%s", r.status, excerpt(r.body))
	}
	s.clock.Advance(30 * time.Second) // the enrolment's code is spent
	b.expect(b.post("/login/2fa", url.Values{"method": {"totp"}, "code": {code(t, secret, s.clock.Now())}}), http.StatusSeeOther, "/profile")
	b.expect(b.get("/profile"), http.StatusOK, "")
	b.expect(b.post("/logout", nil), http.StatusSeeOther, "/login")

	// A recovery code works once.
	b.login("alice@example.com", strongPassword, "/login/2fa")
	b.expect(b.post("/login/2fa", url.Values{"method": {"recovery_code"}, "code": {strings.ToLower(recovery)}}), http.StatusSeeOther, "/profile")
	b.expect(b.post("/logout", nil), http.StatusSeeOther, "/login")
	b.login("alice@example.com", strongPassword, "/login/2fa")
	b.expect(b.post("/login/2fa", url.Values{"method": {"recovery_code"}, "code": {recovery}}), http.StatusUnauthorized, "")

	// Remove the app (password needed).
	s.clock.Advance(30 * time.Second)
	b.expect(b.post("/login/2fa", url.Values{"method": {"totp"}, "code": {code(t, secret, s.clock.Now())}}), http.StatusSeeOther, "/profile")
	r = b.post("/profile/2fa/totp/disable", url.Values{"password": {"wrong"}})
	if r.status != http.StatusForbidden {
		t.Fatalf("disable with a wrong password: %d", r.status)
	}
	b.expect(b.post("/profile/2fa/totp/disable", url.Values{"password": {strongPassword}}), http.StatusSeeOther, "/profile#two-factor")
	b.expect(b.post("/logout", nil), http.StatusSeeOther, "/login")
	b.login("alice@example.com", strongPassword, "/profile")
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	j := strings.Index(s, end)
	if j < 0 {
		return ""
	}
	return s[:j]
}

// Sessions: revoke another, and "sign out everywhere" ends every page session too.
func TestSessionsOnProfile(t *testing.T) {
	s := startSite(t, siteOptions{})
	s.createUser("alice@example.com", strongPassword)
	one, two, three := s.browser(), s.browser(), s.browser()
	for _, b := range []*browser{one, two, three} {
		b.login("alice@example.com", strongPassword, "/profile")
	}
	page := one.expect(one.get("/profile"), http.StatusOK, "")
	if strings.Count(page.body, "/revoke\"><button") != 3 || !strings.Contains(page.body, "this browser") {
		t.Fatalf("sessions list:\n%s", excerpt(page.body))
	}
	// Revoke the session of browser two (the one not marked current, first in the list that
	// is not ours).
	u, _ := s.app.Store.UserByEmail(context.Background(), "alice@example.com")
	sessions, err := s.app.Auth.Sessions(context.Background(), &gatehouse.Principal{User: u})
	if err != nil {
		t.Fatal(err)
	}
	var others []string
	for _, x := range sessions {
		if !strings.Contains(between(page.body, "/profile/sessions/"+x.ID, "</form>"), "Sign out") {
			others = append(others, x.ID)
		}
	}
	if len(others) != 2 {
		t.Fatalf("others = %v", others)
	}
	one.expect(one.post("/profile/sessions/"+others[0]+"/revoke", nil), http.StatusSeeOther, "/profile#sessions")
	gone := 0
	for _, b := range []*browser{two, three} {
		if b.get("/profile").status == http.StatusSeeOther {
			gone++
		}
	}
	if gone != 1 {
		t.Fatalf("%d browsers signed out by revoking one session", gone)
	}
	// Someone else's or an unknown session id.
	r := one.post("/profile/sessions/nope/revoke", nil)
	if r.status != http.StatusNotFound {
		t.Fatalf("unknown session: %d", r.status)
	}
	one.expect(one.post("/profile/sessions/revoke-all", nil), http.StatusSeeOther, "/login")
	for _, b := range []*browser{one, two, three} {
		b.expect(b.get("/profile"), http.StatusSeeOther, "/login?next=%2Fprofile")
	}
}

// Personal API keys: the secret is shown once and works on the API; revoking ends it.
func TestAPIKeysOnProfile(t *testing.T) {
	s := startSite(t, siteOptions{})
	s.createUser("alice@example.com", strongPassword, gatehouse.RoleMaintainer)
	b := s.browser()
	b.login("alice@example.com", strongPassword, "/profile")
	r := b.post("/profile/api-keys", url.Values{"name": {""}, "scopes": {"read"}, "expires": {"30"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Name is required.") {
		t.Fatalf("nameless key: %d\n%s", r.status, excerpt(r.body))
	}
	r = b.post("/profile/api-keys", url.Values{"name": {"deploy"}, "scopes": {"admin"}, "expires": {"30"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Scopes ") {
		t.Fatalf("admin scope for a maintainer: %d\n%s", r.status, excerpt(r.body))
	}
	r = b.expect(b.post("/profile/api-keys", url.Values{"name": {"deploy <script>"}, "scopes": {"read", "write"}, "expires": {"never"}}), http.StatusCreated, "")
	secret := between(r.body, `readonly spellcheck="false" autocomplete="off">`, "</textarea>")
	if !strings.HasPrefix(secret, "ghk_") || strings.Contains(r.body, "<script>") || !strings.Contains(r.header.Get("Cache-Control"), "no-store") {
		t.Fatalf("created page:\n%s", excerpt(r.body))
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, s.srv.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the new key on the API: %d", resp.StatusCode)
	}
	page := b.get("/profile")
	if strings.Contains(page.body, secret) || !strings.Contains(page.body, secret[:12]) {
		t.Fatal("the profile shows the whole secret, or not the prefix")
	}
	id := between(page.body, `action="/profile/api-keys/`, `/revoke"`)
	b.expect(b.post("/profile/api-keys/"+id+"/revoke", nil), http.StatusSeeOther, "/profile#api-keys")
	resp, err = s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the revoked key on the API: %d", resp.StatusCode)
	}
	b.expect(b.post("/profile/api-keys/"+id+"/revoke", nil), http.StatusNotFound, "")

	// A viewer (read only) is not offered the form, and a post is refused.
	s.createUser("viewer@example.com", strongPassword, gatehouse.RoleViewer)
	v := s.browser()
	v.login("viewer@example.com", strongPassword, "/profile")
	if page := v.get("/profile"); strings.Contains(page.body, `action="/profile/api-keys"`) || !strings.Contains(page.body, "do not allow making API keys") {
		t.Fatalf("viewer's profile:\n%s", excerpt(page.body))
	}
	v.expect(v.post("/profile/api-keys", url.Values{"name": {"x"}, "scopes": {"read"}, "expires": {"30"}}), http.StatusForbidden, "")
}

// BRAND_LOGO_PATH replaces the logo; a file that is not a picture stops the start-up.
func TestBrandLogo(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "logo.png")
	// The smallest valid PNG: 1x1, grey.
	data := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00:~\x9bU\x00\x00\x00\nIDATx\x9cc`\x00\x00\x00\x02\x00\x01H\xaf\xa4q\x00\x00\x00\x00IEND\xaeB`\x82")
	if err := os.WriteFile(png, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startSite(t, siteOptions{config: func(c *config.Config) { c.Web.LogoPath = png; c.BrandName = `Acme & "Co" <ID>` }})
	b := s.browser()
	r := b.get("/logo")
	if r.status != 200 || r.header.Get("Content-Type") != "image/png" || r.body != string(data) {
		t.Fatalf("custom logo: %d %v", r.status, r.header)
	}
	page := b.get("/login")
	if !strings.Contains(page.body, `alt="Acme &amp; &#34;Co&#34; &lt;ID&gt;"`) || !strings.Contains(page.body, "<title>Sign in · Acme &amp; &#34;Co&#34; &lt;ID&gt;</title>") {
		t.Fatalf("brand name not escaped or missing:\n%s", excerpt(page.body))
	}

	bad := filepath.Join(dir, "logo.jpg")
	if err := os.WriteFile(bad, []byte("<html>not a picture</html>"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(testdb.New(t, config.DBSQLite))
	cfg.Web.LogoPath = bad
	if a, err := app.New(context.Background(), cfg, app.Options{}); err == nil {
		_ = a.Close()
		t.Fatal("a logo that is not a JPEG was accepted")
	}
	cfg.Web.LogoPath = filepath.Join(dir, "missing.svg")
	if a, err := app.New(context.Background(), cfg, app.Options{}); err == nil {
		_ = a.Close()
		t.Fatal("a missing logo was accepted")
	}
}

// The page sessions live in the database: sign in, use, change the password and sign out on
// every engine, two browsers at once.
func TestPagesOnEveryEngine(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		s := startSite(t, siteOptions{db: &db})
		s.createUser("alice@example.com", strongPassword)
		one, two := s.browser(), s.browser()
		one.login("alice@example.com", strongPassword, "/profile")
		two.expect(two.post("/login", url.Values{"email": {"alice@example.com"}, "password": {strongPassword}, "remember": {"1"}}), http.StatusSeeOther, "/profile")
		one.expect(one.get("/profile"), http.StatusOK, "")
		one.expect(one.post("/profile/password", url.Values{"current_password": {strongPassword}, "new_password": {strongPassword2}, "confirm_password": {strongPassword2}}),
			http.StatusSeeOther, "/profile#password")
		one.expect(one.get("/profile"), http.StatusOK, "")
		two.expect(two.get("/profile"), http.StatusSeeOther, "/login?next=%2Fprofile")
		one.expect(one.post("/logout", nil), http.StatusSeeOther, "/login")
		one.expect(one.get("/profile"), http.StatusSeeOther, "/login?next=%2Fprofile")
		if !strings.Contains(one.get("/login").body, "You have signed out.") {
			t.Fatal("no sign-out message")
		}
	})
}
