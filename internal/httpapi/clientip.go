package httpapi

import (
	"net/http"
	"net/netip"

	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/transport"
	"github.com/gatehousehq/gatehouse/rest"
)

// clientIP is rest.ClientIP.
func clientIP(r *http.Request, trusted []netip.Prefix) string { return rest.ClientIP(r, trusted) }

// ClientIP is the client address as the API sees it, for the other front ends (the web pages),
// so that throttling, tracking and audit see one address whichever door a request came in by.
func ClientIP(r *http.Request, trusted []netip.Prefix) string { return clientIP(r, trusted) }

// Client describes the caller of r for tracking, throttling and audit (transport.Client, which
// the pages and SSO use too).
func Client(r *http.Request, trusted []netip.Prefix) auth.Client { return transport.Client(r, trusted) }
