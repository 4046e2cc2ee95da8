package httpapi

import (
	"net/http"

	"github.com/gatehousehq/gatehouse/rest"
)

// HandlerFunc is the shape of every handler: rest.Handler.
type HandlerFunc = rest.Handler

// Route is one entry of the API's URL surface: rest.Route.
type Route = rest.Route

// Operation describes a route for the OpenAPI document: rest.Operation.
type Operation = rest.Operation

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
