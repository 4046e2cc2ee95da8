package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gatehousehq/gatehouse"
)

// dispatch is the innermost layer: matched requests go to the mux; for the rest it answers the
// envelope in place of ServeMux's plain-text 404 and 405.
func (s *server) dispatch(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	if st.Pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	if allow := allowedMethods(st.muxHandler, r); allow != "" {
		w.Header().Set("Allow", allow)
		s.writeError(w, r, gatehouse.Errorf(gatehouse.EMethod,
			"method %s is not allowed here; allowed: %s", r.Method, allow))
		return
	}
	s.notFound(w, r)
}

// notFound answers paths that match no route. In the assembled service only the API's side of the
// URL surface comes here (transport.Dispatch sends the rest to the pages, with their HTML 404).
func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, gatehouse.Errorf(gatehouse.ENotFound, "no such resource"))
}

// allowedMethods returns the Allow list when the path exists under other methods, or "" when it
// does not exist at all. Rather than probing the mux with a guessed list of methods, it runs the
// handler the mux chose for the unmatched request against a throwaway writer: for a wrong method
// that is ServeMux's own 405 handler, which knows exactly which methods the path's patterns accept.
func allowedMethods(muxHandler http.Handler, r *http.Request) string {
	if muxHandler == nil {
		return ""
	}
	rec := &headerCapture{header: http.Header{}}
	muxHandler.ServeHTTP(rec, r)
	if rec.status != http.StatusMethodNotAllowed {
		return ""
	}
	methods := strings.Split(rec.header.Get("Allow"), ", ")
	if slices.Contains(methods, http.MethodGet) && !slices.Contains(methods, http.MethodHead) {
		// A GET pattern also serves HEAD; say so.
		methods = append(methods, http.MethodHead)
	}
	slices.Sort(methods)
	return strings.Join(methods, ", ")
}

// headerCapture is a ResponseWriter that keeps the status and headers and drops the body.
type headerCapture struct {
	header http.Header
	status int
}

func (c *headerCapture) Header() http.Header { return c.header }

func (c *headerCapture) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *headerCapture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return len(b), nil
}
