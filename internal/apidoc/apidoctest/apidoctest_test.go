package apidoctest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/apidoc/apidoctest"
	"github.com/gatehousehq/gatehouse/internal/httpapi"
	"github.com/gatehousehq/gatehouse/rest"
)

// recordingTB keeps what the validator reports instead of failing this test.
type recordingTB struct {
	testing.TB
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

type thing struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// The validator passes answers that match the document and reports those that do not: a member
// of the wrong type, one missing, one the document does not name, an undocumented status, and
// a request the server took though the document refuses it.
func TestValidatorCatchesMismatches(t *testing.T) {
	answer := func(data any, status int) rest.Handler {
		return func(w http.ResponseWriter, r *http.Request) error { return rest.Respond(w, r, status, data) }
	}
	doc := &rest.Operation{Summary: "A thing", Response: thing{}}
	routes := []rest.Route{
		{Pattern: "GET /api/v1/good", Handler: answer(thing{ID: 1, Name: "a"}, 200), Doc: doc},
		{Pattern: "GET /api/v1/wrong-type", Handler: answer(map[string]any{"id": "1", "name": "a"}, 200), Doc: doc},
		{Pattern: "GET /api/v1/missing", Handler: answer(map[string]any{"id": 1}, 200), Doc: doc},
		{Pattern: "GET /api/v1/extra", Handler: answer(map[string]any{"id": 1, "name": "a", "secret": "x"}, 200), Doc: doc},
		{Pattern: "GET /api/v1/status", Handler: answer(thing{}, 202), Doc: doc},
		{Pattern: "POST /api/v1/body", Handler: answer(thing{ID: 1, Name: "a"}, 200),
			Doc: &rest.Operation{Summary: "Takes a thing", Request: thing{}, Response: thing{}}},
	}
	srv := httpapi.NewServer(httpapi.Deps{}, httpapi.WithRoutes(routes...))
	for _, c := range []struct {
		method, path, body string
		want               string // in the report; "" for none
	}{
		{"GET", "/api/v1/good", "", ""},
		{"GET", "/api/v1/health", "", ""},
		{"GET", "/api/v1/nothing-here", "", ""}, // 404 envelope: no operation, fine
		{"GET", "/api/v1/wrong-type", "", "response body doesn't match"},
		{"GET", "/api/v1/missing", "", "response body doesn't match"},
		{"GET", "/api/v1/extra", "", "response body doesn't match"},
		{"GET", "/api/v1/status", "", "status is not supported"},
		{"POST", "/api/v1/body", `{"id": 1, "name": "a"}`, ""},
		{"POST", "/api/v1/body", `{"id": "x"}`, "the server accepted a request the document refuses"},
	} {
		tb := &recordingTB{TB: t}
		h := apidoctest.Handler(tb, srv, apidoctest.FromServer(srv))
		var body *strings.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		var req *http.Request
		if body != nil {
			req = httptest.NewRequestWithContext(t.Context(), c.method, c.path, body)
			req.Header.Set("Content-Type", "application/json")
		} else {
			req = httptest.NewRequestWithContext(t.Context(), c.method, c.path, nil)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
		report := strings.Join(tb.errs, "\n")
		switch {
		case c.want == "" && report != "":
			t.Errorf("%s %s: unexpected report:\n%s", c.method, c.path, report)
		case c.want != "" && !strings.Contains(report, c.want):
			t.Errorf("%s %s: report %q, want it to say %q", c.method, c.path, report, c.want)
		}
	}
}
