package license

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/license/licensetest"
	"github.com/gatehousehq/gatehouse/internal/testclock"
)

// step is one moment of a degradation scenario: change the server or the clock, optionally run
// one check, then expect a state and the two SSO answers.
type step struct {
	name        string
	before      func(srv *licensetest.Server, clk *testclock.Clock)
	check       bool
	want        State
	saml, oauth bool
}

func TestDegradation(t *testing.T) {
	ent := licensetest.Enterprise()
	only := func(f map[string]bool) licensetest.License { l := ent; l.Features = f; return l }
	status := func(code int) func(*licensetest.Server, *testclock.Clock) {
		return func(s *licensetest.Server, _ *testclock.Clock) { s.SetStatus(code) }
	}
	advance := func(d time.Duration) func(*licensetest.Server, *testclock.Clock) {
		return func(_ *licensetest.Server, c *testclock.Clock) { c.Advance(d) }
	}
	grace := DefaultGracePeriod
	licensed := step{name: "first check", check: true, want: StateLicensed, saml: true, oauth: true}

	tests := []struct {
		name   string
		lic    licensetest.License
		mutate func(*Options)
		steps  []step
	}{
		{name: "no key: community, nothing sent", lic: ent, mutate: func(o *Options) { o.Key = "" },
			steps: []step{{name: "always", want: StateCommunity}}},
		{name: "before the first answer: pending, features off", lic: ent,
			steps: []step{{name: "not checked", want: StatePending}}},
		{name: "valid enterprise license", lic: ent, steps: []step{licensed}},
		{name: "entitled to sso_oauth only", lic: only(map[string]bool{"sso_oauth": true, "sso_saml": false}),
			steps: []step{{name: "check", check: true, want: StateLicensed, oauth: true}}},
		{name: "entitled to sso_saml only (not listed for oauth)", lic: only(map[string]bool{"sso_saml": true}),
			steps: []step{{name: "check", check: true, want: StateLicensed, saml: true}}},
		{name: "professional tier without SSO", lic: licensetest.License{Tier: "professional"},
			steps: []step{{name: "check", check: true, want: StateLicensed}}},
		{name: "refused key (401)", lic: licensetest.License{Key: licensetest.OtherKey, Features: ent.Features},
			steps: []step{{name: "check", check: true, want: StateInvalid}}},
		{name: "forbidden (403)", lic: ent,
			steps: []step{{name: "check", before: status(http.StatusForbidden), check: true, want: StateInvalid}}},
		{name: "revoked: valid false", lic: func() licensetest.License { l := ent; l.Revoked = true; return l }(),
			steps: []step{{name: "check", check: true, want: StateInvalid}}},
		{name: "another product's license: valid false", lic: func() licensetest.License { l := ent; l.Product = "other"; return l }(),
			steps: []step{{name: "check", check: true, want: StateInvalid}}},
		{name: "expired, as the server says", lic: func() licensetest.License { l := ent; l.ExpiresAt = t0.Add(-time.Hour); return l }(),
			steps: []step{{name: "check", check: true, want: StateExpired}}},
		{name: "valid answer whose expires_at has passed (server clock behind)", lic: ent,
			steps: []step{{name: "check", before: func(s *licensetest.Server, _ *testclock.Clock) {
				l := ent
				l.ExpiresAt = t0.Add(-time.Minute)
				s.SetLicense(l)
				s.SetNow(func() time.Time { return t0.Add(-time.Hour) })
			}, check: true, want: StateExpired}}},
		{name: "expires between refreshes: off at expiry without a check",
			lic: func() licensetest.License { l := ent; l.ExpiresAt = t0.Add(2 * time.Hour); return l }(),
			steps: []step{
				licensed,
				{name: "just before expiry", before: advance(2*time.Hour - time.Nanosecond), want: StateLicensed, saml: true, oauth: true},
				{name: "at expiry", before: advance(time.Nanosecond), want: StateExpired},
			}},
		{name: "refused after a good answer: off at once, no grace", lic: ent,
			steps: []step{
				licensed,
				{name: "401", before: status(http.StatusUnauthorized), check: true, want: StateInvalid},
				{name: "key accepted again", before: status(0), check: true, want: StateLicensed, saml: true, oauth: true},
			}},
		{name: "503: grace from the last success, then off, then recovery", lic: ent,
			steps: []step{
				licensed,
				{name: "down an hour later", before: func(s *licensetest.Server, c *testclock.Clock) { c.Advance(time.Hour); s.SetStatus(503) },
					check: true, want: StateGrace, saml: true, oauth: true},
				{name: "still failing", before: advance(time.Hour), check: true, want: StateGrace, saml: true, oauth: true},
				{name: "last instant of grace", before: advance(grace - 2*time.Hour - time.Nanosecond), want: StateGrace, saml: true, oauth: true},
				{name: "grace over", before: advance(time.Nanosecond), want: StateUnreachable},
				{name: "still down", before: advance(time.Hour), check: true, want: StateUnreachable},
				{name: "back up", before: status(0), check: true, want: StateLicensed, saml: true, oauth: true},
			}},
		{name: "connections dropped: grace", lic: ent,
			steps: []step{licensed, {name: "down", before: func(s *licensetest.Server, _ *testclock.Clock) { s.SetDown(true) },
				check: true, want: StateGrace, saml: true, oauth: true}}},
		{name: "listener closed: grace", lic: ent,
			steps: []step{licensed, {name: "closed", before: func(s *licensetest.Server, _ *testclock.Clock) { s.Close() },
				check: true, want: StateGrace, saml: true, oauth: true}}},
		{name: "slow beyond the timeout: grace", lic: ent, mutate: func(o *Options) { o.Timeout = 50 * time.Millisecond },
			steps: []step{licensed, {name: "slow", before: func(s *licensetest.Server, _ *testclock.Clock) { s.SetDelay(time.Hour) },
				check: true, want: StateGrace, saml: true, oauth: true}}},
		{name: "500: grace", lic: ent,
			steps: []step{licensed, {name: "500", before: status(500), check: true, want: StateGrace, saml: true, oauth: true}}},
		{name: "404 (wrong URL or proxy): grace, not invalid", lic: ent,
			steps: []step{licensed, {name: "404", before: status(404), check: true, want: StateGrace, saml: true, oauth: true}}},
		{name: "unreadable answer: grace", lic: ent,
			steps: []step{licensed, {name: "garbage", before: func(s *licensetest.Server, _ *testclock.Clock) {
				s.Override(licensetest.PathValidate, 200, []byte("{not json"))
			}, check: true, want: StateGrace, saml: true, oauth: true}}},
		{name: "answer without valid: grace", lic: ent,
			steps: []step{licensed, {name: "no valid", before: func(s *licensetest.Server, _ *testclock.Clock) {
				s.Override(licensetest.PathValidate, 200, []byte(`{"tier":"enterprise"}`))
			}, check: true, want: StateGrace, saml: true, oauth: true}}},
		{name: "oversized answer: grace", lic: ent,
			steps: []step{licensed, {name: "2 MiB", before: func(s *licensetest.Server, _ *testclock.Clock) {
				s.Override(licensetest.PathValidate, 200, []byte(`{"valid":true,"customer":"`+strings.Repeat("x", 2<<20)+`"}`))
			}, check: true, want: StateGrace, saml: true, oauth: true}}},
		{name: "features endpoint failing: the whole check fails (grace)", lic: ent,
			steps: []step{licensed, {name: "features 503", before: func(s *licensetest.Server, _ *testclock.Clock) {
				s.Override(licensetest.PathFeatures, 503, nil)
			}, check: true, want: StateGrace, saml: true, oauth: true}}},
		{name: "features endpoint refusing the key: invalid", lic: ent,
			steps: []step{licensed, {name: "features 401", before: func(s *licensetest.Server, _ *testclock.Clock) {
				s.Override(licensetest.PathFeatures, 401, nil)
			}, check: true, want: StateInvalid}}},
		{name: "unreachable from the start: off (no answer to keep)", lic: ent,
			steps: []step{{name: "503", before: status(503), check: true, want: StateUnreachable}}},
		{name: "flapping: grace covers the down phases", lic: ent,
			steps: []step{
				{name: "up", before: func(s *licensetest.Server, _ *testclock.Clock) { s.SetFlapping(true) }, check: true, want: StateLicensed, saml: true, oauth: true},
				{name: "down", before: advance(time.Minute), check: true, want: StateGrace, saml: true, oauth: true},
				{name: "up again", before: advance(time.Minute), check: true, want: StateLicensed, saml: true, oauth: true},
				{name: "down again", before: advance(time.Minute), check: true, want: StateGrace, saml: true, oauth: true},
			}},
		{name: "no check for a whole grace period (stalled loop): off", lic: ent,
			steps: []step{licensed, {name: "72h later", before: advance(grace), want: StateUnreachable}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := licensetest.New(t, tt.lic)
			c, clk, _ := newClient(t, srv, tt.mutate)
			for _, st := range tt.steps {
				if st.before != nil {
					st.before(srv, clk)
				}
				if st.check {
					c.check(t.Context())
				}
				status := c.Status()
				if status.State != st.want {
					t.Fatalf("%s: state %q, want %q (last error %q)", st.name, status.State, st.want, status.LastError)
				}
				if got := c.HasFeature(t.Context(), FeatureSSOSAML); got != st.saml {
					t.Errorf("%s: HasFeature(sso_saml) = %v, want %v", st.name, got, st.saml)
				}
				if got := c.HasFeature(t.Context(), FeatureSSOOAuth); got != st.oauth {
					t.Errorf("%s: HasFeature(sso_oauth) = %v, want %v", st.name, got, st.oauth)
				}
				if c.HasFeature(t.Context(), "unknown_feature") {
					t.Errorf("%s: HasFeature(unknown_feature) = true", st.name)
				}
				if status.Valid != st.want.grants() {
					t.Errorf("%s: Valid = %v in state %s", st.name, status.Valid, st.want)
				}
				if st.check && st.want != StateExpired && (status.LastError == "") != (st.want == StateLicensed) {
					t.Errorf("%s: LastError = %q in state %s", st.name, status.LastError, st.want)
				}
			}
			if c.key == "" && len(srv.Requests()) != 0 {
				t.Errorf("without a key the client sent %v", paths(srv.Requests()))
			}
		})
	}
}

// A check asks validate, then features for each watched feature, with the key as Bearer token
// and the product in every body.
func TestCheckSpeaksTheProtocol(t *testing.T) {
	lic := licensetest.Enterprise()
	lic.Product = "gatehouse-eu"
	srv := licensetest.New(t, lic)
	c, _, _ := newClient(t, srv, func(o *Options) { o.Product = "gatehouse-eu" })
	if failed := c.check(t.Context()); failed {
		t.Fatalf("check failed: %s", c.Status().LastError)
	}
	reqs := srv.Requests()
	want := []string{licensetest.PathValidate, licensetest.PathFeatures, licensetest.PathFeatures}
	if got := paths(reqs); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("requests %v, want %v", got, want)
	}
	var asked []string
	for _, r := range reqs {
		if r.Method != http.MethodPost || r.Bearer() != licensetest.ValidKey || r.ContentType != "application/json" {
			t.Errorf("%s: %s, Authorization %q, Content-Type %q", r.Path, r.Method, r.Authorization, r.ContentType)
		}
		if !r.HasProduct || r.Product != "gatehouse-eu" {
			t.Errorf("%s: body %s lacks the product", r.Path, r.Body)
		}
		if r.Path == licensetest.PathFeatures {
			asked = append(asked, r.Feature)
		}
	}
	if strings.Join(asked, ",") != "sso_oauth,sso_saml" {
		t.Errorf("features asked: %v", asked)
	}
}

// The features endpoint is the authority on the watched features, over the validate document.
func TestFeaturesEndpointDecides(t *testing.T) {
	srv := licensetest.New(t, licensetest.Enterprise())
	srv.Override(licensetest.PathFeatures, 200, []byte(`{"features":[{"name":"sso_saml","entitled":false,"units":-1}]}`))
	c, _, _ := newClient(t, srv, func(o *Options) { o.Features = []string{FeatureSSOSAML} })
	c.check(t.Context())
	if c.HasFeature(t.Context(), FeatureSSOSAML) {
		t.Error("sso_saml on although the features endpoint says not entitled")
	}
	// Unwatched features come from the validate document.
	if !c.HasFeature(t.Context(), FeatureSSOOAuth) {
		t.Error("sso_oauth (from the validate document) off")
	}
	srv.Override(licensetest.PathFeatures, 200, []byte(`{"features":[]}`))
	c.check(t.Context())
	if c.HasFeature(t.Context(), FeatureSSOSAML) {
		t.Error("an empty features answer counted as entitled")
	}
}
