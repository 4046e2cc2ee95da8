package httpapi

import (
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse"
)

func TestSuccessEnvelopeIsExact(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := ts.serve(t, http.MethodGet, "/api/v1/health", "", HeaderRequestID, "req-1")

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d", rec.Code)
	}
	want := `{"status":"success","data":{"status":"ok"},"meta":{"version":1,"timestamp":"2026-11-27T12:30:45Z","request_id":"req-1"}}` + "\n"
	if got := rec.Body.String(); got != want {
		t.Errorf("body =\n%s\nwant\n%s", got, want)
	}
	envelope(t, rec)
}

func TestErrorEnvelopes(t *testing.T) {
	ts := newTestServer(t, nil)
	tests := []struct {
		name        string
		method      string
		target      string
		body        string
		headers     []string
		wantStatus  int
		wantCode    gatehouse.Code
		wantMessage string // substring
		wantAllow   string
		wantFields  map[string]string
	}{
		{name: "unknown API route", method: "GET", target: "/api/v1/nope",
			wantStatus: 404, wantCode: gatehouse.ENotFound, wantMessage: "no such resource"},
		{name: "unknown non-API path", method: "GET", target: "/nope",
			wantStatus: 404, wantCode: gatehouse.ENotFound},
		{name: "root", method: "GET", target: "/",
			wantStatus: 404, wantCode: gatehouse.ENotFound},
		{name: "trailing slash is another path", method: "GET", target: "/api/v1/health/",
			wantStatus: 404, wantCode: gatehouse.ENotFound},
		{name: "non-canonical API path is not redirected", method: "GET", target: "/api/v1//health",
			wantStatus: 404, wantCode: gatehouse.ENotFound},
		{name: "dot segments are not redirected", method: "GET", target: "/api/v1/x/../health",
			wantStatus: 404, wantCode: gatehouse.ENotFound},
		{name: "POST on a GET route", method: "POST", target: "/api/v1/health",
			wantStatus: 405, wantCode: gatehouse.EMethod, wantAllow: "GET, HEAD", wantMessage: "POST"},
		{name: "GET on a route with two other methods", method: "GET", target: "/api/v1/things/7",
			wantStatus: 405, wantCode: gatehouse.EMethod, wantAllow: "DELETE, PUT"},
		{name: "unknown method", method: "BREW", target: "/api/v1/version",
			wantStatus: 405, wantCode: gatehouse.EMethod, wantAllow: "GET, HEAD"},
		{name: "handler domain error", method: "DELETE", target: "/api/v1/things/7",
			wantStatus: 409, wantCode: gatehouse.EConflict, wantMessage: "thing 7 is in use"},
		{name: "415 without content type", method: "POST", target: "/api/v1/echo", body: `{}`,
			wantStatus: 415, wantCode: gatehouse.EUnsupported, wantMessage: "application/json"},
		{name: "413 declared length", method: "POST", target: "/api/v1/small", body: `{"name":"seventeen"}`,
			headers:    []string{"Content-Type", "application/json"},
			wantStatus: 413, wantCode: gatehouse.ETooLarge, wantMessage: "16 bytes"},
		{name: "400 validation fields", method: "POST", target: "/api/v1/signup", body: `{"name":"toolong"}`,
			headers:    []string{"Content-Type", "application/json"},
			wantStatus: 400, wantCode: gatehouse.EInvalid, wantMessage: "email: is required; name: must be at most 5 characters",
			wantFields: map[string]string{"email": "is required", "name": "must be at most 5 characters"}},
		{name: "500 panic", method: "GET", target: "/api/v1/panic",
			wantStatus: 500, wantCode: gatehouse.EInternal, wantMessage: internalMessage},
		{name: "500 error", method: "GET", target: "/api/v1/fail",
			wantStatus: 500, wantCode: gatehouse.EInternal, wantMessage: internalMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := ts.serve(t, tt.method, tt.target, tt.body, tt.headers...)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			env := envelope(t, rec)
			if env.Status != StatusError || env.Error == nil {
				t.Fatalf("not an error envelope: %s", rec.Body)
			}
			if env.Error.Code != string(tt.wantCode) {
				t.Errorf("code = %q, want %q", env.Error.Code, tt.wantCode)
			}
			if !strings.Contains(env.Error.Message, tt.wantMessage) {
				t.Errorf("message = %q, want it to contain %q", env.Error.Message, tt.wantMessage)
			}
			if got := rec.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			if !maps.Equal(env.Error.Fields, tt.wantFields) {
				t.Errorf("fields = %v, want %v", env.Error.Fields, tt.wantFields)
			}
			// The version of the path; outside /api/v{N}/ the current one.
			if want := wantMetaVersion(tt.target); env.Meta.Version != want {
				t.Errorf("meta.version = %d, want %d", env.Meta.Version, want)
			}
		})
	}
}

func TestInternalErrorsAreLoggedNotSent(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, target := range []string{"/api/v1/panic", "/api/v1/fail"} {
		rec := ts.serve(t, http.MethodGet, target, "", HeaderRequestID, "trace-"+target[8:])
		for _, secret := range []string{"secret panic text", "hunter2", "db.internal", "goroutine"} {
			if strings.Contains(rec.Body.String(), secret) {
				t.Errorf("%s: response leaks %q: %s", target, secret, rec.Body)
			}
		}
	}
	logs := ts.logs.String()
	for _, want := range []string{"secret panic text", "hunter2", "trace-panic", "trace-fail", "goroutine "} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	failed := ts.logs.find(t, "request failed")
	if failed["level"] != "ERROR" || failed["request_id"] != "trace-panic" || failed["stack"] == nil {
		t.Errorf("panic log record = %v", failed)
	}
}

func TestErrorAfterResponseStarted(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := ts.serve(t, http.MethodGet, "/api/v1/fail-after-write", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d", rec.Code)
	}
	env := envelope(t, rec)
	if string(env.Data) != `"written"` {
		t.Errorf("data = %s; the late error must not append a second envelope: %s", env.Data, rec.Body)
	}
	if failed := ts.logs.find(t, "request failed"); failed["response_started"] != true {
		t.Errorf("log record = %v", failed)
	}
}

func TestHostRoutesAndHead(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := ts.serve(t, http.MethodGet, "/custom", "")
	if env := envelope(t, rec); rec.Code != 200 || string(env.Data) != `"host route"` {
		t.Errorf("GET /custom = %d %s", rec.Code, rec.Body)
	}
	if env := envelope(t, rec); env.Meta.Version != DefaultVersions().current().Major {
		t.Errorf("meta.version outside /api/ = %d, want the current version", env.Meta.Version)
	}

	rec = ts.serve(t, http.MethodHead, "/api/v1/health", "")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != ContentTypeJSON {
		t.Errorf("HEAD = %d %v", rec.Code, rec.Header())
	}
}

func TestRegisterRejectsBadRoutes(t *testing.T) {
	noop := func(http.ResponseWriter, *http.Request) error { return nil }
	tests := map[string]Route{
		"no method":       {Pattern: "/api/v1/x", Handler: noop},
		"host in pattern": {Pattern: "GET example.com/x", Handler: noop},
		"unknown version": {Pattern: "GET /api/v3/x", Handler: noop},
		"no version":      {Pattern: "GET /api/x", Handler: noop},
		"trailing slash":  {Pattern: "GET /api/v1/x/", Handler: noop},
		"nil handler":     {Pattern: "GET /api/v1/x"},
		"conflict":        {Pattern: "GET /api/v1/health", Handler: noop},
		"negative limit":  {Pattern: "POST /api/v1/x", Handler: noop, BodyLimit: -1},
	}
	for name, rt := range tests {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("NewServer accepted %+v", rt)
				}
			}()
			NewServer(Deps{}, WithRoutes(rt))
		})
	}
}

// wantMetaVersion is the meta.version of a response to target: the version of an /api/v{N}/
// path, the current version otherwise.
func wantMetaVersion(target string) int {
	if n, ok := parseAPIVersion(target); ok {
		return n
	}
	return DefaultVersions().current().Major
}
