package license

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehousehq/gatehouse/internal/license/licensetest"
)

// gather returns every sample of c's collector as "name{label=value,…} value", sorted.
func gather(t *testing.T, c *Client) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c.Collector())
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(labels)
			name := mf.GetName()
			if len(labels) > 0 {
				name += "{" + strings.Join(labels, ",") + "}"
			}
			out[name] = m.GetGauge().GetValue()
		}
	}
	return out
}

func TestMetrics(t *testing.T) {
	lic := licensetest.Enterprise()
	lic.Features["sso_oauth"] = false
	lic.ExpiresAt = t0.Add(30 * 24 * time.Hour)
	srv := licensetest.New(t, lic)
	c, clk, _ := newClient(t, srv, nil)
	ts := func(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

	check := func(when string, want map[string]float64, absent ...string) {
		t.Helper()
		got := gather(t, c)
		for name, v := range want {
			if g, ok := got[name]; !ok || g != v {
				t.Errorf("%s: %s = %v (present %v), want %v", when, name, g, ok, v)
			}
		}
		for _, name := range absent {
			if _, ok := got[name]; ok {
				t.Errorf("%s: %s present", when, name)
			}
		}
		if t.Failed() {
			t.Logf("%s: %s", when, fmt.Sprint(got))
		}
	}

	check("pending", map[string]float64{
		"gatehouse_license_valid": 0, "gatehouse_license_state{state=pending}": 1, "gatehouse_license_state{state=licensed}": 0,
		"gatehouse_license_feature_entitled{feature=sso_saml}": 0, "gatehouse_license_feature_entitled{feature=sso_oauth}": 0,
		"gatehouse_license_info{tier=community}": 1,
	}, "gatehouse_license_expiry_timestamp_seconds", "gatehouse_license_last_success_timestamp_seconds",
		"gatehouse_license_last_check_timestamp_seconds")

	c.check(t.Context())
	check("licensed", map[string]float64{
		"gatehouse_license_valid": 1, "gatehouse_license_state{state=licensed}": 1, "gatehouse_license_state{state=pending}": 0,
		"gatehouse_license_feature_entitled{feature=sso_saml}": 1, "gatehouse_license_feature_entitled{feature=sso_oauth}": 0,
		"gatehouse_license_info{tier=enterprise}":          1,
		"gatehouse_license_expiry_timestamp_seconds":       ts(lic.ExpiresAt),
		"gatehouse_license_last_success_timestamp_seconds": ts(t0),
		"gatehouse_license_last_check_timestamp_seconds":   ts(t0),
		"gatehouse_license_grace_until_timestamp_seconds":  ts(t0.Add(DefaultGracePeriod)),
	})

	srv.SetStatus(http.StatusServiceUnavailable)
	clk.Advance(time.Hour)
	c.check(t.Context())
	check("grace", map[string]float64{
		"gatehouse_license_valid": 1, "gatehouse_license_state{state=grace}": 1, "gatehouse_license_state{state=licensed}": 0,
		"gatehouse_license_feature_entitled{feature=sso_saml}": 1,
		"gatehouse_license_last_success_timestamp_seconds":     ts(t0),
		"gatehouse_license_last_check_timestamp_seconds":       ts(t0.Add(time.Hour)),
	})

	// The end of grace shows at the next scrape, without a check.
	clk.Advance(DefaultGracePeriod)
	check("grace over", map[string]float64{
		"gatehouse_license_valid": 0, "gatehouse_license_state{state=unreachable}": 1, "gatehouse_license_state{state=grace}": 0,
		"gatehouse_license_feature_entitled{feature=sso_saml}": 0, "gatehouse_license_info{tier=community}": 1,
	})

	noKey, _ := New(Options{})
	got := gather(t, noKey)
	for name, v := range map[string]float64{
		"gatehouse_license_valid": 0, "gatehouse_license_state{state=community}": 1,
		"gatehouse_license_feature_entitled{feature=sso_saml}": 0, "gatehouse_license_feature_entitled{feature=sso_oauth}": 0,
	} {
		if got[name] != v {
			t.Errorf("community: %s = %v, want %v", name, got[name], v)
		}
	}
}
