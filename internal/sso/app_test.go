package sso_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/gatehousehq/gatehouse/internal/app"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/license/licensetest"
	"github.com/gatehousehq/gatehouse/internal/testclock"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// appSite is the whole Gatehouse as internal/app assembles it (API, pages, SSO, license client)
// with an OIDC provider, a SAML IdP and, when licensed, the fake license server.
type appSite struct {
	*env
	app  *app.App
	oidc *mockoidc.MockOIDC
	idp  *idp
	logs *syncBuffer
}

// syncBuffer collects the app's log lines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func startApp(t *testing.T, db config.DB, licensed bool) *appSite {
	t.Helper()
	return startAppWith(t, db, licensed, nil)
}

// startAppWith is startApp with the configuration adjusted by tweak (when not nil) before the
// app is built.
func startAppWith(t *testing.T, db config.DB, licensed bool, tweak func(*config.Config)) *appSite {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b := &box{h: http.NotFoundHandler()}
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	s := &appSite{env: &env{t: t, srv: srv, clk: testclock.New(time.Now().UTC().Truncate(time.Second)), sessions: &recorder{}}}
	var corp config.OIDCProvider
	s.oidc, corp = startOIDC(t, "corp")
	s.idp = startIdP(t)

	cfg := config.Defaults()
	cfg.DB = db
	cfg.Security.BcryptCost = 4
	cfg.PublicURL, cfg.JWT.Issuer = srv.URL, srv.URL
	cfg.SSO.OIDC = []config.OIDCProvider{corp}
	cfg.SSO.SAML = *samlConfig(s.idp)
	if licensed {
		lic := licensetest.New(t, licensetest.Enterprise())
		lic.SetNow(s.clk.Now)
		cfg.License = config.License{Key: licensetest.ValidKey, ServerURL: lic.URL, Product: "gatehouse", RefreshInterval: 50 * time.Millisecond, GracePeriod: 72 * time.Hour}
	}
	if tweak != nil {
		tweak(cfg)
	}
	s.logs = &syncBuffer{}
	a, err := app.New(ctx, cfg, app.Options{Now: s.clk.Now, Logger: slog.New(slog.NewTextHandler(s.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s.app, s.st = a, a.Store
	b.set(a.Handler())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = a.Close()
	})
	if licensed {
		deadline := time.Now().Add(20 * time.Second)
		for !a.License.HasFeature(ctx, "sso_saml") {
			if time.Now().After(deadline) {
				t.Fatalf("the license never granted SSO: %+v", a.License.Status())
			}
			time.Sleep(10 * time.Millisecond)
		}
		s.idp.registerSPAt(t, s.env, srv.URL)
	}
	return s
}

// TestAppSSO signs in through both providers on the assembled app, ending on the profile page,
// and checks that without a license the app runs with no SSO at all.
func TestAppSSO(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		s := startApp(t, db, true)
		login := s.get(http.DefaultClient, s.srv.URL+"/login")
		if !strings.Contains(login.body, `href="/sso/oidc/corp/login"`) || !strings.Contains(login.body, `href="/sso/saml/login"`) {
			t.Fatalf("the login page has no SSO buttons:\n%s", login.body)
		}

		s.oidc.QueueUser(&mockoidc.MockUser{Subject: "app-1", Email: "carol@example.com", EmailVerified: true})
		b := s.browser()
		if p := s.get(b.Client, s.srv.URL+"/sso/oidc/corp/login"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/profile" {
			t.Fatalf("OIDC: %d %q\n%s", p.status, p.header.Get("Location"), p.body)
		}
		s.profile(b, "carol@example.com")

		s.idp.addUser(t, "dave", "dave@example.com", "dave-password")
		b = s.browser()
		if p := samlSignIn(t, s.env, s.idp, b, "/sso/saml/login", "dave", "dave-password"); p.status != http.StatusSeeOther {
			t.Fatalf("SAML: %d\n%s", p.status, p.body)
		}
		s.profile(b, "dave@example.com")

		// The providers' list is on the API side.
		if p := s.get(http.DefaultClient, s.srv.URL+"/api/v1/sso/providers"); p.status != http.StatusOK || !strings.Contains(p.body, `"oidc:corp"`) {
			t.Fatalf("providers: %d %s", p.status, p.body)
		}
	})
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		s := startApp(t, db, false)
		if login := s.get(http.DefaultClient, s.srv.URL+"/login"); login.status != http.StatusOK || strings.Contains(login.body, "/sso/") {
			t.Fatalf("community tier: the login page offers SSO:\n%s", login.body)
		}
		if p := s.get(noRedirect, s.srv.URL+"/sso/saml/login"); p.status != http.StatusForbidden || !strings.Contains(p.body, "sso_saml") {
			t.Fatalf("community tier: SAML login %d\n%s", p.status, p.body)
		}
		if p := s.get(http.DefaultClient, s.srv.URL+"/api/v1/sso/providers"); p.status != http.StatusOK || !strings.Contains(p.body, `"providers":[]`) {
			t.Fatalf("community tier: providers %d %s", p.status, p.body)
		}
	})
}
