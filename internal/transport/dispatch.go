package transport

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Dispatch returns the handler of the whole service: each request goes to api or to pages by the
// routes that are served (served: the API server's routes, host routes included, and the pages'),
// so the split is the route table's and never a list kept by hand.
//
// A path belongs to the side that serves a route at that path or under its first segment:
// /api/…, /.well-known/…, /healthz, /readyz and /metrics to the API (its envelope answers 404,
// 405 and 410 there), /login, /profile/…, /sso/… and the rest to the pages. A path no route
// claims goes to the pages, which answer their HTML 404. A route with a single segment claims
// only its own path (/healthz, not /healthz/x); one with more claims its first segment's subtree
// (/api/v1/me claims /api and /api/…). The one exception is the API reference page: its page
// routes under /api/docs (the page and its files) claim exactly their own paths, and every
// other path under /api/docs/ stays the API's.
//
// It fails when a route of the table is served with other settings than the table's, or when a
// path is claimed by both sides. (Missing says which routes of the table are not served.)
func Dispatch(served []Route, api, pages http.Handler) (http.Handler, error) {
	var errs []error
	for _, r := range served {
		if t, ok := Lookup(r.Pattern); ok && t != r {
			errs = append(errs, fmt.Errorf("route %q is served as %+v, but the route table says %+v", r.Pattern, r, t))
		}
	}
	s, err := newSplit(served)
	if err = errors.Join(append(errs, err)...); err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.api(r.URL.Path) {
			api.ServeHTTP(w, r)
			return
		}
		pages.ServeHTTP(w, r)
	}), nil
}

// Missing returns the patterns of the table's routes that served does not have, in the table's
// order: nothing answers them.
func Missing(served []Route) []string {
	seen := make(map[string]bool, len(served))
	for _, r := range served {
		seen[r.Pattern] = true
	}
	var out []string
	for _, t := range table {
		if !seen[t.Pattern] {
			out = append(out, t.Pattern)
		}
	}
	return out
}

// split says which side serves a path.
type split struct {
	// exact holds the paths of single-segment routes ("/healthz"), subtree the first segments
	// of the others ("api" for /api/v1/me); true means the API.
	exact, subtree map[string]bool
}

func newSplit(served []Route) (*split, error) {
	s := &split{exact: map[string]bool{}, subtree: map[string]bool{}}
	var errs []error
	for _, r := range served {
		path := strings.TrimSuffix(r.Path(), "{$}")
		if path == "/" {
			if r.Chain == API {
				errs = append(errs, fmt.Errorf("route %q: the API cannot serve the root path", r.Pattern))
			}
			continue // the root is the pages' whatever claims it
		}
		seg, more, nested := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		if strings.HasPrefix(seg, "{") {
			errs = append(errs, fmt.Errorf("route %q: a wildcard first segment would claim every path", r.Pattern))
			continue
		}
		claims, key := s.exact, path
		if (nested || more != "") && !apiDocsPage(r) {
			claims, key = s.subtree, seg
		}
		isAPI := r.Chain == API
		if prev, ok := claims[key]; ok && prev != isAPI {
			errs = append(errs, fmt.Errorf("route %q: its path is claimed by both the API and the pages", r.Pattern))
			continue
		}
		claims[key] = isAPI
	}
	return s, errors.Join(errs...)
}

// apiDocsPrefix is where the API reference page lives: under /api, where a reader of the API
// looks for it, but served by the pages (an HTML page under the pages' Content-Security-Policy).
const apiDocsPrefix = "/api/docs"

// apiDocsPage reports whether r is one of the API reference page's routes: a page or asset route
// with a literal path (no wildcard, no trailing slash) at or under apiDocsPrefix.
func apiDocsPage(r Route) bool {
	p := r.Path()
	return r.Chain != API && (p == apiDocsPrefix || strings.HasPrefix(p, apiDocsPrefix+"/")) &&
		!strings.Contains(p, "{") && !strings.HasSuffix(p, "/")
}

// api reports whether the API serves path.
func (s *split) api(path string) bool {
	if isAPI, ok := s.exact[path]; ok {
		return isAPI
	}
	seg, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return s.subtree[seg]
}
