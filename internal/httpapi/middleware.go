package httpapi

import (
	"net/http"

	"github.com/gatehousehq/gatehouse/internal/transport"
)

// HeaderRequestID is the header that carries the request id in both directions.
const HeaderRequestID = transport.HeaderRequestID

// requestID adopts the caller's X-Request-ID when it is sane and otherwise makes a random one
// (transport.RequestID, shared with the pages). The id is echoed in the response and appears in
// meta.request_id and every log line about the request.
func (s *server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stateOf(r).ID = transport.RequestID(w, r)
		next.ServeHTTP(w, r)
	})
}

// recoverPanics is the one panic recovery (transport.Recover) answering with the envelope: a 500
// and one error log line with the stack and the request id.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return transport.Recover(next, func(_ http.ResponseWriter, r *http.Request) bool {
		st := stateOf(r)
		return st != nil && st.rw.wroteHeader
	}, s.writeError)
}

// limitBody caps the request body at the route's limit. A declared Content-Length over the limit is
// refused at once, before anything is read; a body that only turns out too large while being read
// fails that read with *http.MaxBytesError, which Decode and the error adapter turn into a 413.
func (s *server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateOf(r)
		if r.ContentLength > st.BodyLimit {
			s.writeError(w, r, tooLarge(st.BodyLimit))
			return
		}
		// The unwrapped writer is passed so net/http learns the body was cut short and closes the
		// connection instead of trying to read the rest of it.
		r.Body = http.MaxBytesReader(st.rw.ResponseWriter, r.Body, st.BodyLimit)
		next.ServeHTTP(w, r)
	})
}
