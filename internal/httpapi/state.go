package httpapi

import (
	"net/http"
	"path"

	"github.com/gatehousehq/gatehouse/rest"
)

// requestState is what the layers learn about one request. It is created once, by prepare, and
// shared through the context as a pointer, so that the access log and metrics (which run their
// bookkeeping after the handler returns) see what inner layers found out.
type requestState struct {
	// State is the part the toolkit (package rest) reads: request id, meta version, body limit,
	// route pattern, clock, logger. Its Ext points back here.
	rest.State

	srv *server
	// rw is held by value so that one allocation serves both (the chain passes &st.rw on).
	rw responseRecorder

	// userID is the authenticated user, 0 when none; the access log records it.
	userID int64
	// muxHandler is what the mux would run; for unmatched requests it is the mux's own 404 or 405
	// handler, from which dispatch learns the allowed methods.
	muxHandler http.Handler
	// api is true for paths under /api/.
	api bool
	// major is the version named by an /api/v{N}/ path, 0 if the path names none.
	major int
}

// stateOf returns the request's state, or nil for a request that did not come through the server.
func stateOf(r *http.Request) *requestState {
	if rs := rest.StateOf(r); rs != nil {
		st, _ := rs.Ext.(*requestState)
		return st
	}
	return nil
}

// prepare is the outermost layer. It resolves the route once, up front, because several layers
// need it before the mux runs: the body limit depends on the route, and metrics and the access log
// label by route pattern. It also wraps the writer so every layer can see the status and size.
func (s *server) prepare(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &requestState{srv: s, rw: responseRecorder{ResponseWriter: w}}
		st.State = rest.State{BodyLimit: s.bodyLimit, Now: s.now, Logger: s.logger, HeaderSent: &st.rw.wroteHeader, Ext: st}
		st.api = isAPIPath(r.URL.Path)
		if st.api {
			st.major, _ = parseAPIVersion(r.URL.Path)
		}
		st.MetaVersion = s.versions.current().Major
		if _, ok := s.versions.lookup(st.major); ok {
			st.MetaVersion = st.major
		}

		h, pattern := s.mux.Handler(r)
		if st.api && !isCanonical(r.URL.EscapedPath()) {
			// For a non-canonical path (double slashes, dot segments) the mux returns a redirect
			// to the canonical one. API clients should not depend on redirects, so such a path is
			// simply not found.
			pattern = ""
		}
		st.Pattern, st.muxHandler = pattern, h
		if limit, ok := s.limits[pattern]; ok {
			st.BodyLimit = limit
		}

		r = r.WithContext(rest.NewContext(r.Context(), &st.State))
		next.ServeHTTP(&st.rw, r)
	})
}

// isCanonical reports whether p is already in the form ServeMux would not redirect: no empty,
// "." or ".." segments.
func isCanonical(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	clean := path.Clean(p)
	if p[len(p)-1] == '/' && clean != "/" {
		clean += "/"
	}
	return clean == p
}

// responseRecorder remembers the status and size of a response for logging and metrics, and
// whether headers have gone out, so the error adapter knows if an envelope can still be written.
type responseRecorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

// WriteHeader records the final status. Informational (1xx) statuses other than 101 may precede
// it and are passed through without counting as the response.
func (rw *responseRecorder) WriteHeader(status int) {
	if rw.wroteHeader {
		// A second call is a no-op, as in net/http, which would only log it naming this
		// wrapper as the caller.
		return
	}
	if status >= 200 || status == http.StatusSwitchingProtocols {
		rw.status, rw.wroteHeader = status, true
	}
	rw.ResponseWriter.WriteHeader(status)
}

// Write counts the body bytes, sending an implicit 200 first like net/http does.
func (rw *responseRecorder) Write(b []byte) (int, error) {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	n, err := rw.ResponseWriter.Write(b)
	rw.bytes += int64(n)
	return n, err
}

// Flush lets streaming handlers flush through the recorder; flushing commits the headers.
func (rw *responseRecorder) Flush() {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(rw.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController access to the underlying writer's optional interfaces.
func (rw *responseRecorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// statusOr returns the recorded status, or def when none was written.
func (rw *responseRecorder) statusOr(def int) int {
	if rw.wroteHeader {
		return rw.status
	}
	return def
}
