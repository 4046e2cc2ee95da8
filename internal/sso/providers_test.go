package sso_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml/samlidp"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/license/licensetest"
)

// The OpenID Connect provider.

// startOIDC runs mockoidc and returns it with the provider configuration for it.
func startOIDC(t *testing.T, name string) (*mockoidc.MockOIDC, config.OIDCProvider) {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m, config.OIDCProvider{
		Name: name, Issuer: m.Issuer(), ClientID: m.ClientID, ClientSecret: m.ClientSecret,
		Scopes: []string{"openid", "email", "profile", "groups"}, Label: "Sign in with " + name, GroupsClaim: "groups",
	}
}

// The SAML identity provider.

type idp struct {
	srv  *httptest.Server
	s    *samlidp.Server
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

func startIdP(t *testing.T) *idp {
	t.Helper()
	key, cert := selfSigned(t, "idp.test")
	b := &box{h: http.NotFoundHandler()}
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	// The IdP is addressed as localhost and Gatehouse as 127.0.0.1: two sites, as in real life,
	// so that a browser treats the IdP's post to the ACS as cross-site.
	srv.URL = strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	u, _ := url.Parse(srv.URL)
	s, err := samlidp.New(samlidp.Options{URL: *u, Key: key, Certificate: cert, Store: &samlidp.MemoryStore{}, Logger: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	b.set(s)
	return &idp{srv: srv, s: s, key: key, cert: cert}
}

func (i *idp) entityID() string { return i.srv.URL + "/metadata" }

func (i *idp) put(t *testing.T, path, contentType string, body []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPut, i.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("PUT %s: %s", path, resp.Status)
	}
}

func (i *idp) addUser(t *testing.T, name, email, password string, groups ...string) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"password": password, "email": email, "groups": groups})
	i.put(t, "/users/"+name, "application/json", b)
}

// registerSP gives the IdP Gatehouse's SP metadata, as an IdP administrator would.
func (i *idp) registerSP(t *testing.T, e *env) {
	t.Helper()
	i.registerSPAt(t, e, e.srv.URL)
}

func (i *idp) registerSPAt(t *testing.T, e *env, base string) {
	t.Helper()
	md := e.get(http.DefaultClient, base+"/sso/saml/metadata")
	if md.status != http.StatusOK || !strings.Contains(md.header.Get("Content-Type"), "samlmetadata+xml") {
		t.Fatalf("SP metadata: %d %s\n%s", md.status, md.header.Get("Content-Type"), md.body)
	}
	i.put(t, "/services/gatehouse", "application/samlmetadata+xml", []byte(md.body))
}

func selfSigned(t *testing.T, cn string) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func enterprise() *licensetest.License {
	l := licensetest.Enterprise()
	return &l
}

func samlConfig(i *idp) *config.SAML {
	return &config.SAML{IDPMetadataURL: i.entityID(), Label: "Sign in with the test IdP", EmailVerified: true, GroupsAttribute: "eduPersonAffiliation"}
}

// testHasher is cheap bcrypt with a fixed salt: hashing cost is not what is tested here.
var testHasher = auth.Hasher{Cost: 4, Salt: []byte("sso-tests-password-salt")}
