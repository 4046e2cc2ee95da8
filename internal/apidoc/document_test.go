package apidoc_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/gatehousehq/gatehouse/internal/httpapi"
	"github.com/gatehousehq/gatehouse/internal/transport"
)

// TestDocumentValidates loads each version's document, as served, with kin-openapi and
// validates it as OpenAPI 3.1.
func TestDocumentValidates(t *testing.T) {
	for _, major := range []int{1, 2} {
		doc, err := httpapi.Document(major, "test", transport.Routes(), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := httpapi.Marshal(doc, "json")
		if err != nil {
			t.Fatal(err)
		}
		loaded, err := openapi3.NewLoader().LoadFromData(b)
		if err != nil {
			t.Fatalf("v%d: loading: %v", major, err)
		}
		if !loaded.IsOpenAPI31OrLater() {
			t.Fatalf("v%d: openapi is %q", major, loaded.OpenAPI)
		}
		if err := loaded.Validate(context.Background()); err != nil {
			t.Errorf("v%d: %v", major, err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
	}
}
