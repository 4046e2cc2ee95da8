package httpapi

import (
	"net/http"

	"github.com/gatehousehq/gatehouse"
)

// HandlerFunc is the shape of every Gatehouse handler. It writes only successful responses (with
// Respond) and returns an error for everything else, so that one adapter decides how errors look
// on the wire and no handler can forget to log a cause or leak one.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route is one entry of the URL surface.
type Route struct {
	// Pattern is an http.ServeMux pattern with a method and no host, such as
	// "POST /api/v1/teams/{id}/members". GET patterns also answer HEAD.
	Pattern string
	// Handler serves the route.
	Handler HandlerFunc
	// BodyLimit overrides the server's body size limit for this route; 0 keeps the default.
	BodyLimit int64
	// Auth says who may call the route; the zero value is Public.
	Auth AuthMode
}

// adapt turns a HandlerFunc into an http.Handler: the single place where a returned error becomes
// a response.
func (s *server) adapt(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// fromHTTPHandler lets a plain http.Handler (promhttp, for one) sit in the route table. It never
// returns an error because such handlers write their own responses.
func fromHTTPHandler(h http.Handler) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		h.ServeHTTP(w, r)
		return nil
	}
}

// Respond writes data as a success envelope with the given status, which must allow a body (use
// 200 or 201, not 204: every API response is an envelope). It encodes before writing, so
// an encoding failure is returned (and becomes a 500 envelope through the adapter) instead of
// producing a half-written body. Handlers typically end with
//
//	return httpapi.Respond(w, r, http.StatusOK, resp)
func Respond(w http.ResponseWriter, r *http.Request, status int, data any) error {
	env := Envelope{Status: StatusSuccess, Data: data, Meta: metaFor(r)}
	if err := sendEnvelope(w, status, env); err != nil {
		return gatehouse.Wrap(gatehouse.EInternal, err, "encoding the response")
	}
	return nil
}
