package apidoc_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/gatehousehq/gatehouse/internal/apidoc"
	"github.com/gatehousehq/gatehouse/internal/httpapi"
	"github.com/gatehousehq/gatehouse/internal/transport"
)

// TestDocumentValidates loads each version's document, as served, with kin-openapi and
// validates it as OpenAPI 3.1.
func TestDocumentValidates(t *testing.T) {
	for _, major := range []int{1, 2} {
		doc, err := apidoc.Document(major, apidoc.Info{Build: "test"}, transport.Routes(), gatehouseOperations(t))
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

// The v2 document applies the contract's v2 rules: identifiers as decimal strings (either in a
// request), every list paged, Location on every 201, PATCH also as merge-patch; v1 keeps its
// integers and whole lists.
func TestV2Rules(t *testing.T) {
	docs := map[int]*openapi3.T{}
	for _, major := range []int{1, 2} {
		doc, err := apidoc.Document(major, apidoc.Info{}, transport.Routes(), gatehouseOperations(t))
		if err != nil {
			t.Fatal(err)
		}
		// As a client reads it: the encoded document, loaded with kin-openapi.
		encoded, err := httpapi.Marshal(doc, "json")
		if err != nil {
			t.Fatal(err)
		}
		if docs[major], err = openapi3.NewLoader().LoadFromData(encoded); err != nil {
			t.Fatalf("v%d: loading: %v", major, err)
		}
	}
	id := func(doc *openapi3.T, schema, member string) *openapi3.Schema {
		return doc.Components.Schemas[schema].Value.Properties[member].Value
	}
	if s := id(docs[1], "TeamResponse", "id"); !s.Type.Is("integer") {
		t.Errorf("v1 team id: %v", s.Type)
	}
	if s := id(docs[2], "TeamResponse", "id"); !s.Type.Is("string") || s.Pattern != "^[0-9]+$" {
		t.Errorf("v2 team id: %v %q", s.Type, s.Pattern)
	}
	if s := id(docs[2], "MemberResponse", "user_id"); !s.Type.Is("string") {
		t.Errorf("v2 member user_id: %v", s.Type)
	}
	if s := id(docs[2], "AuditItem", "subject_id"); !s.Type.Includes("string") || !s.Type.Includes("null") {
		t.Errorf("v2 audit subject_id (nullable): %v", s.Type)
	}
	if s := id(docs[2], "ApiKeyResponse", "parent_key_id"); !s.Type.Includes("string") || !s.Type.Includes("null") {
		t.Errorf("v2 parent_key_id (nullable): %v", s.Type)
	}
	sessions := func(doc *openapi3.T, prefix string) *openapi3.Operation {
		return doc.Paths.Find(prefix + "/auth/sessions").Get
	}
	if sessions(docs[1], "/api/v1").Parameters.GetByInAndName("query", "limit") != nil {
		t.Error("v1 sessions take a limit")
	}
	if sessions(docs[2], "/api/v2").Parameters.GetByInAndName("query", "limit") == nil {
		t.Error("v2 sessions do not page")
	}
	patch := docs[2].Paths.Find("/api/v2/teams/{id}").Patch
	if patch.RequestBody.Value.Content.Get("application/merge-patch+json") == nil {
		t.Error("v2 PATCH does not take merge-patch")
	}
	created := docs[2].Paths.Find("/api/v2/teams").Post.Responses.Status(201).Value
	if h := created.Headers["Location"]; h == nil || !h.Value.Required {
		t.Error("v2 201 without a required Location")
	}
	if docs[2].Paths.Find("/api/v1/teams") != nil || docs[1].Paths.Find("/api/v2/teams") != nil {
		t.Error("a version's document lists another version's paths")
	}
}
