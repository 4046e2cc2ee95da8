package sso_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// TestOIDCSignIn runs the real redirect flow against mockoidc: Gatehouse's login endpoint, the
// provider's authorization endpoint, the callback (code exchange with the PKCE verifier, ID
// token verification), then the browser session and the redirect to the page asked for.
func TestOIDCSignIn(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		m, corp := startOIDC(t, "corp")
		e := newEnv(t, db, envOptions{license: enterprise(), oidc: []config.OIDCProvider{corp}, rules: "[corp]engineering=maintainer"})
		m.QueueUser(&mockoidc.MockUser{Subject: "u-1001", Email: "Jane.Doe@Example.com", EmailVerified: true, Groups: []string{"engineering"}})

		b := e.browser()
		// The first leg: Gatehouse sends the browser to the provider with PKCE (S256), state
		// and nonce, and a sealed cookie that holds them.
		start := e.get(b.noFollow(), e.srv.URL+"/sso/oidc/corp/login?next=/teams%3Ftab%3D2")
		if start.status != http.StatusFound {
			t.Fatalf("login: %d %s", start.status, start.body)
		}
		authz, err := url.Parse(start.header.Get("Location"))
		if err != nil || !strings.HasPrefix(authz.String(), m.AuthorizationEndpoint()) {
			t.Fatalf("login redirects to %q", start.header.Get("Location"))
		}
		q := authz.Query()
		if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43 || len(q.Get("state")) < 40 ||
			len(q.Get("nonce")) < 40 || q.Get("redirect_uri") != e.srv.URL+"/sso/oidc/corp/callback" || q.Get("client_id") != corp.ClientID {
			t.Fatalf("authorization request: %v", q)
		}
		cookie := start.header.Get("Set-Cookie")
		if !strings.Contains(cookie, "gh_sso_oidc_corp=") || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") ||
			strings.Contains(cookie, q.Get("state")) || strings.Contains(cookie, q.Get("nonce")) {
			t.Fatalf("flow cookie: %s", cookie)
		}

		// The rest of the flow, as a browser follows it.
		done := e.get(b.Client, authz.String())
		if done.status != http.StatusSeeOther || done.header.Get("Location") != "/teams?tab=2" {
			t.Fatalf("callback: %d %q\n%s", done.status, done.header.Get("Location"), done.body)
		}
		u := e.signedInAs("jane.doe@example.com")
		e.profile(b, "jane.doe@example.com")
		if !u.SSOOnly || !slices.Equal(u.Roles, []gatehouse.Role{gatehouse.RoleMaintainer}) {
			t.Fatalf("user = %+v", u)
		}
		ids, _ := e.st.Identities(context.Background(), u.ID)
		if len(ids) != 1 || ids[0].Provider != "oidc:corp" || ids[0].Subject != "u-1001" {
			t.Fatalf("identities = %+v", ids)
		}
		if !e.auditHas(gatehouse.AuditLoginSuccess, "sso oidc:corp") {
			t.Fatal("no login_success audit event")
		}

		// Signing in again finds the same account; an outside next falls back to /profile.
		m.QueueUser(&mockoidc.MockUser{Subject: "u-1001", Email: "jane.doe@example.com", EmailVerified: true})
		for _, next := range []string{"https://evil.example/", "//evil.example", "/\\evil.example", "/sso/oidc/corp/login"} {
			again := e.get(b.Client, e.srv.URL+"/sso/oidc/corp/login?next="+url.QueryEscape(next))
			if again.status != http.StatusSeeOther || again.header.Get("Location") != "/profile" {
				t.Fatalf("next=%q: %d %q", next, again.status, again.header.Get("Location"))
			}
			m.QueueUser(&mockoidc.MockUser{Subject: "u-1001", Email: "jane.doe@example.com", EmailVerified: true})
		}
		if n, _ := e.st.CountUsers(context.Background()); n != 1 {
			t.Fatalf("%d users", n)
		}
		// The groups claim no longer says engineering: the role follows (the default role).
		u = e.signedInAs("jane.doe@example.com")
		if !slices.Equal(u.Roles, []gatehouse.Role{gatehouse.RoleViewer}) {
			t.Fatalf("roles after the group was dropped: %v", u.Roles)
		}
	})
}

// oidcLeg starts a sign-in and returns the browser and the provider's authorization URL.
func oidcLeg(t *testing.T, e *env) (*browser, *url.URL) {
	t.Helper()
	b := e.browser()
	start := e.get(b.noFollow(), e.srv.URL+"/sso/oidc/corp/login")
	if start.status != http.StatusFound {
		t.Fatalf("login: %d %s", start.status, start.body)
	}
	u, err := url.Parse(start.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return b, u
}

// callbackOf asks the provider's authorization endpoint and returns the callback URL it sends
// the browser to.
func callbackOf(t *testing.T, e *env, b *browser, authz *url.URL) *url.URL {
	t.Helper()
	resp := e.get(b.noFollow(), authz.String())
	if resp.status != http.StatusFound {
		t.Fatalf("authorize: %d %s", resp.status, resp.body)
	}
	u, err := url.Parse(resp.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestOIDCRefusals(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		m, corp := startOIDC(t, "corp")
		e := newEnv(t, db, envOptions{license: enterprise(), oidc: []config.OIDCProvider{corp}})
		refused := func(name string, p page, status int, text string) {
			t.Helper()
			if p.status != status || !strings.Contains(p.body, text) || !strings.Contains(p.header.Get("Content-Type"), "text/html") {
				t.Fatalf("%s: %d %s\n%s", name, p.status, p.header.Get("Content-Type"), p.body)
			}
			if p.header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(p.header.Get("Content-Security-Policy"), "default-src 'none'") {
				t.Fatalf("%s: headers %v", name, p.header)
			}
		}

		// A tampered state.
		b, authz := oidcLeg(t, e)
		cb := callbackOf(t, e, b, authz)
		q := cb.Query()
		q.Set("state", q.Get("state")+"x")
		cb.RawQuery = q.Encode()
		refused("wrong state", e.get(b.Client, cb.String()), http.StatusBadRequest, "state does not match")

		// A nonce that is not the one of this sign-in (the authorization request was changed
		// on its way to the provider, which then puts the other nonce in the ID token).
		b, authz = oidcLeg(t, e)
		q = authz.Query()
		q.Set("nonce", "attacker-chosen-nonce-0123456789abcdefghijklmnop")
		authz.RawQuery = q.Encode()
		refused("wrong nonce", e.get(b.Client, authz.String()), http.StatusUnauthorized, "does not belong to this sign-in")
		if !e.auditHas(gatehouse.AuditLoginFailure, "nonce mismatch") {
			t.Fatal("the nonce mismatch is not audited")
		}

		// A PKCE challenge that is not the one of this sign-in's verifier: the provider refuses
		// the code exchange.
		b, authz = oidcLeg(t, e)
		q = authz.Query()
		q.Set("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
		authz.RawQuery = q.Encode()
		refused("wrong PKCE", e.get(b.Client, authz.String()), http.StatusUnauthorized, "did not accept this sign-in")
		if !e.auditHas(gatehouse.AuditLoginFailure, "code exchange failed") {
			t.Fatal("the failed code exchange is not audited")
		}

		// The callback in another browser (no sign-in cookie), and a callback used twice.
		b, authz = oidcLeg(t, e)
		cb = callbackOf(t, e, b, authz)
		refused("other browser", e.get(e.browser().Client, cb.String()), http.StatusBadRequest, "started in another browser")
		done := e.get(b.Client, cb.String())
		if done.status != http.StatusSeeOther {
			t.Fatalf("the genuine callback: %d %s", done.status, done.body)
		}
		refused("callback replayed", e.get(b.Client, cb.String()), http.StatusBadRequest, "expired")

		// The provider's error answer.
		b, authz = oidcLeg(t, e)
		cb = callbackOf(t, e, b, authz)
		q = cb.Query()
		q.Del("code")
		q.Set("error", "access_denied")
		cb.RawQuery = q.Encode()
		refused("provider error", e.get(b.Client, cb.String()), http.StatusUnauthorized, "access_denied")

		// An unverified address cannot create (or link) an account.
		before := e.sessions.count()
		m.QueueUser(&mockoidc.MockUser{Subject: "u-2", Email: "eve@example.com", EmailVerified: false})
		b, authz = oidcLeg(t, e)
		refused("unverified email", e.get(b.Client, authz.String()), http.StatusForbidden, "did not confirm an email address")
		if e.sessions.count() != before {
			t.Fatal("a refused sign-in established a session")
		}

		// A client asking for JSON gets the envelope; an unknown provider is not found.
		b, authz = oidcLeg(t, e)
		cb = callbackOf(t, e, b, authz)
		q = cb.Query()
		q.Set("state", "nope")
		cb.RawQuery = q.Encode()
		p := e.get(b.Client, cb.String(), "Accept", "application/json")
		if env := p.envelope(t); p.status != http.StatusBadRequest || env.Error == nil || env.Error.Code != "sso_failed" {
			t.Fatalf("JSON refusal: %d %s", p.status, p.body)
		}
		if p := e.get(http.DefaultClient, e.srv.URL+"/sso/oidc/other/login"); p.status != http.StatusNotFound {
			t.Fatalf("unknown provider: %d", p.status)
		}
	})
}
