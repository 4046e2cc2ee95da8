package httpapi

import (
	"crypto/rand"
	"net/http"

	"github.com/gatehousehq/gatehouse/internal/transport"
)

// HeaderRequestID is the header that carries the request id in both directions.
const HeaderRequestID = "X-Request-ID"

// requestIDKey is HeaderRequestID in the canonical form net/http keys headers by.
var requestIDKey = http.CanonicalHeaderKey(HeaderRequestID)

// maxRequestIDLen bounds an accepted incoming id, so a client cannot bloat every log line.
const maxRequestIDLen = 128

// requestID adopts the caller's X-Request-ID when it is sane, so a request can be followed across
// a proxy or a calling service, and otherwise makes a random one. The id is echoed in the response
// and appears in meta.request_id and every log line about the request.
func (s *server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateOf(r)
		// The map is indexed with the canonical key: Get and Set with "X-Request-ID" would
		// canonicalise it, allocating a new string, on every request.
		var id string
		if v := r.Header[requestIDKey]; len(v) > 0 {
			id = v[0]
		}
		if !validRequestID(id) {
			// 128 random bits in base32: unguessable, and within the accepted alphabet so an id
			// we made can be passed back to us.
			id = rand.Text()
		}
		st.ID = id
		w.Header()[requestIDKey] = []string{id}
		next.ServeHTTP(w, r)
	})
}

// validRequestID accepts 1 to 128 characters of [A-Za-z0-9._:-]. Anything else is replaced rather
// than escaped: an id ends up in logs and headers, where control characters or quotes could forge
// log lines or split headers.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := range len(id) {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
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
