package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/license/licensetest"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

type licenseData struct {
	State    string `json:"state"`
	Tier     string `json:"tier"`
	Key      string `json:"key"`
	Features []struct {
		Name    string `json:"name"`
		Enabled bool   `json:"enabled"`
	} `json:"features"`
}

// The license state is visible to admins only, with the key masked; without a key the service
// runs in the community tier, and local login works in every license state.
func TestLicenseEndpoint(t *testing.T) {
	fake := licensetest.New(t, licensetest.Enterprise())
	cfg := testConfig(testdb.New(t, "sqlite"))
	cfg.License.Key, cfg.License.ServerURL = licensetest.ValidKey, fake.URL
	e := start(t, cfg, false)
	e.createUser("root@example.com", strongPassword, "admin")
	e.createUser("maint@example.com", strongPassword, "maintainer")
	root := e.login("root@example.com", strongPassword).AccessToken

	var st licenseData
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := e.do("GET", "/api/v1/license", root, nil)
		e.expect(r, http.StatusOK, "")
		if strings.Contains(string(r.Raw), licensetest.ValidKey) {
			t.Fatalf("the full key is shown: %s", r.Raw)
		}
		r.data(t, &st)
		if st.State == "licensed" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st.State != "licensed" || st.Tier != "enterprise" || !strings.HasSuffix(st.Key, "1A2B") {
		t.Fatalf("license = %+v", st)
	}
	if !e.app.License.HasFeature(t.Context(), "sso_oauth") {
		t.Fatal("sso_oauth not enabled by an entitled license")
	}
	e.expect(e.do("GET", "/api/v1/license", e.login("maint@example.com", strongPassword).AccessToken, nil), http.StatusForbidden, "forbidden")
	r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "root@example.com", "password": strongPassword, "scope": "read write"})
	var tk tokens
	r.data(t, &tk)
	r = e.do("GET", "/api/v1/license", tk.AccessToken, nil)
	e.expect(r, http.StatusForbidden, "insufficient_scope")
	if !strings.Contains(r.Header.Get("WWW-Authenticate"), `scope="admin"`) {
		t.Fatalf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
	}

	// The license server goes down and the key turns invalid: local login still works.
	fake.SetStatus(http.StatusUnauthorized)
	e.login("maint@example.com", strongPassword)
}

func TestLicenseCommunityWithoutKey(t *testing.T) {
	e := start(t, testConfig(testdb.New(t, "sqlite")), false)
	e.createUser("root@example.com", strongPassword, "admin")
	r := e.do("GET", "/api/v1/license", e.login("root@example.com", strongPassword).AccessToken, nil)
	e.expect(r, http.StatusOK, "")
	var st licenseData
	r.data(t, &st)
	if st.State != "community" || st.Tier != "community" || st.Key != "" {
		t.Fatalf("license without a key = %+v", st)
	}
	if e.app.License.HasFeature(t.Context(), "sso_saml") {
		t.Fatal("a gated feature is on without a license")
	}
}
