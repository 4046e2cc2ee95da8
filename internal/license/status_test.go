package license

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/license/licensetest"
)

func TestStatus(t *testing.T) {
	lic := licensetest.Enterprise()
	lic.Features["sso_oauth"] = false
	lic.Features["audit_export"] = true
	lic.IssuedAt = t0.Add(-24 * time.Hour)
	lic.ExpiresAt = t0.Add(365 * 24 * time.Hour)
	lic.SupportTier = "priority"
	srv := licensetest.New(t, lic)
	c, clk, _ := newClient(t, srv, nil)
	c.check(t.Context())
	clk.Advance(time.Minute)

	st := c.Status()
	want := Status{
		State: StateLicensed, Valid: true, Tier: "enterprise", LicensedTier: "enterprise",
		Customer: "Example Corp", SupportTier: "priority", Product: "gatehouse",
		Key: "PENG-XXXX-…-1A2B", ServerURL: srv.URL, ServerID: "srv_test",
		Features: []FeatureStatus{
			{Name: "audit_export", Entitled: true, Enabled: true, Description: "feature audit_export"},
			{Name: "sso_oauth", Description: "feature sso_oauth"},
			{Name: "sso_saml", Entitled: true, Enabled: true, Description: "feature sso_saml"},
		},
		Limits:   &Limits{MaxServers: -1, MaxUsers: -1, DataRetentionDays: 365},
		IssuedAt: lic.IssuedAt, ExpiresAt: lic.ExpiresAt,
		LastCheck: t0, LastSuccess: t0, GraceUntil: t0.Add(DefaultGracePeriod),
	}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("Status\n got %+v %+v\nwant %+v %+v", st, *st.Limits, want, *want.Limits)
	}

	// Once the grace period is over, the tier in force is community; the license stays visible.
	srv.SetStatus(http.StatusServiceUnavailable)
	clk.Advance(DefaultGracePeriod)
	c.check(t.Context())
	st = c.Status()
	if st.State != StateUnreachable || st.Valid || st.Tier != "community" || st.LicensedTier != "enterprise" ||
		st.Features[2].Enabled || !st.Features[2].Entitled || !strings.Contains(st.LastError, "503") {
		t.Errorf("after grace: %+v", st)
	}
}

// No state, error or rendering of Status carries the full key.
func TestStatusNeverHoldsTheKey(t *testing.T) {
	for _, prepare := range []func(*licensetest.Server){
		func(*licensetest.Server) {},
		func(s *licensetest.Server) { s.SetStatus(http.StatusUnauthorized) },
		func(s *licensetest.Server) { s.SetDown(true) },
		// An answer that echoes the key back (as the documented license document does, and as
		// a proxy's error might).
		func(s *licensetest.Server) {
			s.Override(licensetest.PathValidate, 200, []byte(`{"valid":"`+licensetest.ValidKey+`"}`))
		},
	} {
		srv := licensetest.New(t, licensetest.Enterprise())
		prepare(srv)
		c, _, _ := newClient(t, srv, nil)
		c.check(t.Context())
		st := c.Status()
		js, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{string(js), fmt.Sprintf("%+v", st), fmt.Sprintf("%#v", st)} {
			if strings.Contains(s, licensetest.ValidKey) {
				t.Errorf("the status contains the key: %s", s)
			}
		}
		if !strings.Contains(string(js), "PENG-XXXX-…-1A2B") {
			t.Errorf("the status lacks the masked key: %s", js)
		}
	}
	c, _ := New(Options{Key: licensetest.ValidKey, ServerURL: "https://license.example.com"})
	if got := c.scrub("proxy said: bad token " + licensetest.ValidKey); strings.Contains(got, licensetest.ValidKey) {
		t.Errorf("scrub left the key in %q", got)
	}
}

func TestStatusWithoutKey(t *testing.T) {
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := c.Status()
	if st.State != StateCommunity || st.Tier != "community" || st.Valid || st.Key != "" || st.ServerURL != "" {
		t.Errorf("%+v", st)
	}
	var nilClient *Client
	if nilClient.HasFeature(t.Context(), FeatureSSOSAML) || nilClient.Status().State != StateCommunity {
		t.Error("a nil client is not the community tier")
	}
}
