package httpapi

import (
	json "encoding/json/v2"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse"
)

func TestDecodeRejectsBadBodies(t *testing.T) {
	ts := newTestServer(t, nil)
	tests := []struct {
		name        string
		body        string
		wantMessage string            // substring of the message
		wantFields  map[string]string // nil: no fields
	}{
		{name: "malformed", body: `{"name": tru}`,
			wantMessage: "malformed JSON at line 1, column 13 (byte offset 12)"},
		{name: "malformed on a later line", body: "{\n  \"name\": \"a\",\n  \"age\": x\n}",
			wantMessage: "malformed JSON at line 3, column 10"},
		{name: "truncated", body: `{"name":`, wantMessage: "unexpected end of input"},
		{name: "lone surrogate escape", body: `{"name":"\ud800"}`, wantMessage: "malformed JSON at line 1"},
		{name: "unknown field", body: `{"nickname":"a"}`,
			wantFields: map[string]string{"nickname": "unknown field"}},
		{name: "field names are case-sensitive", body: `{"Name":"a"}`,
			wantFields: map[string]string{"Name": "unknown field"}},
		{name: "unknown nested field", body: `{"sub":{"y":1}}`,
			wantFields: map[string]string{"sub.y": "unknown field"}},
		{name: "duplicate key", body: `{"name":"a","name":"b"}`,
			wantFields: map[string]string{"name": "duplicate key"}},
		{name: "duplicate key nested", body: `{"sub":{"x":1,"x":2}}`,
			wantFields: map[string]string{"sub.x": "duplicate key"}},
		{name: "duplicate key deep in free-form data", body: `{"extra":{"list":[{"k":1},{"k":1,"k":2}]}}`,
			wantFields: map[string]string{"extra.list.1.k": "duplicate key"}},
		{name: "wrong type", body: `{"age":"ten"}`,
			wantFields: map[string]string{"age": "must be an integer"}},
		{name: "fraction for an integer", body: `{"age":1.5}`,
			wantFields: map[string]string{"age": "must be an integer"}},
		{name: "out of range", body: `{"age":99999999999999999999}`,
			wantFields: map[string]string{"age": "is out of range"}},
		{name: "wrong element type", body: `{"tags":["a",1]}`,
			wantFields: map[string]string{"tags.1": "must be a string"}},
		{name: "wrong nested type", body: `{"sub":[]}`,
			wantFields: map[string]string{"sub": "must be an object"}},
		{name: "bad timestamp", body: `{"when":"yesterday"}`,
			wantFields: map[string]string{"when": "must be an RFC 3339 date-time string"}},
		{name: "wrong top-level type", body: `[1]`, wantMessage: "request body must be an object"},
		{name: "NUL escape", body: `{"name":"a\u0000b"}`,
			wantFields: map[string]string{"name": "must not contain NUL characters"}},
		{name: "NUL in free-form value", body: `{"extra":{"k":["ok","\u0000"]}}`,
			wantFields: map[string]string{"extra.k.1": "must not contain NUL characters"}},
		{name: "NUL in member name", body: `{"extra":{"a\u0000":1}}`,
			wantFields: map[string]string{"extra": "member names must not contain NUL characters"}},
		{name: "invalid UTF-8", body: "{\"name\":\"caf\xe9\"}",
			wantFields: map[string]string{"name": "must be valid UTF-8"}},
		{name: "invalid UTF-8 nested", body: "{\"extra\":{\"k\":\"\xff\"}}",
			wantFields: map[string]string{"extra.k": "must be valid UTF-8"}},
		{name: "invalid UTF-8 in member name", body: "{\"na\xffme\":1}",
			wantMessage: "request body is not valid UTF-8 at line 1, column 5"},
		{name: "trailing value", body: `{"name":"a"} {}`,
			wantMessage: "unexpected data after the JSON value at line 1, column 14 (byte offset 13)"},
		{name: "trailing garbage", body: "{\"name\":\"a\"}\nx",
			wantMessage: "unexpected data after the JSON value at line 2, column 1"},
		{name: "empty body", body: "", wantMessage: "request body is empty"},
		{name: "whitespace body", body: " \n\t", wantMessage: "request body is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := ts.postJSON(t, "/api/v1/echo", tt.body)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", rec.Code, rec.Body)
			}
			env := envelope(t, rec)
			if env.Error.Code != string(gatehouse.EInvalid) {
				t.Errorf("code = %q", env.Error.Code)
			}
			if !strings.Contains(env.Error.Message, tt.wantMessage) {
				t.Errorf("message = %q, want it to contain %q", env.Error.Message, tt.wantMessage)
			}
			if !maps.Equal(env.Error.Fields, tt.wantFields) {
				t.Errorf("fields = %v, want %v", env.Error.Fields, tt.wantFields)
			}
		})
	}
}

func TestDecodeAcceptsGoodBodies(t *testing.T) {
	ts := newTestServer(t, nil)
	body := `{"name":"Zoë ✓","age":42,"tags":["a","b"],"sub":{"x":1},"extra":{"k":[1,{"n":null}]},"when":"2026-01-02T03:04:05Z"}`
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON; Charset=UTF-8"} {
		rec := ts.serve(t, http.MethodPost, "/api/v1/echo", body, "Content-Type", ct)
		if rec.Code != http.StatusOK {
			t.Fatalf("Content-Type %q: status %d %s", ct, rec.Code, rec.Body)
		}
		env := envelope(t, rec)
		var got echoRequest
		if err := json.Unmarshal(env.Data, &got); err != nil {
			t.Fatal(err)
		}
		if got.Name != "Zoë ✓" || got.Age != 42 || got.Sub.X != 1 || len(got.Tags) != 2 || got.When.Year() != 2026 {
			t.Errorf("decoded %+v", got)
		}
	}
}

func TestDecodeContentType(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, ct := range []string{
		"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
		"application/json; charset=latin1", "application/json; foo=bar", "application/json-seq",
		"application/problem+json", "application/json;;",
	} {
		rec := ts.serve(t, http.MethodPost, "/api/v1/echo", `{"name":"a"}`, "Content-Type", ct)
		if rec.Code != http.StatusUnsupportedMediaType {
			t.Errorf("Content-Type %q: status %d, want 415", ct, rec.Code)
			continue
		}
		if env := envelope(t, rec); env.Error.Code != string(gatehouse.EUnsupported) {
			t.Errorf("Content-Type %q: code %q", ct, env.Error.Code)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	big := `{"name":"` + strings.Repeat("a", int(DefaultBodyLimit)) + `"}`
	tests := []struct {
		name   string
		target string
		body   string
		// unknownLength hides Content-Length, as with a chunked upload, so the limit is only hit
		// while reading.
		unknownLength bool
		opts          []Option
		wantStatus    int
	}{
		{name: "default limit, declared", target: "/api/v1/echo", body: big, wantStatus: 413},
		{name: "default limit, chunked", target: "/api/v1/echo", body: big, unknownLength: true, wantStatus: 413},
		{name: "route limit, chunked", target: "/api/v1/small", body: `{"name":"seventeen"}`, unknownLength: true, wantStatus: 413},
		{name: "route limit, fits", target: "/api/v1/small", body: `{"name":"ok"}`, wantStatus: 200},
		{name: "server limit option", target: "/api/v1/echo", body: `{"name":"twelve"}`,
			opts: []Option{WithBodyLimit(10)}, wantStatus: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, nil, tt.opts...)
			req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, tt.target, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			if tt.unknownLength {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			ts.handler.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %.200s", rec.Code, tt.wantStatus, rec.Body)
			}
			env := envelope(t, rec)
			if tt.wantStatus == 413 && env.Error.Code != string(gatehouse.ETooLarge) {
				t.Errorf("code = %q", env.Error.Code)
			}
		})
	}
}

// Decode works on any request, not only those served by NewServer's handler.
func TestDecodeStandalone(t *testing.T) {
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/", strings.NewReader(`{"email":"a@b","name":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	var dst signupRequest
	if err := Decode(req, &dst); err != nil || dst.Email != "a@b" {
		t.Fatalf("Decode = %v, %+v", err, dst)
	}

	req = httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	if err := Decode(req, dst); gatehouse.ErrorCode(err) != gatehouse.EInternal {
		t.Errorf("Decode into a non-pointer: %v, want an internal error", err)
	}
}

func TestProblems(t *testing.T) {
	var p Problems
	if err := p.Err(); err != nil {
		t.Fatalf("empty Problems.Err() = %v", err)
	}
	p.Check(true, "ok", "never")
	p.Check(false, "b", "first")
	p.Add("b", "second")
	p.Add("a", "other")
	err := p.Err()
	if gatehouse.ErrorCode(err) != gatehouse.EInvalid {
		t.Fatalf("code = %q", gatehouse.ErrorCode(err))
	}
	if got, want := gatehouse.ErrorFields(err), map[string]string{"a": "other", "b": "first"}; !maps.Equal(got, want) {
		t.Errorf("fields = %v, want %v", got, want)
	}
	if got, want := gatehouse.ErrorMessage(err), "invalid request: a: other; b: first"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}
