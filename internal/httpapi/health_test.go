package httpapi

import (
	"context"
	json "encoding/json/v2"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse"
)

func TestHealthAndReady(t *testing.T) {
	var sawDeadline bool
	ready := func(ctx context.Context) error {
		_, sawDeadline = ctx.Deadline()
		return nil
	}
	ts := newTestServer(t, func(d *Deps) { d.Ready = ready })
	tests := []struct {
		target string
		want   string
	}{
		{"/api/v1/health", `{"status":"ok"}`},
		{"/healthz", `{"status":"ok"}`},
		{"/api/v1/ready", `{"status":"ready"}`},
		{"/readyz", `{"status":"ready"}`},
	}
	for _, tt := range tests {
		rec := ts.serve(t, http.MethodGet, tt.target, "")
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d %s", tt.target, rec.Code, rec.Body)
		}
		if env := envelope(t, rec); string(env.Data) != tt.want {
			t.Errorf("%s: data = %s, want %s", tt.target, env.Data, tt.want)
		}
	}
	if !sawDeadline {
		t.Error("the readiness check ran without a deadline")
	}
}

func TestNotReady(t *testing.T) {
	cause := errors.New("dial tcp 10.1.2.3:5432: connect: connection refused")
	ts := newTestServer(t, func(d *Deps) { d.Ready = func(context.Context) error { return cause } })
	for _, target := range []string{"/api/v1/ready", "/readyz"} {
		rec := ts.serve(t, http.MethodGet, target, "", HeaderRequestID, "ready-probe")
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s: status %d", target, rec.Code)
		}
		env := envelope(t, rec)
		if env.Error.Code != string(gatehouse.EUnavailable) || env.Error.Message != "service is not ready" {
			t.Errorf("%s: error = %+v", target, env.Error)
		}
		if strings.Contains(rec.Body.String(), "10.1.2.3") {
			t.Errorf("%s: response leaks the cause: %s", target, rec.Body)
		}
	}
	logged := ts.logs.find(t, "request failed")
	if !strings.Contains(logged["error"].(string), "10.1.2.3") || logged["request_id"] != "ready-probe" || logged["level"] != "WARN" {
		t.Errorf("log record = %v", logged)
	}

	// Liveness does not depend on the database.
	if rec := ts.serve(t, http.MethodGet, "/healthz", ""); rec.Code != http.StatusOK {
		t.Errorf("/healthz = %d while not ready", rec.Code)
	}
}

func TestVersionEndpoint(t *testing.T) {
	ts := newTestServer(t, nil)
	want := `{"version":"test","api_versions":[` +
		`{"version":2,"status":"current","released":"2026-12-08T00:00:00Z"},` +
		`{"version":1,"status":"supported","released":"2026-11-27T00:00:00Z"}]}`
	for _, path := range []string{"/api/v1/version", "/api/v2/version"} {
		rec := ts.serve(t, http.MethodGet, path, "")
		if env := envelope(t, rec); string(env.Data) != want {
			t.Errorf("%s data =\n%s\nwant\n%s", path, env.Data, want)
		}
	}

	// With a table at every stage, versions are listed newest first with their dates. The handler
	// is called directly: in this table v1, where routes.go mounts it, is retired.
	srv := NewServer(testDeps(&syncBuffer{}), WithVersions(lifecycleTable())).(*server)
	rec := httptest.NewRecorder()
	if err := srv.handleVersion(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)); err != nil {
		t.Fatal(err)
	}
	var env struct {
		Data versionResponse `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatal(err)
	}
	got := env.Data.APIVersions
	if len(got) != 4 || got[0].Version != 4 || got[0].Status != "current" || got[3].Status != "retired" ||
		!got[1].Sunset.IsZero() || got[2].Deprecated.Year() != 2026 || got[2].Sunset.Year() != 2027 {
		t.Errorf("api_versions = %+v", got)
	}
	if strings.Contains(rec.Body.String(), `"sunset":"0001`) {
		t.Errorf("zero dates are sent: %s", rec.Body)
	}
}
