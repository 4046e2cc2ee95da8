package rest

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatehousehq/gatehouse"
)

// fuzzRequest is a nested request type like the handlers' own, with a Validate method.
type fuzzRequest struct {
	Name  string            `json:"name"`
	Age   int               `json:"age"`
	Tags  []string          `json:"tags"`
	Sub   *struct{ X int }  `json:"sub"`
	Extra map[string]any    `json:"extra"`
	Flags map[string]bool   `json:"flags"`
	Opt   *string           `json:"opt"`
	Meta  map[string]string `json:"meta"`
}

// FuzzDecode: whatever the body, the strict decoder never panics, answers only with a
// *gatehouse.Error of code invalid, and what it accepts is one JSON object without NUL.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{}`, `{"name":"a","age":3,"tags":["x"],"sub":{"X":1}}`, `null`, `[]`, `42`,
		`{"name":"a","name":"b"}`, `{"extra":{"k":[1,{"a":null}]}}`, "{\"name\":\"caf\xe9\"}", `{"name":"a\u0000"}`,
		`{"opt":null}`, ` {"a":1} {}`, `{"age":1e400}`, `"string"`, "\ufeff{}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst fuzzRequest
		err := decodeBody(body, &dst, nil)
		if err != nil {
			var ge *gatehouse.Error
			if !errors.As(err, &ge) || ge.Code != gatehouse.EInvalid {
				t.Fatalf("decodeBody(%q) = %v (%T), want an invalid *gatehouse.Error", body, err, err)
			}
			return
		}
		trimmed := bytes.TrimLeft(body, " \t\r\n")
		if len(trimmed) == 0 || trimmed[0] != '{' {
			t.Fatalf("decodeBody accepted a body that is not an object: %q", body)
		}
		if strings.ContainsRune(dst.Name, 0) || !utf8.Valid(body) {
			t.Fatalf("decodeBody let through NUL or invalid UTF-8: %q -> %q", body, dst.Name)
		}
	})
}

// FuzzParsePage: limit and cursor query values never panic the pager, a refusal is an invalid
// field error, and an accepted cursor is valid JSON.
func FuzzParsePage(f *testing.F) {
	for _, s := range []string{"", "limit=10", "cursor=" + EncodeCursor(int64(42)), "cursor=!!", "limit=-1", "limit=101",
		"cursor=bnVsbA", "limit=1&limit=2", "x=1", "cursor=" + EncodeCursor(map[string]any{"id": 1, "name": "a"})} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/things", nil)
		r.URL.RawQuery = query
		page, after, err := IDPage(r, "sort")
		if err != nil {
			if gatehouse.ErrorCode(err) != gatehouse.EInvalid {
				t.Fatalf("IDPage(%q) = %v, want invalid", query, err)
			}
			return
		}
		if page.Limit < 1 || page.Limit > MaxPageLimit {
			t.Fatalf("IDPage(%q) limit %d", query, page.Limit)
		}
		_ = after
		var anyCursor map[string]any
		_ = page.DecodeCursor(&anyCursor)
	})
}

// FuzzCheckIfMatch: If-Match never panics, and it lets a change through only when the header is
// absent, "*", or lists the current ETag.
func FuzzCheckIfMatch(f *testing.F) {
	current := ETag(map[string]any{"id": 1})
	for _, s := range []string{"", "*", current, "W/" + current, `"x", ` + current, `"x"`, ",,,", `W/"`, "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodPatch, "/x", nil)
		r.Header["If-Match"] = []string{header}
		err := CheckIfMatch(r, current)
		if err == nil && header != "" && header != "*" && !strings.Contains(header, current) {
			t.Fatalf("If-Match %q matched %s", header, current)
		}
		if err != nil && gatehouse.ErrorCode(err) != gatehouse.EPrecondition {
			t.Fatalf("If-Match %q: %v", header, err)
		}
	})
}
