package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gatehousehq/gatehouse/internal/auth"
)

// clientIP returns the address of the client. X-Forwarded-For is believed only from peers in
// trusted (TRUSTED_PROXIES): the header is read right to left, skipping trusted proxies, and the
// first untrusted address is the client. Without trusted proxies it is the peer address.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	peer := peerAddr(r)
	if len(trusted) == 0 || !inPrefixes(peer, trusted) {
		return addrString(peer, r.RemoteAddr)
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return addrString(peer, r.RemoteAddr) // a malformed hop: trust nothing further
			}
			a = a.Unmap()
			if !inPrefixes(a, trusted) {
				return a.String()
			}
			peer = a
		}
	}
	return addrString(peer, r.RemoteAddr)
}

// ClientIP is the client address as the API sees it, for the other front ends (the web pages),
// so that throttling, tracking and audit see one address whichever door a request came in by.
func ClientIP(r *http.Request, trusted []netip.Prefix) string { return clientIP(r, trusted) }

// maxUserAgent bounds the User-Agent kept for tracking and audit (the store cuts it again on a
// character boundary and makes it valid UTF-8).
const maxUserAgent = 512

// Client describes the caller of r for tracking, throttling and audit: the client address as
// TRUSTED_PROXIES let it be known, and the User-Agent. The API, the pages and SSO all use it, so
// a browser and an API client are recorded and throttled alike.
func Client(r *http.Request, trusted []netip.Prefix) auth.Client {
	ua := r.UserAgent()
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	return auth.Client{IP: clientIP(r, trusted), UserAgent: ua}
}

func peerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func addrString(a netip.Addr, fallback string) string {
	if a.IsValid() {
		return a.String()
	}
	return fallback
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
