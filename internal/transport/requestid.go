package transport

import (
	"crypto/rand"
	"net/http"
	"strings"
)

// HeaderRequestID is the header that carries the request id in both directions.
const HeaderRequestID = "X-Request-ID"

// requestIDKey is HeaderRequestID in the canonical form net/http keys headers by.
var requestIDKey = http.CanonicalHeaderKey(HeaderRequestID)

// maxRequestIDLen bounds an accepted incoming id, so a client cannot bloat every log line.
const maxRequestIDLen = 128

// RequestID returns the id of a request for the API and the pages alike: the caller's
// X-Request-ID when it is sane, so a request can be followed across a proxy or a calling
// service, and otherwise a new random one. It also echoes the id in the response's header.
func RequestID(w http.ResponseWriter, r *http.Request) string {
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
	w.Header()[requestIDKey] = []string{id}
	return id
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

// RouteLabel is how logs and metrics name the route of a request: the path pattern without its
// method ("/api/v1/teams/{id}" for "GET /api/v1/teams/{id}"; the method has its own field), and
// "unmatched" when no route matched, so that unknown paths do not make a label each.
func RouteLabel(pattern string) string {
	if pattern == "" {
		return UnmatchedRoute
	}
	if _, path, ok := strings.Cut(pattern, " "); ok {
		return path
	}
	return pattern
}

// UnmatchedRoute is the route label of a request no route matched.
const UnmatchedRoute = "unmatched"
