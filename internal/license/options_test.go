package license

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/license/licensetest"
)

func TestNewRejectsBadOptions(t *testing.T) {
	const malformed = "peng-abcd-efgh-ijkl-mnop-1a2b"
	tests := []struct {
		name  string
		o     Options
		field string
	}{
		{"malformed key", Options{Key: malformed}, "LICENSE_KEY"},
		{"key with a space inside", Options{Key: "PENG-ABCD EFGH-IJKL-MNOP-1A2B"}, "LICENSE_KEY"},
		{"ftp URL", Options{ServerURL: "ftp://license.example.com"}, "LICENSE_SERVER_URL"},
		{"URL without host", Options{ServerURL: "https://"}, "LICENSE_SERVER_URL"},
		{"relative URL", Options{ServerURL: "license.example.com"}, "LICENSE_SERVER_URL"},
		{"URL with credentials", Options{ServerURL: "https://u:p@license.example.com"}, "LICENSE_SERVER_URL"},
		{"URL with query", Options{ServerURL: "https://license.example.com/?a=b"}, "LICENSE_SERVER_URL"},
		{"negative refresh", Options{RefreshInterval: -time.Second}, "LICENSE_REFRESH_INTERVAL"},
		{"negative grace", Options{GracePeriod: -time.Second}, "LICENSE_GRACE_PERIOD"},
		{"negative timeout", Options{Timeout: -time.Second}, "Timeout"},
		{"empty feature name", Options{Features: []string{"sso_saml", " "}}, "Features"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.o)
			if err == nil {
				t.Fatalf("New accepted %+v", tt.o)
			}
			if c != nil {
				t.Error("New returned a client with its error")
			}
			if gatehouse.ErrorCode(err) != gatehouse.EInvalid || gatehouse.ErrorFields(err)[tt.field] == "" {
				t.Errorf("error %v does not name %s", err, tt.field)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error text %q does not name %s", err, tt.field)
			}
			if tt.o.Key != "" && strings.Contains(err.Error(), tt.o.Key) {
				t.Errorf("error text repeats the key: %v", err)
			}
		})
	}
	// Every problem at once.
	_, err := New(Options{Key: malformed, ServerURL: "nope", GracePeriod: -1})
	if f := gatehouse.ErrorFields(err); len(f) != 3 {
		t.Errorf("fields %v, want LICENSE_KEY, LICENSE_SERVER_URL and LICENSE_GRACE_PERIOD", f)
	}
}

// A malformed key is reported by New and never reaches the network.
func TestMalformedKeyNeverSent(t *testing.T) {
	srv := licensetest.New(t, licensetest.Enterprise())
	for _, key := range []string{"PENG-ABCD-EFGH", "peng-abcd-efgh-ijkl-mnop-1a2b", "Bearer PENG-ABCD-EFGH-IJKL-MNOP-1A2B"} {
		if _, err := New(Options{Key: key, ServerURL: srv.URL, HTTPClient: srv.Client()}); err == nil {
			t.Errorf("New accepted the key %q", key)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("the fake server received %d requests", n)
	}
}

func TestNewDefaults(t *testing.T) {
	c, err := New(Options{Key: "  " + licensetest.ValidKey + "\n", ServerURL: "https://license.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if c.key != licensetest.ValidKey {
		t.Errorf("key not trimmed")
	}
	if c.baseURL != "https://license.example.com" || c.product != "gatehouse" || c.refresh != time.Hour ||
		c.grace != 72*time.Hour || c.keepaliveEvery != time.Hour || c.timeout != DefaultTimeout || c.retryMin != DefaultRetryMin {
		t.Errorf("defaults: url %s product %s refresh %v grace %v keepalive %v timeout %v retry %v",
			c.baseURL, c.product, c.refresh, c.grace, c.keepaliveEvery, c.timeout, c.retryMin)
	}
	if !slicesEqual(c.watched, []string{FeatureSSOOAuth, FeatureSSOSAML}) {
		t.Errorf("watched features %v", c.watched)
	}
	if c.http.CheckRedirect == nil {
		t.Error("the default HTTP client follows redirects (and would replay the bearer key)")
	}
	c2, err := New(Options{Key: licensetest.ValidKey, ServerURL: "https://license.example.com/base/"})
	if err != nil || c2.baseURL != "https://license.example.com/base" {
		t.Errorf("base URL %q, %v", c2.baseURL, err)
	}
}

func slicesEqual(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{"", time.Time{}, false},
		{"2030-05-06T07:08:09Z", time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC), false},
		{"2030-05-06T07:08:09.123456+00:00", time.Date(2030, 5, 6, 7, 8, 9, 123456000, time.UTC), false},
		{"2030-05-06T09:08:09+02:00", time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC), false},
		{"2030-05-06T07:08:09", time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC), false},
		{"2030-05-06 07:08:09.5", time.Date(2030, 5, 6, 7, 8, 9, 500000000, time.UTC), false},
		{"2030-05-06", time.Date(2030, 5, 7, 0, 0, 0, 0, time.UTC), false},
		{"next tuesday", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := parseTime(tt.in)
		if (err != nil) != tt.bad || !got.Equal(tt.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}
