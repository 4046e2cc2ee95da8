package license

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehousehq/gatehouse/internal/license/licensetest"
)

// The loop tests run in a synctest bubble: time is fake and advances only when every goroutine
// is blocked, so "sleep an hour" is instant and the request times recorded by the in-memory
// fake server are exact.

// newBubbleClient returns a client of an in-memory fake server; call it inside the bubble. The
// clock is the bubble's (Now is left nil), and jitter is off so that retry times are exact.
func newBubbleClient(t *testing.T, lic licensetest.License, mutate func(*Options)) (*Client, *licensetest.Server, *logs) {
	t.Helper()
	srv := licensetest.NewInMemory(t, lic)
	logger, lg := newLogs()
	o := Options{Key: licensetest.ValidKey, ServerURL: srv.URL, HTTPClient: srv.Client(), Logger: logger}
	if mutate != nil {
		mutate(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c.jitter = func(d time.Duration) time.Duration { return d }
	return c, srv, lg
}

// offsets returns the times of the requests to path, relative to start.
func offsets(srv *licensetest.Server, path string, start time.Time) []time.Duration {
	var out []time.Duration
	for _, r := range srv.Requests() {
		if r.Path == path {
			out = append(out, r.Time.Sub(start))
		}
	}
	return out
}

func TestRunSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		c, srv, _ := newBubbleClient(t, licensetest.Enterprise(), func(o *Options) {
			o.RefreshInterval = time.Hour
			o.KeepaliveInterval = 20 * time.Minute
		})
		stop := runInBackground(t, c)
		synctest.Wait()
		// Validate at once, ask about each gated feature, then report the installation.
		want := []string{licensetest.PathValidate, licensetest.PathFeatures, licensetest.PathFeatures, licensetest.PathKeepalive}
		if got := paths(srv.Requests()); !slices.Equal(got, want) {
			t.Fatalf("at start: %v, want %v", got, want)
		}
		if !c.HasFeature(t.Context(), FeatureSSOSAML) {
			t.Fatal("sso_saml off after a valid answer")
		}
		time.Sleep(3*time.Hour + time.Minute)
		synctest.Wait()
		stop()
		h := time.Hour
		if got, want := offsets(srv, licensetest.PathValidate, start), []time.Duration{0, h, 2 * h, 3 * h}; !slices.Equal(got, want) {
			t.Errorf("validate at %v, want %v", got, want)
		}
		m := time.Minute
		if got, want := offsets(srv, licensetest.PathKeepalive, start), []time.Duration{0, 20 * m, 40 * m, 60 * m, 80 * m, 100 * m, 120 * m, 140 * m, 160 * m, 180 * m}; !slices.Equal(got, want) {
			t.Errorf("keepalive at %v, want %v", got, want)
		}
		if n := srv.Count(licensetest.PathFeatures); n != 8 {
			t.Errorf("%d features requests, want 2 per check", n)
		}
	})
}

func TestRunBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		c, srv, _ := newBubbleClient(t, licensetest.Enterprise(), func(o *Options) {
			o.RefreshInterval = time.Hour
			o.RetryMin = time.Minute
		})
		srv.SetStatus(http.StatusServiceUnavailable)
		stop := runInBackground(t, c)
		defer stop()
		time.Sleep(5 * time.Hour)
		synctest.Wait()
		// Retries after 1, 2, 4, 8, 16, 32 minutes, then capped at the refresh interval.
		m := time.Minute
		wantGaps := []time.Duration{m, 2 * m, 4 * m, 8 * m, 16 * m, 32 * m, 60 * m, 60 * m}
		got := offsets(srv, licensetest.PathValidate, start)
		if len(got) < len(wantGaps)+1 {
			t.Fatalf("validate at %v", got)
		}
		for i, want := range wantGaps {
			if gap := got[i+1] - got[i]; gap != want {
				t.Errorf("gap %d = %v, want %v (validate at %v)", i+1, gap, want, got)
			}
		}
		if srv.Count(licensetest.PathFeatures) != 0 || srv.Count(licensetest.PathKeepalive) != 0 {
			t.Errorf("requests after failed validates: %v", paths(srv.Requests()))
		}

		// Recovery resets the backoff: the next check after a success is a refresh interval later.
		srv.SetStatus(0)
		last := got[len(got)-1]
		time.Sleep(time.Until(start.Add(last + time.Hour + time.Minute)))
		synctest.Wait()
		if c.Status().State != StateLicensed {
			t.Fatalf("state %s after the server came back", c.Status().State)
		}
		got = offsets(srv, licensetest.PathValidate, start)
		okAt := got[len(got)-1]
		time.Sleep(time.Until(start.Add(okAt + time.Hour + time.Minute)))
		synctest.Wait()
		got = offsets(srv, licensetest.PathValidate, start)
		if gap := got[len(got)-1] - okAt; gap != time.Hour {
			t.Errorf("after recovery the next check came %v later, want 1h (validate at %v)", gap, got)
		}
	})
}

func TestEqualJitter(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 2, 3, time.Second, time.Hour} {
		for range 200 {
			if j := equalJitter(d); j < d/2 || j > d {
				t.Fatalf("equalJitter(%v) = %v, outside [d/2, d]", d, j)
			}
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	c, err := New(Options{Key: licensetest.ValidKey, ServerURL: "https://license.example.com", RefreshInterval: 10 * time.Minute, RetryMin: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	c.jitter = func(d time.Duration) time.Duration { return d }
	m := time.Minute
	for n, want := range map[int]time.Duration{1: m, 2: 2 * m, 3: 4 * m, 4: 8 * m, 5: 10 * m, 60: 10 * m, 1000: 10 * m} {
		if got := c.backoff(n); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
	// RetryMin above the refresh interval is capped by it.
	c2, _ := New(Options{Key: licensetest.ValidKey, ServerURL: "https://license.example.com", RefreshInterval: time.Minute, RetryMin: time.Hour})
	c2.jitter = c.jitter
	if got := c2.backoff(1); got != time.Minute {
		t.Errorf("backoff(1) = %v with RetryMin > RefreshInterval", got)
	}
}

// Grace runs from the last good answer; the loop turns features off at its end by itself, and
// each transition is logged once however many checks fail.
func TestRunGracePeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		c, srv, lg := newBubbleClient(t, licensetest.Enterprise(), func(o *Options) {
			o.RefreshInterval = time.Hour
			o.GracePeriod = 3 * time.Hour
			o.RetryMin = 5 * time.Minute
			o.KeepaliveInterval = 10 * time.Hour // no other wake-up at the end of grace
		})
		stop := runInBackground(t, c)
		defer stop()
		synctest.Wait()
		srv.SetStatus(http.StatusServiceUnavailable)

		at := func(d time.Duration) {
			time.Sleep(time.Until(start.Add(d)))
			synctest.Wait()
		}
		at(time.Hour + time.Minute)
		if st := c.Status(); st.State != StateGrace || !c.HasFeature(t.Context(), FeatureSSOSAML) {
			t.Fatalf("after the first failure: %s, sso_saml %v", st.State, c.HasFeature(t.Context(), FeatureSSOSAML))
		}
		if got, want := c.Status().GraceUntil, start.Add(3*time.Hour); !got.Equal(want) {
			t.Errorf("GraceUntil %v, want %v", got, want)
		}
		at(3*time.Hour - time.Nanosecond)
		if !c.HasFeature(t.Context(), FeatureSSOSAML) {
			t.Fatal("sso_saml off before the grace period ended")
		}
		at(3 * time.Hour)
		if st := c.Status(); st.State != StateUnreachable || c.HasFeature(t.Context(), FeatureSSOSAML) {
			t.Fatalf("at the end of grace: %s, sso_saml %v", st.State, c.HasFeature(t.Context(), FeatureSSOSAML))
		}
		if n := lg.count("WARN", "license server unreachable and no license answer"); n != 1 {
			t.Errorf("%d 'features off' warnings by the end of grace, want 1 (logged by the loop at the boundary):\n%s", n, lg)
		}
		at(6 * time.Hour)
		failures := srv.Count(licensetest.PathValidate) - 1
		if failures < 5 {
			t.Fatalf("only %d failed checks", failures)
		}
		for msg, want := range map[string]int{
			"license valid":                     1,
			"licensed features stay on until":   1,
			"license server unreachable and no": 1,
		} {
			if n := lg.count("INFO", msg) + lg.count("WARN", msg); n != want {
				t.Errorf("%q logged %d times over %d failed checks, want %d:\n%s", msg, n, failures, want, lg)
			}
		}

		srv.SetStatus(0)
		at(7*time.Hour + time.Minute) // the backoff is capped at the refresh interval
		if st := c.Status(); st.State != StateLicensed || !c.HasFeature(t.Context(), FeatureSSOSAML) {
			t.Fatalf("after recovery: %s", st.State)
		}
		if n := lg.count("INFO", "license valid"); n != 2 {
			t.Errorf("recovery logged %d 'license valid' lines in all, want 2", n)
		}
	})
}

// A license that expires between refreshes turns features off at expiry; the client then asks
// the server at once whether it was renewed.
func TestRunExpiryBetweenRefreshes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		lic := licensetest.Enterprise()
		lic.ExpiresAt = start.Add(90 * time.Minute)
		c, srv, lg := newBubbleClient(t, lic, func(o *Options) { o.RefreshInterval = time.Hour })
		stop := runInBackground(t, c)
		defer stop()
		at := func(d time.Duration) {
			time.Sleep(time.Until(start.Add(d)))
			synctest.Wait()
		}
		at(90*time.Minute - time.Nanosecond)
		if !c.HasFeature(t.Context(), FeatureSSOOAuth) {
			t.Fatal("sso_oauth off before expiry")
		}
		at(90 * time.Minute)
		if st := c.Status(); st.State != StateExpired || c.HasFeature(t.Context(), FeatureSSOOAuth) {
			t.Fatalf("at expiry: %s", st.State)
		}
		if got, want := offsets(srv, licensetest.PathValidate, start), []time.Duration{0, time.Hour, 90 * time.Minute}; !slices.Equal(got, want) {
			t.Errorf("validate at %v, want %v (a check at expiry)", got, want)
		}
		if n := lg.count("WARN", "license expired"); n != 1 {
			t.Errorf("%d expiry warnings, want 1:\n%s", n, lg)
		}
		// Renewed: the next refresh brings the features back.
		lic.ExpiresAt = start.Add(365 * 24 * time.Hour)
		srv.SetLicense(lic)
		at(150*time.Minute + time.Second)
		if st := c.Status(); st.State != StateLicensed || !st.ExpiresAt.Equal(lic.ExpiresAt.Truncate(time.Second)) {
			t.Errorf("after renewal: %s, expires %v", st.State, st.ExpiresAt)
		}
	})
}

// Run returns when ctx ends, also in the middle of a request; the interrupted check changes
// nothing.
func TestRunStopsOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, srv, _ := newBubbleClient(t, licensetest.Enterprise(), nil)
		release := srv.Hold()
		defer release()
		stop := runInBackground(t, c)
		if _, err := srv.WaitFor(t.Context(), countPath(licensetest.PathValidate, 1)); err != nil {
			t.Fatal(err)
		}
		stop() // returns only once Run has
		if st := c.Status(); st.State != StatePending || !st.LastCheck.IsZero() {
			t.Errorf("after an interrupted check: %s, last check %v", st.State, st.LastCheck)
		}
	})
}

func TestRunWithoutKey(t *testing.T) {
	srv := licensetest.New(t, licensetest.Enterprise())
	c, _, lg := newClient(t, srv, func(o *Options) { o.Key = "" })
	c.Run(t.Context()) // returns at once
	if n := lg.count("INFO", "community tier"); n != 1 {
		t.Errorf("%d community-tier lines, want 1:\n%s", n, lg)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests without a key", n)
	}
	c.Run(t.Context())
	if n := lg.count("ERROR", "Run called twice"); n != 1 {
		t.Errorf("a second Run was not reported:\n%s", lg)
	}
}

// HasFeature and Status answer while a check is stuck in the server: the ordering is proven by
// the server holding the request (it cannot complete before release), not by timing.
func TestHasFeatureNeverBlocks(t *testing.T) {
	srv := licensetest.New(t, licensetest.Enterprise())
	c, _, _ := newClient(t, srv, func(o *Options) { o.Timeout = time.Hour })

	// Before any answer: off, at once.
	release := srv.Hold()
	stop := runInBackground(t, c)
	if _, err := srv.WaitFor(t.Context(), countPath(licensetest.PathValidate, 1)); err != nil {
		t.Fatal(err)
	}
	if c.HasFeature(t.Context(), FeatureSSOSAML) {
		t.Error("sso_saml on before any answer")
	}
	if st := c.Status(); st.State != StatePending || !st.LastCheck.IsZero() {
		t.Fatalf("while the first check is held: %s, last check %v", st.State, st.LastCheck)
	}
	stop()
	release()

	// With a good answer cached, while the next check hangs: the cached answer, at once, from
	// many goroutines.
	if failed := c.check(t.Context()); failed {
		t.Fatal(c.Status().LastError)
	}
	checked := c.Status().LastCheck
	release = srv.Hold()
	defer release()
	c.running.Store(false)
	stop = runInBackground(t, c)
	defer stop()
	if _, err := srv.WaitFor(t.Context(), countPath(licensetest.PathValidate, 3)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 100 {
				if !c.HasFeature(context.Background(), FeatureSSOSAML) {
					t.Error("sso_saml off while a refresh is in flight")
					return
				}
			}
		})
	}
	wg.Wait()
	if st := c.Status(); st.State != StateLicensed || !st.LastCheck.Equal(checked) {
		t.Errorf("while the refresh is held: %s, last check %v (want the earlier %v)", st.State, st.LastCheck, checked)
	}
}
