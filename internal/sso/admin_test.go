package sso_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/license"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

func (e *env) api(method, path, bearer string, body any) page {
	e.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return e.send(http.DefaultClient, req)
}

// TestAdminSSOAPI: an administrator sees a user's linked identities, marks the account
// SSO-only or lifts the mark (which works without a license, so that SSO-only users can be let
// back in with a password when SSO is off), and unlinks an identity.
func TestAdminSSOAPI(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		m, corp := startOIDC(t, "corp")
		e := newEnv(t, db, envOptions{license: enterprise(), oidc: []config.OIDCProvider{corp}})
		hash, scheme, _ := testHasher.Hash("admin password 123")
		admin := &gatehouse.User{Email: "admin@example.com", PasswordHash: hash, PasswordScheme: scheme, Active: true, Roles: []gatehouse.Role{gatehouse.RoleAdmin}}
		viewer := &gatehouse.User{Email: "viewer@example.com", PasswordHash: hash, PasswordScheme: scheme, Active: true, Roles: []gatehouse.Role{gatehouse.RoleViewer}}
		for _, u := range []*gatehouse.User{admin, viewer} {
			if err := e.st.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		login := func(email string) string {
			pair, err := e.auth.Login(ctx, auth.LoginInput{Email: email, Password: "admin password 123"})
			if err != nil {
				t.Fatal(err)
			}
			return pair.AccessToken
		}
		adminTok, viewerTok := login("admin@example.com"), login("viewer@example.com")

		m.QueueUser(&mockoidc.MockUser{Subject: "s-9", Email: "sso@example.com", EmailVerified: true})
		if p := e.get(e.browser().Client, e.srv.URL+"/sso/oidc/corp/login"); p.status != http.StatusSeeOther {
			t.Fatalf("sign-in: %d %s", p.status, p.body)
		}
		u, err := e.st.UserByEmail(ctx, "sso@example.com")
		if err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/api/v1/users/%d/sso", u.ID)

		var data struct {
			SSOOnly    bool `json:"sso_only"`
			Identities []struct {
				ID       int64  `json:"id"`
				Provider string `json:"provider"`
				Subject  string `json:"subject"`
				Email    string `json:"email"`
			} `json:"identities"`
		}
		p := e.api(http.MethodGet, path, adminTok, nil)
		if err := json.Unmarshal(p.envelope(t).Data, &data); err != nil || p.status != http.StatusOK || !data.SSOOnly ||
			len(data.Identities) != 1 || data.Identities[0].Provider != "oidc:corp" || data.Identities[0].Subject != "s-9" {
			t.Fatalf("GET: %d %s", p.status, p.body)
		}
		// Not for viewers, not without a token, and bad input names the field.
		if p := e.api(http.MethodGet, path, viewerTok, nil); p.status != http.StatusForbidden {
			t.Fatalf("viewer GET: %d", p.status)
		}
		if p := e.api(http.MethodGet, path, "", nil); p.status != http.StatusUnauthorized {
			t.Fatalf("anonymous GET: %d", p.status)
		}
		if p := e.api(http.MethodPut, path, adminTok, map[string]any{}); p.status != http.StatusBadRequest || p.envelope(t).Error.Fields["sso_only"] == "" {
			t.Fatalf("PUT {}: %d %s", p.status, p.body)
		}
		if p := e.api(http.MethodPut, path, adminTok, map[string]any{"sso_only": "yes"}); p.status != http.StatusBadRequest {
			t.Fatalf("PUT a string: %d %s", p.status, p.body)
		}
		if p := e.api(http.MethodGet, "/api/v1/users/abc/sso", adminTok, nil); p.status != http.StatusBadRequest {
			t.Fatalf("GET a bad id: %d", p.status)
		}
		if p := e.api(http.MethodGet, "/api/v1/users/999999/sso", adminTok, nil); p.status != http.StatusNotFound {
			t.Fatalf("GET an unknown user: %d", p.status)
		}

		// Lifting the mark works without a license.
		l := *enterprise()
		l.Features = map[string]bool{}
		e.licSrv.SetLicense(l)
		e.waitLicense(func(license.Status) bool { return !e.lic.HasFeature(ctx, "sso_oauth") })
		p = e.api(http.MethodPut, path, adminTok, map[string]any{"sso_only": false})
		if err := json.Unmarshal(p.envelope(t).Data, &data); err != nil || p.status != http.StatusOK || data.SSOOnly {
			t.Fatalf("PUT false: %d %s", p.status, p.body)
		}
		if !e.auditHas(gatehouse.AuditUserUpdated, "sso_only: true -> false") {
			t.Fatal("the change is not audited")
		}
		p = e.api(http.MethodDelete, fmt.Sprintf("%s/identities/%d", path, data.Identities[0].ID), adminTok, nil)
		if err := json.Unmarshal(p.envelope(t).Data, &data); err != nil || p.status != http.StatusOK || len(data.Identities) != 0 {
			t.Fatalf("DELETE: %d %s", p.status, p.body)
		}
		if p := e.api(http.MethodDelete, path+"/identities/1", adminTok, nil); p.status != http.StatusNotFound {
			t.Fatalf("DELETE again: %d", p.status)
		}
		if !e.auditHas(gatehouse.AuditSSOUnlinked, "oidc:corp") {
			t.Fatal("the unlink is not audited")
		}
	})
}

// TestProvidersUnreachable: an identity provider that cannot be reached never holds up start-up
// (nothing is fetched before the first sign-in) and makes its sign-in answer 503.
func TestProvidersUnreachable(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		corp := config.OIDCProvider{Name: "corp", Issuer: "http://127.0.0.1:1/oidc", ClientID: "c", Scopes: []string{"openid"}, Label: "Corp", GroupsClaim: "groups"}
		e := newEnv(t, db, envOptions{license: enterprise(), oidc: []config.OIDCProvider{corp},
			saml: &config.SAML{IDPMetadataURL: "http://127.0.0.1:1/metadata", Label: "SAML"}})
		for _, path := range []string{"/sso/oidc/corp/login", "/sso/saml/login"} {
			p := e.get(noRedirect, e.srv.URL+path)
			if p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, "cannot be reached") {
				t.Errorf("%s: %d\n%s", path, p.status, p.body)
			}
		}
	})
}

// TestSAMLFromFiles: IdP metadata from SAML_IDP_METADATA_FILE and the SP key pair from
// SAML_SP_KEY_FILE / SAML_SP_CERT_FILE; the SP publishes that certificate.
func TestSAMLFromFiles(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		i := startIdP(t)
		md := e0get(t, i.srv.URL+"/metadata")
		key, cert := selfSigned(t, "sp.test")
		keyFile := writeFile(t, "sp.key", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
		certFile := writeFile(t, "sp.crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
		e := newEnv(t, db, envOptions{license: enterprise(), saml: &config.SAML{
			IDPMetadataFile: writeFile(t, "idp.xml", md), SPKeyFile: keyFile, SPCertFile: certFile, Label: "SAML", EmailVerified: true,
		}})
		i.registerSP(t, e)
		spMD := e.get(http.DefaultClient, e.srv.URL+"/sso/saml/metadata")
		if !strings.Contains(spMD.body, base64Std(cert.Raw)[:60]) {
			t.Fatal("the SP metadata does not publish the configured certificate")
		}
		i.addUser(t, "bob", "bob@example.com", "bob-password")
		if p := samlSignIn(t, e, i, e.browser(), "/sso/saml/login", "bob", "bob-password"); p.status != http.StatusSeeOther {
			t.Fatalf("sign-in: %d\n%s", p.status, p.body)
		}
		e.signedInAs("bob@example.com")
	})
}

func e0get(t *testing.T, u string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	return b
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
