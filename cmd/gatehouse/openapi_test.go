package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// gatehouse openapi prints a valid OpenAPI 3.1 document with no configuration at all, in JSON
// and YAML, and refuses a version that does not answer.
func TestOpenAPICommand(t *testing.T) {
	noEnv := func(string) string { return "" }
	for _, format := range []string{"json", "yaml"} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"openapi", "-version", "1", "-format", format}, noEnv, &out, &errb); code != exitOK {
			t.Fatalf("%s: exit %d: %s", format, code, errb.String())
		}
		doc, err := openapi3.NewLoader().LoadFromData(out.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			t.Errorf("%s: %v", format, err)
		}
		if doc.Paths.Find("/api/v1/sso/providers") == nil || doc.Paths.Find("/api/v1/license") == nil {
			t.Errorf("%s: the document lacks the routes of single sign-on or the license", format)
		}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"openapi", "-version", "99"}, noEnv, &out, &errb); code != exitConfig || !strings.Contains(errb.String(), "does not answer") {
		t.Errorf("version 99: exit %d, stderr %q", code, errb.String())
	}
}
