package httpapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
)

func TestDefaultVersions(t *testing.T) {
	vs := DefaultVersions()
	if err := vs.Validate(); err != nil {
		t.Fatalf("the shipped version table is invalid: %v", err)
	}
	if cur := vs.current(); cur.Major != 2 {
		t.Errorf("current version = v%d, want v2", cur.Major)
	}
	if v1, _ := vs.lookup(1); v1.Status != VersionSupported {
		t.Errorf("v1 is %s, want %s (N-1)", v1.Status, VersionSupported)
	}
}

func TestValidateVersions(t *testing.T) {
	released := day(2024, time.January, 1)
	dep := day(2025, time.March, 1)
	cur := Version{Major: 3, Status: VersionCurrent, Released: released}
	tests := []struct {
		name    string
		vs      Versions
		wantErr string // "" means valid
	}{
		{name: "lifecycle with exactly twelve months", vs: Versions{
			{Major: 1, Status: VersionRetired, Released: released, Deprecated: dep, Sunset: dep.AddDate(1, 0, 0)},
			{Major: 2, Status: VersionDeprecated, Released: released, Deprecated: dep, Sunset: dep.AddDate(2, 0, 0)},
			cur,
		}},
		{name: "deprecation announced ahead", vs: Versions{
			{Major: 2, Status: VersionSupported, Released: released, Deprecated: dep, Sunset: dep.AddDate(1, 0, 0)}, cur,
		}},
		{name: "empty", vs: Versions{}, wantErr: "empty"},
		{name: "sunset too soon", vs: Versions{
			{Major: 2, Status: VersionDeprecated, Released: released, Deprecated: dep, Sunset: dep.AddDate(1, 0, -1)}, cur,
		}, wantErr: "less than 12 months"},
		{name: "deprecated without dates", vs: Versions{
			{Major: 2, Status: VersionDeprecated, Released: released}, cur,
		}, wantErr: "needs deprecation and sunset dates"},
		{name: "sunset without deprecation", vs: Versions{
			{Major: 2, Status: VersionSupported, Released: released, Sunset: dep}, cur,
		}, wantErr: "go together"},
		{name: "no current", vs: Versions{{Major: 1, Status: VersionSupported, Released: released}},
			wantErr: "exactly one version must be current, found 0"},
		{name: "two current", vs: Versions{{Major: 1, Status: VersionCurrent, Released: released}, cur},
			wantErr: "found 2"},
		{name: "current not newest", vs: Versions{{Major: 4, Status: VersionSupported, Released: released}, cur},
			wantErr: "newer major version"},
		{name: "current deprecated", vs: Versions{
			{Major: 3, Status: VersionCurrent, Released: released, Deprecated: dep, Sunset: dep.AddDate(2, 0, 0)},
		}, wantErr: "cannot be deprecated"},
		{name: "duplicate", vs: Versions{cur, cur}, wantErr: "listed twice"},
		{name: "zero major", vs: Versions{{Major: 0, Status: VersionCurrent, Released: released}}, wantErr: "at least 1"},
		{name: "unknown status", vs: Versions{{Major: 1, Status: "beta", Released: released}, cur}, wantErr: `unknown status "beta"`},
		{name: "no release date", vs: Versions{{Major: 3, Status: VersionCurrent}}, wantErr: "release date missing"},
		{name: "deprecated before release", vs: Versions{
			{Major: 2, Status: VersionDeprecated, Released: dep, Deprecated: released, Sunset: dep.AddDate(1, 0, 0)}, cur,
		}, wantErr: "before it was released"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.vs.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestInvalidVersionTablePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewServer accepted an invalid version table")
		}
	}()
	NewServer(Deps{}, WithVersions(Versions{}))
}

// lifecycleTable has a version at every stage. v1 must be present because routes.go registers v1
// routes; here it is retired.
func lifecycleTable() Versions {
	return Versions{
		{Major: 1, Status: VersionRetired, Released: day(2022, 1, 1), Deprecated: day(2024, 1, 1), Sunset: day(2025, 1, 1)},
		{Major: 2, Status: VersionDeprecated, Released: day(2023, 1, 1), Deprecated: day(2026, 1, 1), Sunset: day(2027, 1, 1)},
		{Major: 3, Status: VersionSecurityOnly, Released: day(2024, 1, 1)},
		{Major: 4, Status: VersionCurrent, Released: day(2026, 6, 1)},
	}
}

func TestVersionLifecycle(t *testing.T) {
	health := func(w http.ResponseWriter, r *http.Request) error {
		return Respond(w, r, http.StatusOK, healthResponse{Status: "ok"})
	}
	routes := []Route{
		{Pattern: "GET /api/v2/health", Handler: health},
		{Pattern: "GET /api/v3/health", Handler: health},
		{Pattern: "GET /api/v4/health", Handler: health},
	}
	ts := newTestServer(t, nil, WithVersions(lifecycleTable()), WithRoutes(routes...))

	const (
		deprecation = "@1767225600"                   // 2026-01-01T00:00:00Z
		sunset      = "Fri, 01 Jan 2027 00:00:00 GMT" // HTTP-date
		successor   = `</api/v4/>; rel="successor-version"`
	)
	tests := []struct {
		name        string
		target      string
		wantStatus  int
		wantCode    gatehouse.Code
		wantMessage string
		wantVersion int
		deprecated  bool
	}{
		{name: "retired", target: "/api/v1/health", wantStatus: 410, wantCode: gatehouse.EGone,
			wantMessage: "API version v1 was retired on 2025-01-01; available versions: v2, v3, v4", wantVersion: 1},
		{name: "retired, unknown route", target: "/api/v1/nope", wantStatus: 410, wantCode: gatehouse.EGone, wantVersion: 1},
		{name: "deprecated", target: "/api/v2/health", wantStatus: 200, wantVersion: 2, deprecated: true},
		{name: "deprecated, error response", target: "/api/v2/nope", wantStatus: 404, wantCode: gatehouse.ENotFound,
			wantVersion: 2, deprecated: true},
		{name: "security-only", target: "/api/v3/health", wantStatus: 200, wantVersion: 3},
		{name: "current", target: "/api/v4/health", wantStatus: 200, wantVersion: 4},
		{name: "unknown version", target: "/api/v9/health", wantStatus: 404, wantCode: gatehouse.ENotFound,
			wantMessage: "available versions: v2, v3, v4", wantVersion: 4},
		{name: "not a version", target: "/api/vX/health", wantStatus: 404, wantCode: gatehouse.ENotFound,
			wantMessage: "/api/v{major}/", wantVersion: 4},
		{name: "non-canonical version", target: "/api/v04/health", wantStatus: 404, wantCode: gatehouse.ENotFound, wantVersion: 4},
		{name: "no version", target: "/api/health", wantStatus: 404, wantCode: gatehouse.ENotFound, wantVersion: 4},
		{name: "api root", target: "/api", wantStatus: 404, wantCode: gatehouse.ENotFound, wantVersion: 4},
		{name: "unversioned operations path", target: "/healthz", wantStatus: 200, wantVersion: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := ts.serve(t, http.MethodGet, tt.target, "")
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			env := envelope(t, rec)
			if env.Meta.Version != tt.wantVersion {
				t.Errorf("meta.version = %d, want %d", env.Meta.Version, tt.wantVersion)
			}
			if tt.wantCode != "" {
				if env.Error.Code != string(tt.wantCode) || !strings.Contains(env.Error.Message, tt.wantMessage) {
					t.Errorf("error = %+v, want code %q and message containing %q", env.Error, tt.wantCode, tt.wantMessage)
				}
			}
			h := rec.Header()
			if tt.deprecated {
				if h.Get("Deprecation") != deprecation || h.Get("Sunset") != sunset || h.Get("Link") != successor {
					t.Errorf("deprecation headers = %q, %q, %q", h.Get("Deprecation"), h.Get("Sunset"), h.Get("Link"))
				}
			} else if h.Get("Deprecation") != "" || h.Get("Sunset") != "" || h.Get("Link") != "" {
				t.Errorf("unexpected deprecation headers: %v", h)
			}
		})
	}
}

func TestParseAPIVersion(t *testing.T) {
	tests := map[string]int{
		"/api/v1": 1, "/api/v1/": 1, "/api/v1/x": 1, "/api/v12/x": 12,
		"/api/v0/x": 0, "/api/v01/x": 0, "/api/v+1/x": 0, "/api/vX/x": 0, "/api/v/x": 0,
		"/api/x": 0, "/api": 0, "/apiv1/x": 0, "/api/v1x/y": 0, "/api/v-1/x": 0,
	}
	for in, want := range tests {
		got, ok := parseAPIVersion(in)
		if got != want || ok != (want > 0) {
			t.Errorf("parseAPIVersion(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
}
