package sso_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/license"
	"github.com/gatehousehq/gatehouse/internal/license/licensetest"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// expectFeatures checks every SSO surface against what the license should allow now: the public
// provider list, the login page's buttons, the OIDC and SAML endpoints (403 feature_not_licensed
// naming the feature, as a page or as the envelope), and that password login works regardless.
func (e *env) expectFeatures(state string, oauth, saml bool) {
	t := e.t
	t.Helper()
	ctx := context.Background()
	var want []string
	if oauth {
		want = append(want, "oidc:corp")
	}
	if saml {
		want = append(want, "saml")
	}
	p := e.get(http.DefaultClient, e.srv.URL+"/api/v1/sso/providers")
	var list struct {
		Providers []struct {
			ID       string `json:"id"`
			Label    string `json:"label"`
			LoginURL string `json:"login_url"`
		} `json:"providers"`
	}
	env := p.envelope(t)
	if err := json.Unmarshal(env.Data, &list); err != nil || p.status != http.StatusOK {
		t.Fatalf("%s: providers: %d %s", state, p.status, p.body)
	}
	var got []string
	for _, pr := range list.Providers {
		got = append(got, pr.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: providers %v, want %v", state, got, want)
	}
	var buttons []string
	for _, b := range e.sso.Buttons(ctx) {
		buttons = append(buttons, b.URL)
	}
	if len(buttons) != len(want) {
		t.Errorf("%s: buttons %v, want %d", state, buttons, len(want))
	}
	// The login page renders exactly those buttons.
	login := e.get(http.DefaultClient, e.srv.URL+"/login")
	for path, shown := range map[string]bool{"/sso/oidc/corp/login": oauth, "/sso/saml/login": saml} {
		if strings.Contains(login.body, `href="`+path+`"`) != shown {
			t.Errorf("%s: login page shows %s: %v, want %v", state, path, !shown, shown)
		}
	}

	gated := func(feature string, on bool, method, path string, okStatus int) {
		t.Helper()
		var pg page
		if method == http.MethodPost {
			pg = e.postForm(http.DefaultClient, e.srv.URL+path, map[string][]string{"SAMLResponse": {"PHg+"}, "gh_bounce": {"1"}})
		} else {
			pg = e.get(noRedirect, e.srv.URL+path)
		}
		if on {
			if pg.status != okStatus {
				t.Errorf("%s: %s %s = %d, want %d\n%s", state, method, path, pg.status, okStatus, pg.body)
			}
			return
		}
		if pg.status != http.StatusForbidden || !strings.Contains(pg.body, feature) || !strings.Contains(pg.header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %s %s = %d, want the 403 page naming %s\n%s", state, method, path, pg.status, feature, pg.body)
		}
		if method == http.MethodGet {
			js := e.get(http.DefaultClient, e.srv.URL+path, "Accept", "application/json")
			env := js.envelope(t)
			if js.status != http.StatusForbidden || env.Error == nil || env.Error.Code != "feature_not_licensed" || env.Error.Fields["feature"] != feature ||
				!strings.Contains(env.Error.Message, feature) {
				t.Errorf("%s: %s %s as JSON = %d %s", state, method, path, js.status, js.body)
			}
		}
	}
	gated("sso_oauth", oauth, http.MethodGet, "/sso/oidc/corp/login", http.StatusFound)
	gated("sso_oauth", oauth, http.MethodGet, "/sso/oidc/corp/callback?state=x&code=y", http.StatusBadRequest)
	gated("sso_saml", saml, http.MethodGet, "/sso/saml/metadata", http.StatusOK)
	gated("sso_saml", saml, http.MethodPost, "/sso/saml/acs", http.StatusBadRequest)

	// Local password login never depends on the license.
	if _, err := e.auth.Login(ctx, auth.LoginInput{Email: "local@example.com", Password: "local password 123"}); err != nil {
		t.Errorf("%s: password login: %v", state, err)
	}
}

// licensedEnv is an env with an OIDC provider and a SAML configuration (the IdP itself is not
// needed: no test here gets past the gate to it) and a local password account.
func licensedEnv(t *testing.T, db config.DB, lic *licensetest.License, grace time.Duration) *env {
	t.Helper()
	_, corp := startOIDC(t, "corp")
	e := newEnv(t, db, envOptions{license: lic, grace: grace, oidc: []config.OIDCProvider{corp},
		saml: &config.SAML{IDPMetadataURL: "http://127.0.0.1:1/metadata", Label: "SAML", EmailVerified: true}})
	hash, scheme, err := testHasher.Hash("local password 123")
	if err != nil {
		t.Fatal(err)
	}
	// The states of TestLicenseMatrix share one database: the account may exist already.
	err = e.st.CreateUser(context.Background(), &gatehouse.User{Email: "local@example.com", PasswordHash: hash, PasswordScheme: scheme, Active: true})
	if err != nil && gatehouse.ErrorCode(err) != gatehouse.EConflict {
		t.Fatal(err)
	}
	return e
}

// TestLicenseMatrix checks each license state against each SSO feature.
func TestLicenseMatrix(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		with := func(features map[string]bool, mut func(*licensetest.License)) *licensetest.License {
			l := licensetest.Enterprise()
			l.Features = features
			if mut != nil {
				mut(&l)
			}
			return &l
		}
		both := map[string]bool{"sso_oauth": true, "sso_saml": true}
		for _, tc := range []struct {
			state       string
			license     *licensetest.License
			oauth, saml bool
		}{
			{"community (no key)", nil, false, false},
			{"entitled to both", with(both, nil), true, true},
			{"entitled to sso_oauth only", with(map[string]bool{"sso_oauth": true}, nil), true, false},
			{"entitled to sso_saml only", with(map[string]bool{"sso_saml": true, "sso_oauth": false}, nil), false, true},
			{"entitled to neither", with(map[string]bool{}, nil), false, false},
			{"revoked", with(both, func(l *licensetest.License) { l.Revoked = true }), false, false},
			{"expired", with(both, func(l *licensetest.License) { l.ExpiresAt = time.Now().Add(-time.Hour) }), false, false},
		} {
			e := licensedEnv(t, db, tc.license, 0)
			e.expectFeatures(tc.state, tc.oauth, tc.saml)
		}
	})
}

// TestLicenseDegradesWithoutRestart follows one running server through license changes: the
// entitlement taken away and given back, the license server down within the grace period
// (features stay), and after it (features off), with password login working throughout.
func TestLicenseDegradesWithoutRestart(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		const grace = 72 * time.Hour
		e := licensedEnv(t, db, enterprise(), grace)
		e.expectFeatures("licensed", true, true)

		l := licensetest.Enterprise()
		l.Features = map[string]bool{"sso_saml": true}
		e.licSrv.SetLicense(l)
		e.waitLicense(func(s license.Status) bool { return !e.lic.HasFeature(context.Background(), "sso_oauth") })
		e.expectFeatures("sso_oauth withdrawn", false, true)

		e.licSrv.SetLicense(licensetest.Enterprise())
		e.waitLicense(func(s license.Status) bool { return e.lic.HasFeature(context.Background(), "sso_oauth") })
		e.expectFeatures("sso_oauth given back", true, true)

		e.licSrv.SetDown(true)
		e.waitLicense(func(s license.Status) bool { return s.State == license.StateGrace })
		e.expectFeatures("server down, within grace", true, true)

		e.clk.Advance(grace + time.Minute)
		e.waitLicense(func(s license.Status) bool { return s.State == license.StateUnreachable })
		e.expectFeatures("server down, grace over", false, false)

		e.licSrv.SetDown(false)
		e.waitLicense(func(s license.Status) bool { return s.State == license.StateLicensed })
		e.expectFeatures("server back", true, true)
	})
}
