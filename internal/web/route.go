package web

import (
	"net/http"
	"strings"
)

// Route returns the path of the page route pattern that serves r ("" when none matches), for
// naming trace spans after the route rather than the raw path.
func (w *Web) Route(r *http.Request) string {
	_, pattern := w.mux.Handler(r)
	if _, path, ok := strings.Cut(pattern, " "); ok {
		return path
	}
	return pattern
}
