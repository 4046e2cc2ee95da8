// Package transport is what Gatehouse's transports (the JSON API in internal/httpapi, the pages
// in internal/web, single sign-on in internal/sso) share, so that none of them imports another:
//
//   - the route table (table.go): every route of the service in one place, each with the chain of
//     middleware it goes through, its authentication, its body limit and the authorization action
//     that guards it. The packages that serve the routes only bind handlers to its patterns
//     ([Bind]); which requests go to the API and which to the pages is computed from it
//     ([Dispatch]); the authorization matrix test and the API documentation test read it;
//   - the one panic recovery ([Recover]);
//   - the request facts every transport records the same way: the client for tracking, throttling
//     and audit ([Client]) and the access logs' redaction of secrets in URLs ([RedactedURI]).
//
// The JSON envelope, the one JSON error writer and the client address rules are the public
// package rest's.
package transport

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gatehousehq/gatehouse/rest"
)

// Chain names the middleware a route goes through, and so also which handler serves it.
type Chain int

const (
	// API is the JSON API's chain (internal/httpapi): request id, tracing, panic recovery,
	// access log, metrics, body limit, API-version headers, bearer authentication (Auth). Every
	// answer is the envelope, errors included. The operations endpoints (/healthz, /readyz,
	// /metrics) and /.well-known/ go through it too.
	API Chain = iota + 1
	// Page is the server-rendered pages' chain (internal/web): panic recovery, access log,
	// security headers, cross-origin protection of POSTs, the page session and the principal,
	// then the route's gate (Auth: sign-in redirects instead of 401) and, for a form post of
	// the pages, the form parsed within BodyLimit. Errors are HTML pages.
	Page
	// PageCrossSite is Page without the cross-origin protection, for a route that receives
	// another site's form post (the SAML assertion consumer) and protects itself.
	PageCrossSite
	// Asset is Page without the session and the principal: static files and the logo, of which a
	// page pulls several.
	Asset
)

// String names the chain for messages.
func (c Chain) String() string {
	switch c {
	case API:
		return "API"
	case Page:
		return "page"
	case PageCrossSite:
		return "cross-site page"
	case Asset:
		return "asset"
	}
	return fmt.Sprintf("Chain(%d)", int(c))
}

// Route is one route of the URL surface as the table lists it. Its handler is bound by the
// package that serves it (Bind), keyed by Pattern.
type Route struct {
	// Pattern is an http.ServeMux pattern with a method and no host ("GET /api/v1/teams/{id}").
	// GET patterns also answer HEAD.
	Pattern string
	// Chain is the middleware the route goes through.
	Chain Chain
	// Auth says who may use the route. On the API chain a refused caller gets 401 or 403; on
	// the page chains Public means no gate, and the others send the browser to sign in, to
	// change its password or to set up a second factor, as the same modes refuse on the API.
	Auth rest.AuthMode
	// BodyLimit is the largest request body in bytes; 0 is the chain's default (the API server's
	// body limit, 1 MiB unless changed; 64 KiB for a form post of the pages).
	BodyLimit int64
	// Action names the authorization action the route's service decides ("teams.read"), "" when
	// none guards it. The authorization matrix test and document join routes and rules by it.
	Action string
}

// Method is the method part of the pattern.
func (r Route) Method() string { m, _, _ := strings.Cut(r.Pattern, " "); return m }

// Path is the path part of the pattern.
func (r Route) Path() string { _, p, _ := strings.Cut(r.Pattern, " "); return p }

// Routes returns the route table: every route Gatehouse itself serves, in the table's order.
// The slice is the caller's.
func Routes() []Route { return slices.Clone(table) }

// Lookup returns the table's route with the pattern, and whether there is one.
func Lookup(pattern string) (Route, bool) {
	i, ok := tableIndex[pattern]
	if !ok {
		return Route{}, false
	}
	return table[i], true
}

// tableIndex finds a route of the table by pattern. Building it checks the table (a test runs
// it): a pattern listed twice, a route without a chain, an API route with a page chain's path.
var tableIndex = func() map[string]int {
	m := make(map[string]int, len(table))
	for i, r := range table {
		if _, dup := m[r.Pattern]; dup {
			panic(fmt.Sprintf("transport: route %q is listed twice", r.Pattern))
		}
		if r.Chain < API || r.Chain > Asset {
			panic(fmt.Sprintf("transport: route %q has no chain", r.Pattern))
		}
		m[r.Pattern] = i
	}
	return m
}()

// Bound is a route with its handler.
type Bound[H any] struct {
	Route
	Handler H
}

// Bind pairs the routes of the table that handlers serves (keyed by pattern) with their
// handlers, in the table's order. It panics, like http.ServeMux.Handle on a bad pattern, when a
// handler's pattern is not in the table or is there with a chain other than chains: a route is
// added to the table, not next to it.
func Bind[H any](handlers map[string]H, chains ...Chain) []Bound[H] {
	for pattern := range handlers {
		r, ok := Lookup(pattern)
		switch {
		case !ok:
			panic(fmt.Sprintf("transport: a handler is bound to %q, which is not in the route table (internal/transport/table.go)", pattern))
		case !slices.Contains(chains, r.Chain):
			panic(fmt.Sprintf("transport: route %q is on the %s chain in the route table, not %v", pattern, r.Chain, chains))
		}
	}
	out := make([]Bound[H], 0, len(handlers))
	for _, r := range table {
		if h, ok := handlers[r.Pattern]; ok {
			out = append(out, Bound[H]{Route: r, Handler: h})
		}
	}
	return out
}

// APIRoute is a route of the API chain as rest.Route: the table's route with handler h.
func APIRoute(r Route, h rest.Handler) rest.Route {
	return rest.Route{Pattern: r.Pattern, Handler: h, BodyLimit: r.BodyLimit, Auth: r.Auth, Action: r.Action}
}

// APIRoutes binds handlers (keyed by pattern) to their routes of the API chain, as the API
// server takes them (rest.Route). It panics as Bind does.
func APIRoutes(handlers map[string]rest.Handler) []rest.Route {
	bound := Bind(handlers, API)
	out := make([]rest.Route, len(bound))
	for i, b := range bound {
		out[i] = APIRoute(b.Route, b.Handler)
	}
	return out
}

// FromREST is the route a host application's rest.Route adds to the surface: on the API chain.
func FromREST(r rest.Route) Route {
	return Route{Pattern: r.Pattern, Chain: API, Auth: r.Auth, BodyLimit: r.BodyLimit, Action: r.Action}
}
