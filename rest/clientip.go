package rest

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the address of the client. X-Forwarded-For is believed only from peers in
// trusted (TRUSTED_PROXIES): the header is read right to left, skipping trusted proxies, and the
// first untrusted address is the client. Without trusted proxies it is the peer address.
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
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

// OverTLS reports whether the client reached us over TLS: directly, or through a trusted proxy
// that says so in X-Forwarded-Proto (its last value, the one the nearest proxy set).
func OverTLS(r *http.Request, trusted []netip.Prefix) bool {
	if r.TLS != nil {
		return true
	}
	proto := r.Header.Values("X-Forwarded-Proto")
	if len(proto) == 0 || !inPrefixes(peerAddr(r), trusted) {
		return false
	}
	last := proto[len(proto)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.EqualFold(strings.TrimSpace(last), "https")
}
