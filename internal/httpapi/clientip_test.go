package httpapi

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxies configured: XFF ignored", "203.0.113.9:5000", []string{"1.2.3.4"}, nil, "203.0.113.9"},
		{"untrusted peer: XFF ignored", "203.0.113.9:5000", []string{"1.2.3.4"}, trusted, "203.0.113.9"},
		{"trusted peer: last untrusted hop", "10.1.1.1:5000", []string{"1.2.3.4, 198.51.100.7"}, trusted, "198.51.100.7"},
		{"chain of trusted proxies", "127.0.0.1:5000", []string{"198.51.100.7, 10.2.2.2", "10.3.3.3"}, trusted, "198.51.100.7"},
		{"spoofed leftmost value does not win", "10.1.1.1:5000", []string{"6.6.6.6, 198.51.100.7"}, trusted, "198.51.100.7"},
		{"malformed hop: stop at the proxy", "10.1.1.1:5000", []string{"not-an-ip"}, trusted, "10.1.1.1"},
		{"all hops trusted", "10.1.1.1:5000", []string{"10.9.9.9"}, trusted, "10.9.9.9"},
		{"IPv6 peer", "[2001:db8::1]:443", nil, trusted, "2001:db8::1"},
		{"IPv4-mapped IPv6 is unmapped", "[::ffff:10.1.1.1]:5000", []string{"198.51.100.7"}, trusted, "198.51.100.7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, tc.trusted); got != tc.want {
				t.Fatalf("clientIP = %q, want %q", got, tc.want)
			}
		})
	}
}
