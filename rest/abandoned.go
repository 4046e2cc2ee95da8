package rest

import (
	"context"
	"errors"
	"net/http"

	"github.com/gatehousehq/gatehouse"
)

// StatusClientClosedRequest is the status recorded for a request whose client went away before
// the answer was written (nginx's 499). It is never seen by a client — there is none left to see
// it — but the access log and the metrics count it apart from the server's own failures: a load
// generator stopping or a closed browser tab is not something to page an operator for.
const StatusClientClosedRequest = 499

// ClientGone reports whether the client of r has gone away: net/http cancels a request's context
// when its connection closes (or its HTTP/2 stream is reset) while the handler runs. Shutting the
// server down does not cancel it, so a cancelled request context means the client left.
func ClientGone(r *http.Request) bool {
	return errors.Is(r.Context().Err(), context.Canceled)
}

// abandoned reports whether a failure is the consequence of the client leaving: the client is
// gone and the error is the database work that stopped with it (unavailable, or a cancellation).
// Any other error of an abandoned request (a bug) is still reported as the 5xx it is.
func abandoned(r *http.Request, err error) bool {
	return ClientGone(r) && (gatehouse.ErrorCode(err) == gatehouse.EUnavailable || errors.Is(err, context.Canceled))
}
