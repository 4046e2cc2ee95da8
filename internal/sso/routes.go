package sso

import (
	"net/http"

	"github.com/gatehousehq/gatehouse/internal/transport"
	"github.com/gatehousehq/gatehouse/rest"
)

// APIRoutes returns the JSON endpoints, for the API server (httpapi.WithRoutes), with the API's
// middleware and envelope: the public list of sign-in providers and the administration of a
// user's SSO state. What each route is (authentication, body limit, action) is the route
// table's (internal/transport/table.go); here is only who answers it.
func (s *Service) APIRoutes() []rest.Route {
	h := &handlers{s: s}
	routes := transport.APIRoutes(map[string]rest.Handler{
		"GET /api/v1/sso/providers": h.providers,
		// Not license-gated, so that an administrator can let SSO-only users back in with a
		// password while SSO is off.
		"GET /api/v1/users/{user_id}/sso":                             h.adminGet,
		"PUT /api/v1/users/{user_id}/sso":                             h.adminPut,
		"POST /api/v1/users/{user_id}/sso/identities":                 h.adminLink,
		"DELETE /api/v1/users/{user_id}/sso/identities/{identity_id}": h.adminUnlink,
	})
	ops := Operations()
	for i := range routes {
		if op, ok := ops[routes[i].Pattern]; ok {
			routes[i].Doc = &op
		}
	}
	return routes
}

// Operations describes the JSON endpoints for the API's OpenAPI document (internal/apidoc), as
// internal/httpapi's Operations does its own; APIRoutes puts each on its route.
func Operations() map[string]rest.Operation {
	return map[string]rest.Operation{
		"GET /api/v1/sso/providers": {Summary: "The single sign-on providers the login page offers",
			Response: struct {
				Providers []providerData `json:"providers"`
			}{}},
		"GET /api/v1/users/{user_id}/sso": {Summary: "A user's single sign-on state and linked identities", Response: ssoAccountData{},
			Errors: []int{http.StatusBadRequest}}, // a user id that is not a positive integer
		"PUT /api/v1/users/{user_id}/sso": {Summary: "Set whether a user signs in by single sign-on only", Request: ssoPut{}, Response: ssoAccountData{},
			Errors: []int{http.StatusBadRequest, http.StatusConflict}},
		"POST /api/v1/users/{user_id}/sso/identities": {Summary: "Link an identity of a provider to a user", Request: identityPost{}, Response: ssoAccountData{},
			Status: http.StatusCreated, Errors: []int{http.StatusConflict}},
		"DELETE /api/v1/users/{user_id}/sso/identities/{identity_id}": {Summary: "Unlink an identity from a user", Response: ssoAccountData{},
			Errors: []int{http.StatusBadRequest, http.StatusConflict}},
	}
}

// Pages are where the browser endpoints are served: the web pages (*web.Web), whose chain
// (panic recovery, access log, security headers, page session, cross-origin protection of
// POSTs unless the route table says the route takes cross-site posts, the route's body limit)
// they run behind, and whose error page they answer with.
type Pages interface {
	// Handle serves a page route of the route table.
	Handle(pattern string, h http.Handler)
	// ErrorPage answers with the pages' error page.
	ErrorPage(w http.ResponseWriter, r *http.Request, status int, title, message string)
}

// Mount adds the browser endpoints (/sso/…) to p. sessions starts the browser session of a
// completed sign-in (the web pages' EstablishSession).
//
// Their errors are the pages' error page with a link back, or the JSON envelope for a client
// that asks for JSON (Accept: application/json).
func (s *Service) Mount(p Pages, sessions SessionStarter) {
	h := &handlers{s: s, pages: p, sessions: sessions}
	browser := map[string]func(http.ResponseWriter, *http.Request) error{
		"GET /sso/oidc/{provider}/login":    h.oidcLogin,
		"GET /sso/oidc/{provider}/callback": h.oidcCallback,
		"GET /sso/saml/metadata":            h.samlMetadata,
		"GET /sso/saml/login":               h.samlLogin,
		"POST /sso/saml/acs":                h.samlACS,
	}
	for _, b := range transport.Bind(browser, transport.Page, transport.PageCrossSite) {
		p.Handle(b.Pattern, h.serve(b.Handler))
	}
}

// serve adapts a browser endpoint: the error a handler returns (handlers answer browsers
// themselves, through page) is written as the JSON envelope by the one writer, rest.WriteError.
func (h *handlers) serve(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			// The pages' chain has no API request state: this one gives the envelope its
			// meta (the API version these answers follow, the clock) and the writer its log.
			st := &rest.State{MetaVersion: apiVersion, Now: h.s.now, Logger: h.s.log}
			rest.WriteError(w, r.WithContext(rest.NewContext(r.Context(), st)), err)
		}
	})
}

// apiVersion is the meta.version of the JSON errors of the browser endpoints: the API version
// whose envelope they follow.
const apiVersion = 1
