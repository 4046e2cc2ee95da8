package httpapi

import (
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// The document is served bare (not in the envelope), as JSON and as YAML, without credentials,
// and says which version it describes.
func TestOpenAPIDocumentServed(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, c := range []struct{ path, contentType string }{
		{"/api/v1/openapi.json", ContentTypeOpenAPIJSON},
		{"/api/v1/openapi.yaml", ContentTypeOpenAPIYAML},
	} {
		rec := ts.serve(t, http.MethodGet, c.path, "")
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d: %s", c.path, rec.Code, rec.Body)
		}
		if got := rec.Header().Get("Content-Type"); got != c.contentType {
			t.Errorf("%s: Content-Type %q, want %q", c.path, got, c.contentType)
		}
		doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		if doc.OpenAPI != "3.1.0" || doc.Info.Version != "1" {
			t.Errorf("%s: openapi %q, info.version %q", c.path, doc.OpenAPI, doc.Info.Version)
		}
		if doc.Paths.Find("/api/v1/openapi.json") == nil || doc.Paths.Find("/api/v1/echo") == nil {
			t.Errorf("%s: the document lacks its own route or a host's", c.path)
		}
	}
}
