package web_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehousehq/gatehouse/internal/browsertest"
)

// openAPIPath is the path of a version's OpenAPI document.
var openAPIPath = regexp.MustCompile(`^/api/v[0-9]+/openapi\.json$`)

// withTestDocument serves testdata/openapi.json at /api/v{n}/openapi.json where the app answers
// 404 there (a build without the OpenAPI documents), so that the page is tested either way: on
// the real document when the app serves one, else on the small test document.
func withTestDocument(t testing.TB) func(http.Handler) http.Handler {
	doc, err := os.ReadFile("testdata/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	return func(app http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if openAPIPath.MatchString(r.URL.Path) {
				probe := httptest.NewRecorder()
				app.ServeHTTP(probe, r.Clone(r.Context()))
				if probe.Code == http.StatusNotFound {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write(doc)
					return
				}
			}
			app.ServeHTTP(w, r)
		})
	}
}

// The API reference page in Chromium: Swagger UI, served from the binary, renders the OpenAPI
// document's operations under the pages' Content-Security-Policy, with no console error (a CSP
// violation, a script error or a failed load would show there; chrome's clean-up fails the test
// on any), and passes axe-core's accessibility rules like every page (static/apidocs.css and
// static/apidocs.js mend what Swagger UI's own markup lacks).
func TestBrowserAPIDocs(t *testing.T) {
	s := startSite(t, siteOptions{wrap: withTestDocument(t)})
	for _, vp := range []viewport{desktop, phone} {
		t.Run(vp.name, func(t *testing.T) {
			c := s.chrome(vp)
			c.open("/api/docs")
			var paths []string
			deadline := time.Now().Add(30 * time.Second)
			for {
				paths = eval[[]string](c, `Array.from(document.querySelectorAll(".opblock .opblock-summary-path")).map(e => e.textContent.trim())`)
				if len(paths) >= 2 || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			found := false
			for _, p := range paths {
				found = found || strings.HasSuffix(p, "/teams")
			}
			if !found {
				t.Fatalf("no /teams operation rendered (paths %v)%s", paths, c.where())
			}
			// Opening an operation shows its responses.
			c.click(".opblock-summary")
			c.do(chromedp.WaitVisible(chromedp.CSS(".opblock-body .responses-wrapper")))
			if c.scrollsSideways() {
				t.Errorf("the reference scrolls sideways at %s", vp)
			}
			if vp == desktop { // a full-page shot of the whole reference takes seconds: one is enough
				c.shot("api-docs")
			}
			for _, v := range browsertest.Axe(t, c.ctx) {
				t.Errorf("API reference at %s: axe %s (%s): %s, at %v", vp, v.ID, v.Impact, v.Help, v.Nodes)
			}
		})
	}
}
