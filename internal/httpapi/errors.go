package httpapi

import (
	"net/http"

	"github.com/gatehousehq/gatehouse"

	"github.com/gatehousehq/gatehouse/rest"
)

// StatusFor returns the HTTP status for a domain error code (rest.StatusFor: the one table).
func StatusFor(code gatehouse.Code) int { return rest.StatusFor(code) }

// writeError writes every error response of the API through the one writer, rest.WriteError.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	rest.WriteError(w, r, err)
}

// tooLarge is the error for a body over the limit.
func tooLarge(limit int64) *gatehouse.Error { return rest.TooLarge(limit) }
