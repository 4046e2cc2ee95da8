package rest

import (
	"net/http"
	"strconv"

	"github.com/gatehousehq/gatehouse"
)

// Handler is the shape of every Gatehouse handler, built-in or a host's. It writes only
// successful responses (with Respond and its siblings) and returns an error for everything else,
// so that one writer (WriteError) decides how errors look on the wire and no handler can forget
// to log a cause or leak one.
type Handler func(w http.ResponseWriter, r *http.Request) error

// AuthMode says who may call a route.
type AuthMode int

const (
	// Public routes need no credentials.
	Public AuthMode = iota
	// Authenticated routes need a valid bearer access token (or API key) of an account that is
	// not required to change its password first.
	Authenticated
	// AuthenticatedMayChangePassword is Authenticated, but also open to accounts that must
	// change their password: the few routes that let them do it (me, change password, logout).
	AuthenticatedMayChangePassword
	// OptionalAuthMayChangePassword routes read a bearer token when one is sent (of any account,
	// even one that must change its password), and also work without (logout).
	OptionalAuthMayChangePassword
	// AuthenticatedTwoFactorSetup is Authenticated, but also open to accounts that must set up a
	// second factor first (SECURITY_TWO_FACTOR_REQUIRED): the /me/2fa routes that let them.
	AuthenticatedTwoFactorSetup
)

// Route is one entry of the API's URL surface.
type Route struct {
	// Pattern is an http.ServeMux pattern with a method and no host, such as
	// "POST /api/v1/teams/{id}/members". GET patterns also answer HEAD.
	Pattern string
	// Handler serves the route.
	Handler Handler
	// BodyLimit overrides the server's body size limit for this route; 0 keeps the default.
	BodyLimit int64
	// Auth says who may call the route; the zero value is Public.
	Auth AuthMode
	// Action names the authorization action that guards the route ("teams.read"), "" when the
	// route is not guarded by one. It is what the authorization matrix and its test join routes
	// and rules by; the decision itself is taken by the service the handler calls.
	Action string
	// Doc describes the route in the API's OpenAPI document; a route without one appears there
	// with its path, parameters, security and error responses only.
	Doc *Operation
}

// Respond writes data as a success envelope with the given status, which must allow a body (use
// 200 or 201, not 204: every API response is an envelope). It encodes before writing, so an
// encoding failure is returned (and becomes a 500 envelope through WriteError) instead of
// producing a half-written body. Handlers typically end with
//
//	return rest.Respond(w, r, http.StatusOK, resp)
func Respond(w http.ResponseWriter, r *http.Request, status int, data any) error {
	env := Envelope{Status: StatusSuccess, Data: data, Meta: metaFor(r)}
	if err := sendEnvelope(w, status, env); err != nil {
		return gatehouse.Wrap(gatehouse.EInternal, err, "encoding the response")
	}
	return nil
}

// RespondCreated answers 201 Created for a new resource: its URL in Location (RFC 9110 §15.3.2),
// its ETag, and the resource in the envelope.
func RespondCreated(w http.ResponseWriter, r *http.Request, location string, data any) error {
	w.Header().Set("Location", location)
	return RespondResource(w, r, http.StatusCreated, data)
}

// PathID reads the positive integer path value name ("id", "project_id"). Anything else is a
// not_found "<what> not found": a malformed id names no resource, and answering 400 would tell a
// prober which ids are well formed.
func PathID(r *http.Request, name, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, gatehouse.Errorf(gatehouse.ENotFound, "%s not found", what)
	}
	return id, nil
}
