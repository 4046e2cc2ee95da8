package sso_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/mail/mailtest"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// The passwords of these tests: long and unrelated to the addresses, so that any password
// policy accepts them.
const (
	attackerPassword = "Quartz-Lantern-Meadow-9137"
	ownerPassword    = "Velvet-Harbor-Compass-4826"
)

// preHijackApp is the whole app with self-registration, confirmation by email and login before
// confirmation (so that the attacker can hold a session and an API key before the victim comes),
// and both providers trusted to link by email address.
func preHijackApp(t *testing.T, db config.DB) *appSite {
	t.Helper()
	smtp := mailtest.Start(t, mailtest.Options{}) // confirmation needs email
	return startAppWith(t, db, true, func(c *config.Config) {
		on := true
		c.SMTP = config.SMTP{Host: "127.0.0.1", Port: smtp.Port(), From: "Gatehouse <no-reply@gatehouse.test>", TLS: "none"}
		c.Security.Registerable, c.Security.Confirmable, c.Security.LoginWithoutConfirmation = true, &on, true
		c.SSO.OIDC[0].TrustEmail = true
		c.SSO.SAML.EmailVerified = true
	})
}

// loginData is the data of a login response.
type loginData struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// passwordLogin logs in through the API and returns the response.
func (s *appSite) passwordLogin(email, password string) page {
	s.t.Helper()
	return s.api(http.MethodPost, "/api/v1/auth/login", "", map[string]string{"email": email, "password": password})
}

// attacker registers email through the API with a password of their choosing, logs in (the
// account is unconfirmed, which SECURITY_LOGIN_WITHOUT_CONFIRMATION allows) and makes an API key.
type attacker struct {
	tokens loginData
	apiKey string
}

func (s *appSite) preRegister(email string) attacker {
	s.t.Helper()
	if p := s.api(http.MethodPost, "/api/v1/auth/register", "", map[string]string{"email": email, "password": attackerPassword}); p.status != http.StatusAccepted {
		s.t.Fatalf("register: %d %s", p.status, p.body)
	}
	u, err := s.st.UserByEmail(context.Background(), email)
	if err != nil || u.ConfirmedAt != nil || u.PasswordHash == "" {
		s.t.Fatalf("the registered account: %+v, %v", u, err)
	}
	// An administrator, believing the account is the colleague's, makes it a maintainer (a
	// self-registered viewer's tokens may only read, and API keys take write).
	maintainer := []gatehouse.Role{gatehouse.RoleMaintainer}
	if _, _, err := s.st.UpdateUser(context.Background(), u.ID, store.UserChange{Roles: &maintainer}, nil); err != nil {
		s.t.Fatal(err)
	}
	var a attacker
	p := s.passwordLogin(email, attackerPassword)
	if p.status != http.StatusOK || json.Unmarshal(p.envelope(s.t).Data, &a.tokens) != nil || a.tokens.RefreshToken == "" {
		s.t.Fatalf("the attacker's login before the victim came: %d %s", p.status, p.body)
	}
	p = s.api(http.MethodPost, "/api/v1/api-keys", a.tokens.AccessToken, map[string]any{"name": "persistence", "scopes": []string{"read"}})
	var key struct {
		Secret string `json:"secret"`
	}
	if p.status != http.StatusCreated || json.Unmarshal(p.envelope(s.t).Data, &key) != nil || key.Secret == "" {
		s.t.Fatalf("the attacker's API key: %d %s", p.status, p.body)
	}
	a.apiKey = key.Secret
	s.attackerHolds(a, true)
	return a
}

// attackerHolds checks that the attacker's access token, API key and refresh token work (or,
// with want false, that every one of them is refused).
func (s *appSite) attackerHolds(a attacker, want bool) {
	s.t.Helper()
	for name, bearer := range map[string]string{"access token": a.tokens.AccessToken, "API key": a.apiKey} {
		p := s.api(http.MethodGet, "/api/v1/me", bearer, nil)
		if (p.status == http.StatusOK) != want || (!want && p.status != http.StatusUnauthorized) {
			s.t.Fatalf("the attacker's %s: GET /api/v1/me answers %d, want it working: %t\n%s", name, p.status, want, p.body)
		}
	}
	if want {
		return // refreshing would rotate the token
	}
	if p := s.api(http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": a.tokens.RefreshToken}); p.status != http.StatusUnauthorized {
		s.t.Fatalf("the attacker's refresh token: %d %s", p.status, p.body)
	}
}

// victimTakesOver checks the state after the victim's first SSO sign-in to the account the
// attacker pre-registered: the attacker's password is refused like a wrong one, everything
// they held is dead, the account is confirmed with no password, and the audit trail says why.
func (s *appSite) victimTakesOver(email, provider string, a attacker) {
	s.t.Helper()
	ctx := context.Background()
	wrong := s.passwordLogin(email, "Not-The-Password-0000")
	p := s.passwordLogin(email, attackerPassword)
	got, want := p.envelope(s.t).Error, wrong.envelope(s.t).Error
	if p.status != http.StatusUnauthorized || wrong.status != http.StatusUnauthorized || got == nil || want == nil ||
		got.Code != want.Code || got.Message != want.Message || len(got.Fields) != 0 || len(want.Fields) != 0 {
		s.t.Fatalf("the attacker's password after the victim's SSO sign-in: %d %s\n(a wrong password: %d %s)", p.status, p.body, wrong.status, wrong.body)
	}
	s.attackerHolds(a, false)
	u, err := s.st.UserByEmail(ctx, email)
	if err != nil || u.ConfirmedAt == nil || u.PasswordHash != "" {
		s.t.Fatalf("the account after the link: %+v, %v", u, err)
	}
	ids, _ := s.st.Identities(ctx, u.ID)
	if len(ids) != 1 || ids[0].Provider != provider {
		s.t.Fatalf("identities = %+v", ids)
	}
	evs, err := s.st.AuditEvents(ctx, u.ID, gatehouse.AuditSSOLinkSecured, 10)
	if err != nil || len(evs) != 1 || !strings.Contains(evs[0].Detail, "password removed") || !strings.Contains(evs[0].Detail, "1 API keys revoked") ||
		!strings.Contains(evs[0].Detail, provider) {
		s.t.Fatalf("%s audit = %+v, %v", gatehouse.AuditSSOLinkSecured, evs, err)
	}
}

// confirmedKeepsPassword: the same sign-in to an account whose owner confirmed the address
// links without touching the password or the owner's tokens.
func (s *appSite) confirmedOwner(email string) (attacker, *gatehouse.User) {
	s.t.Helper()
	ctx := context.Background()
	if p := s.api(http.MethodPost, "/api/v1/auth/register", "", map[string]string{"email": email, "password": ownerPassword}); p.status != http.StatusAccepted {
		s.t.Fatalf("register: %d %s", p.status, p.body)
	}
	u, err := s.st.UserByEmail(ctx, email)
	if err != nil {
		s.t.Fatal(err)
	}
	yes := true
	if _, _, err := s.st.UpdateUser(ctx, u.ID, store.UserChange{Confirmed: &yes}, nil); err != nil {
		s.t.Fatal(err)
	}
	var held attacker // the owner's own session, which must survive
	if p := s.passwordLogin(email, ownerPassword); p.status != http.StatusOK || json.Unmarshal(p.envelope(s.t).Data, &held.tokens) != nil {
		s.t.Fatalf("the owner's login: %d %s", p.status, p.body)
	}
	return held, u
}

func (s *appSite) keptPassword(email string, held attacker, u *gatehouse.User) {
	s.t.Helper()
	if p := s.passwordLogin(email, ownerPassword); p.status != http.StatusOK {
		s.t.Fatalf("a confirmed account's password after the SSO link: %d %s", p.status, p.body)
	}
	if p := s.api(http.MethodGet, "/api/v1/me", held.tokens.AccessToken, nil); p.status != http.StatusOK {
		s.t.Fatalf("a confirmed account's session after the SSO link: %d %s", p.status, p.body)
	}
	if ids, _ := s.st.Identities(context.Background(), u.ID); len(ids) != 1 {
		s.t.Fatalf("the confirmed account was not linked: %+v", ids)
	}
	if evs, _ := s.st.AuditEvents(context.Background(), u.ID, gatehouse.AuditSSOLinkSecured, 10); len(evs) != 0 {
		s.t.Fatalf("a confirmed account was secured: %+v", evs)
	}
}

// TestSSOPreHijackOIDC: an attacker registers the victim's address with a password, logs in and
// makes an API key; the victim's first sign-in through OpenID Connect (email verified, provider
// trusted) links to that account and takes away everything the attacker set or held. An account
// whose address was confirmed keeps its password.
func TestSSOPreHijackOIDC(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		s := preHijackApp(t, db)
		a := s.preRegister("victim@example.com")

		s.oidc.QueueUser(&mockoidc.MockUser{Subject: "victim-sub", Email: "victim@example.com", EmailVerified: true})
		b := s.browser()
		if p := s.get(b.Client, s.srv.URL+"/sso/oidc/corp/login"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/profile" {
			t.Fatalf("the victim's OIDC sign-in: %d %q\n%s", p.status, p.header.Get("Location"), p.body)
		}
		s.profile(b, "victim@example.com")
		s.victimTakesOver("victim@example.com", "oidc:corp", a)
		s.profile(b, "victim@example.com") // the victim's own session lives on

		held, u := s.confirmedOwner("owner@example.com")
		s.oidc.QueueUser(&mockoidc.MockUser{Subject: "owner-sub", Email: "owner@example.com", EmailVerified: true})
		if p := s.get(s.browser().Client, s.srv.URL+"/sso/oidc/corp/login"); p.status != http.StatusSeeOther {
			t.Fatalf("the owner's OIDC sign-in: %d\n%s", p.status, p.body)
		}
		s.keptPassword("owner@example.com", held, u)
	})
}

// TestSSOPreHijackSAML is TestSSOPreHijackOIDC through the SAML identity provider.
func TestSSOPreHijackSAML(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		s := preHijackApp(t, db)
		a := s.preRegister("victim@example.com")

		s.idp.addUser(t, "victim", "victim@example.com", "victim-idp-password")
		b := s.browser()
		if p := samlSignIn(t, s.env, s.idp, b, "/sso/saml/login", "victim", "victim-idp-password"); p.status != http.StatusSeeOther {
			t.Fatalf("the victim's SAML sign-in: %d\n%s", p.status, p.body)
		}
		s.profile(b, "victim@example.com")
		s.victimTakesOver("victim@example.com", "saml", a)
		s.profile(b, "victim@example.com")

		held, u := s.confirmedOwner("owner@example.com")
		s.idp.addUser(t, "owner", "owner@example.com", "owner-idp-password")
		if p := samlSignIn(t, s.env, s.idp, s.browser(), "/sso/saml/login", "owner", "owner-idp-password"); p.status != http.StatusSeeOther {
			t.Fatalf("the owner's SAML sign-in: %d\n%s", p.status, p.body)
		}
		s.keptPassword("owner@example.com", held, u)
	})
}

// refusedPage checks that an SSO sign-in ended on the refusal of an unverified address.
func refusedPage(t *testing.T, p page, what string) {
	t.Helper()
	if p.status != http.StatusForbidden || !strings.Contains(p.body, html.EscapeString("did not confirm an email address")) {
		t.Fatalf("%s: %d, want the unverified-address refusal\n%s", what, p.status, p.body)
	}
}

// TestSSOEmailTrustDefaults: SAML_EMAIL_VERIFIED and trust_email are off by default, and then
// a first sign-in is never linked to an existing account (an address no account has still
// creates one through OIDC, whose ID token says the address is verified).
func TestSSOEmailTrustDefaults(t *testing.T) {
	def, err := config.Load(func(name string) string {
		if name == "SSO_OIDC_PROVIDERS" {
			return `[{"name":"corp","issuer":"https://idp.example.com","client_id":"gh"}]`
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if def.SSO.SAML.EmailVerified || def.SSO.OIDC[0].TrustEmail {
		t.Fatalf("defaults: SAML_EMAIL_VERIFIED %t, trust_email %t; want both off", def.SSO.SAML.EmailVerified, def.SSO.OIDC[0].TrustEmail)
	}
	for _, v := range config.Vars() {
		if v.Name == "SAML_EMAIL_VERIFIED" && v.Default != "false" {
			t.Fatalf("SAML_EMAIL_VERIFIED documented default %q", v.Default)
		}
	}

	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := startAppWith(t, db, true, func(c *config.Config) {
			c.SSO.OIDC[0].TrustEmail = def.SSO.OIDC[0].TrustEmail
			c.SSO.SAML.EmailVerified = def.SSO.SAML.EmailVerified
		})
		owner := &gatehouse.User{Email: "owner@example.com", Active: true, Roles: []gatehouse.Role{gatehouse.RoleViewer}}
		if err := s.st.CreateUser(ctx, owner); err != nil {
			t.Fatal(err)
		}

		// OIDC, email verified by the provider: no link to the existing account.
		s.oidc.QueueUser(&mockoidc.MockUser{Subject: "oidc-owner", Email: "owner@example.com", EmailVerified: true})
		refusedPage(t, s.get(s.browser().Client, s.srv.URL+"/sso/oidc/corp/login"), "OIDC to an existing account")
		// SAML: neither a link nor a new account.
		s.idp.addUser(t, "owner", "owner@example.com", "owner-idp-password")
		refusedPage(t, samlSignIn(t, s.env, s.idp, s.browser(), "/sso/saml/login", "owner", "owner-idp-password"), "SAML to an existing account")
		s.idp.addUser(t, "newcomer", "newcomer@example.com", "newcomer-idp-password")
		refusedPage(t, samlSignIn(t, s.env, s.idp, s.browser(), "/sso/saml/login", "newcomer", "newcomer-idp-password"), "SAML, a new address")

		if ids, _ := s.st.Identities(ctx, owner.ID); len(ids) != 0 {
			t.Fatalf("linked with the trust defaults: %+v", ids)
		}
		if u, _ := s.st.UserByID(ctx, owner.ID); u.ConfirmedAt != nil {
			t.Fatalf("the refused sign-ins confirmed the account: %+v", u)
		}
		if _, err := s.st.UserByEmail(ctx, "newcomer@example.com"); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("SAML made an account with SAML_EMAIL_VERIFIED off: %v", err)
		}
		if !s.auditHas(gatehouse.AuditLoginFailure, "not trusted to link") {
			t.Fatal("the refusal is not audited")
		}

		// OIDC, a verified address no account has: a new account, as before.
		s.oidc.QueueUser(&mockoidc.MockUser{Subject: "oidc-new", Email: "fresh@example.com", EmailVerified: true})
		b := s.browser()
		if p := s.get(b.Client, s.srv.URL+"/sso/oidc/corp/login"); p.status != http.StatusSeeOther {
			t.Fatalf("OIDC, a new address: %d\n%s", p.status, p.body)
		}
		s.profile(b, "fresh@example.com")
	})
}

// TestSSONoAutoLinkAdmin: with the provider trusted, a first sign-in with the address of an
// account holding the admin role is refused like an unverified address (the answer does not tell
// that the account exists) and links nothing; once an administrator links the identity through
// the users API, the sign-in works.
func TestSSONoAutoLinkAdmin(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := startAppWith(t, db, true, func(c *config.Config) {
			c.SSO.OIDC[0].TrustEmail = true
			c.SSO.SAML.EmailVerified = true
			c.AdminEmail, c.AdminPassword = "root@example.com", attackerPassword
		})
		// The default admin changes its first password, as it must before using the API.
		var tok loginData
		if p := s.passwordLogin("root@example.com", attackerPassword); p.status != http.StatusOK || json.Unmarshal(p.envelope(t).Data, &tok) != nil {
			t.Fatalf("admin login: %d %s", p.status, p.body)
		}
		if p := s.api(http.MethodPost, "/api/v1/auth/password/change", tok.AccessToken,
			map[string]string{"current_password": attackerPassword, "new_password": ownerPassword}); p.status != http.StatusOK {
			t.Fatalf("admin password change: %d %s", p.status, p.body)
		}
		if p := s.passwordLogin("root@example.com", ownerPassword); p.status != http.StatusOK || json.Unmarshal(p.envelope(t).Data, &tok) != nil {
			t.Fatalf("admin login: %d %s", p.status, p.body)
		}
		root, err := s.st.UserByEmail(ctx, "root@example.com")
		if err != nil || !root.HasRole(gatehouse.RoleAdmin) {
			t.Fatalf("root = %+v, %v", root, err)
		}

		// Refused like an unverified address, through both providers.
		// (trust_email makes every address the provider sends verified: the comparison is a
		// sign-in without one.)
		s.oidc.QueueUser(&mockoidc.MockUser{Subject: "nobody-sub", Email: ""})
		unverified := s.get(s.browser().Client, s.srv.URL+"/sso/oidc/corp/login")
		refusedPage(t, unverified, "OIDC, no address")
		s.oidc.QueueUser(&mockoidc.MockUser{Subject: "root-sub", Email: "root@example.com", EmailVerified: true})
		admin := s.get(s.browser().Client, s.srv.URL+"/sso/oidc/corp/login")
		refusedPage(t, admin, "OIDC to the admin account")
		if admin.body != unverified.body {
			t.Fatalf("the refusals differ:\n%s\n%s", admin.body, unverified.body)
		}
		s.idp.addUser(t, "root", "root@example.com", "root-idp-password")
		refusedPage(t, samlSignIn(t, s.env, s.idp, s.browser(), "/sso/saml/login", "root", "root-idp-password"), "SAML to the admin account")
		path := fmt.Sprintf("/api/v1/users/%d/sso", root.ID)
		var acct struct {
			Identities []struct {
				Provider string `json:"provider"`
				Subject  string `json:"subject"`
			} `json:"identities"`
		}
		if p := s.api(http.MethodGet, path, tok.AccessToken, nil); p.status != http.StatusOK || json.Unmarshal(p.envelope(t).Data, &acct) != nil || len(acct.Identities) != 0 {
			t.Fatalf("identities after the refusals: %d %s", p.status, p.body)
		}
		if !s.auditHas(gatehouse.AuditLoginFailure, `admin role, which is never linked automatically; an administrator can link identity oidc:corp subject "root-sub"`) {
			t.Fatal("the refusal does not say what to link")
		}

		// The administrator links both identities through the users API.
		for _, in := range []map[string]string{{"provider": "oidc:corp", "subject": "root-sub"}, {"provider": "saml", "subject": "root@example.com"}} {
			p := s.api(http.MethodPost, path+"/identities", tok.AccessToken, in)
			if p.status != http.StatusCreated {
				t.Fatalf("link %v: %d %s", in, p.status, p.body)
			}
			// The 201 names the new identity, where it is unlinked.
			if loc := p.header.Get("Location"); !strings.HasPrefix(loc, path+"/identities/") || !strings.Contains(p.body, strings.TrimPrefix(loc, path+"/identities/")) {
				t.Errorf("link %v: Location = %q", in, loc)
			}
		}
		if p := s.api(http.MethodGet, path, tok.AccessToken, nil); json.Unmarshal(p.envelope(t).Data, &acct) != nil || len(acct.Identities) != 2 ||
			acct.Identities[0].Provider != "oidc:corp" || acct.Identities[0].Subject != "root-sub" || acct.Identities[1].Provider != "saml" {
			t.Fatalf("identities after the links: %s", p.body)
		}
		if !s.auditHas(gatehouse.AuditSSOLinked, `subject "root-sub"; linked by an administrator`) {
			t.Fatal("the administrator's link is not audited")
		}
		// Linking again, an unknown provider, a missing subject, a non-admin caller: refused.
		if p := s.api(http.MethodPost, path+"/identities", tok.AccessToken, map[string]string{"provider": "oidc:corp", "subject": "root-sub"}); p.status != http.StatusConflict || p.envelope(t).Error.Code != "identity_taken" {
			t.Fatalf("linking twice: %d %s", p.status, p.body)
		}
		if p := s.api(http.MethodPost, path+"/identities", tok.AccessToken, map[string]string{"provider": "oidc:other", "subject": "x"}); p.status != http.StatusBadRequest || p.envelope(t).Error.Fields["provider"] == "" {
			t.Fatalf("unknown provider: %d %s", p.status, p.body)
		}
		if p := s.api(http.MethodPost, path+"/identities", tok.AccessToken, map[string]string{"provider": "saml"}); p.status != http.StatusBadRequest || p.envelope(t).Error.Fields["subject"] == "" {
			t.Fatalf("no subject: %d %s", p.status, p.body)
		}
		viewer, err := s.app.Auth.LoginExternal(ctx, auth.ExternalLogin{Provider: "oidc:corp", Subject: "viewer-sub", Email: "viewer@example.com", EmailVerified: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, body := range []any{map[string]string{"provider": "oidc:corp", "subject": "other"}, map[string]string{"provider": "nope"}, map[string]any{"subject": 42}} {
			if p := s.api(http.MethodPost, path+"/identities", viewer.AccessToken, body); p.status != http.StatusForbidden {
				t.Fatalf("a viewer links %v: %d %s", body, p.status, p.body)
			}
		}

		// Now the sign-ins work, and the admin's password still does.
		s.oidc.QueueUser(&mockoidc.MockUser{Subject: "root-sub", Email: "root@example.com", EmailVerified: true})
		b := s.browser()
		if p := s.get(b.Client, s.srv.URL+"/sso/oidc/corp/login"); p.status != http.StatusSeeOther {
			t.Fatalf("OIDC after the link: %d\n%s", p.status, p.body)
		}
		s.profile(b, "root@example.com")
		b = s.browser()
		if p := samlSignIn(t, s.env, s.idp, b, "/sso/saml/login", "root", "root-idp-password"); p.status != http.StatusSeeOther {
			t.Fatalf("SAML after the link: %d\n%s", p.status, p.body)
		}
		s.profile(b, "root@example.com")
		if p := s.passwordLogin("root@example.com", ownerPassword); p.status != http.StatusOK {
			t.Fatalf("the admin's password after the links: %d %s", p.status, p.body)
		}
	})
}
