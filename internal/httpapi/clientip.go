package httpapi

import (
	"net/http"
	"net/netip"

	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/rest"
)

// clientIP is rest.ClientIP.
func clientIP(r *http.Request, trusted []netip.Prefix) string { return rest.ClientIP(r, trusted) }

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
