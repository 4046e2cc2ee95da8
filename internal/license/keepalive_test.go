package license

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehousehq/gatehouse/internal/license/licensetest"
)

func TestKeepaliveBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		users := 42
		c, srv, _ := newBubbleClient(t, licensetest.Enterprise(), func(o *Options) {
			o.KeepaliveInterval = 30 * time.Minute
			o.Hostname = "gatehouse-1.example.com"
			o.Version = "1.2.3"
			o.ActiveUsers = func(context.Context) (int, error) { return users, nil }
		})
		stop := runInBackground(t, c)
		defer stop()
		synctest.Wait()
		for range 3 {
			c.HasFeature(t.Context(), FeatureSSOSAML)
		}
		c.HasFeature(t.Context(), FeatureSSOOAuth)
		c.HasFeature(t.Context(), "unwatched")
		time.Sleep(30*time.Minute + time.Second)
		synctest.Wait()

		var kas []*licensetest.Keepalive
		for _, r := range srv.Requests() {
			if r.Bearer() != licensetest.ValidKey || !r.HasProduct || r.Product != "gatehouse" || r.ContentType != "application/json" {
				t.Errorf("%s: Authorization %q, product %q (present %v), Content-Type %q", r.Path, r.Authorization, r.Product, r.HasProduct, r.ContentType)
			}
			if r.Path == licensetest.PathKeepalive {
				kas = append(kas, r.Keepalive)
			}
		}
		if len(kas) != 2 {
			t.Fatalf("%d keepalives, want 2 (at start and after 30m)", len(kas))
		}
		k := kas[1]
		if k.Product != "gatehouse" || k.ServerID != "srv_test" || k.Hostname != "gatehouse-1.example.com" ||
			k.Version != "1.2.3" || k.UptimeSeconds != 1800 {
			t.Errorf("keepalive %+v", *k)
		}
		if k.UsageStats.ActiveUsers == nil || *k.UsageStats.ActiveUsers != 42 {
			t.Errorf("active_users %v", k.UsageStats.ActiveUsers)
		}
		want := map[string]licensetest.FeatureUsage{"sso_saml": {UsageCount: 3}, "sso_oauth": {UsageCount: 1}}
		if len(k.UsageStats.FeatureUsage) != 2 || k.UsageStats.FeatureUsage["sso_saml"] != want["sso_saml"] ||
			k.UsageStats.FeatureUsage["sso_oauth"] != want["sso_oauth"] {
			t.Errorf("feature_usage %v, want %v", k.UsageStats.FeatureUsage, want)
		}
		if st := c.Status(); st.LastKeepalive.IsZero() || st.LastKeepaliveError != "" {
			t.Errorf("keepalive status: %v %q", st.LastKeepalive, st.LastKeepaliveError)
		}
	})
}

// A keepalive failure is recorded but changes nothing about the license; active users that
// cannot be counted are left out rather than reported as zero.
func TestKeepaliveFailure(t *testing.T) {
	srv := licensetest.New(t, licensetest.Enterprise())
	c, _, lg := newClient(t, srv, func(o *Options) {
		o.ActiveUsers = func(context.Context) (int, error) { return 0, errors.New("database down") }
	})
	c.check(t.Context())
	srv.Override(licensetest.PathKeepalive, http.StatusInternalServerError, nil)
	c.keepalive(t.Context())
	st := c.Status()
	if st.State != StateLicensed || st.LastKeepaliveError == "" || !st.LastKeepalive.IsZero() {
		t.Errorf("after a failed keepalive: %s, %q, %v", st.State, st.LastKeepaliveError, st.LastKeepalive)
	}
	reqs := srv.Requests()
	if k := reqs[len(reqs)-1].Keepalive; k == nil || k.UsageStats.ActiveUsers != nil {
		t.Errorf("keepalive %+v: active_users should be absent", k)
	}
	if lg.count("WARN", "counting active users failed") != 1 {
		t.Errorf("the counting failure was not logged:\n%s", lg)
	}
}

// Without a server id yet, a keepalive validates first, as the protocol asks; with a refused
// key it sends nothing.
func TestKeepaliveValidatesFirst(t *testing.T) {
	srv := licensetest.New(t, licensetest.Enterprise())
	c, _, _ := newClient(t, srv, nil)
	c.keepalive(t.Context())
	want := []string{licensetest.PathValidate, licensetest.PathFeatures, licensetest.PathFeatures, licensetest.PathKeepalive}
	if got := paths(srv.Requests()); !slices.Equal(got, want) {
		t.Errorf("requests %v, want %v", got, want)
	}

	refused := licensetest.New(t, licensetest.Enterprise())
	refused.SetStatus(http.StatusUnauthorized)
	c2, _, _ := newClient(t, refused, nil)
	c2.check(t.Context())
	c2.keepalive(t.Context())
	if n := refused.Count(licensetest.PathKeepalive); n != 0 {
		t.Errorf("%d keepalives with a refused key", n)
	}
}
