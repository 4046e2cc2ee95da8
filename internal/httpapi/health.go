package httpapi

import (
	"context"
	"net/http"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/gatehousehq/gatehouse"
)

// readyTimeout bounds the readiness check: a probe that hangs on an unreachable database tells an
// orchestrator less than a prompt 503.
const readyTimeout = 3 * time.Second

// healthResponse is the body of the liveness endpoints.
type healthResponse struct {
	Status string `json:"status"`
}

// handleHealth answers liveness: the process is up and serving. It deliberately checks nothing
// else, so that an orchestrator does not restart Gatehouse because the database is down.
func (s *server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	return Respond(w, r, http.StatusOK, healthResponse{Status: "ok"})
}

// handleReady answers readiness: the database is reachable and migrated, so traffic may be sent.
// The cause of a failure goes to the log (through the error adapter), never to the caller, who may
// be anyone able to reach the port.
func (s *server) handleReady(w http.ResponseWriter, r *http.Request) error {
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			return gatehouse.Wrap(gatehouse.EUnavailable, err, "service is not ready")
		}
	}
	return Respond(w, r, http.StatusOK, healthResponse{Status: "ready"})
}

// versionResponse is the body of GET /api/v1/version. Everyone gets the service version and the
// API lifecycle, which clients need; the Go version and the build details tell an attacker which
// known vulnerabilities to try, so only an authenticated admin gets them (ASVS 14.3.3).
type versionResponse struct {
	Version     string            `json:"version"`
	APIVersions []apiVersionEntry `json:"api_versions"`
	GoVersion   string            `json:"go_version,omitzero"`
	Build       *buildDetails     `json:"build,omitzero"`
}

// buildDetails is what the binary knows about how it was built (runtime/debug.ReadBuildInfo).
type buildDetails struct {
	Module   string            `json:"module"`
	GOOS     string            `json:"goos"`
	GOARCH   string            `json:"goarch"`
	Settings map[string]string `json:"settings,omitzero"`
}

// readBuildDetails returns the build details, keeping the settings that say which source and
// toolchain options made the binary (vcs.*, CGO_ENABLED, -race, -tags, GOAMD64 and the like).
func readBuildDetails() *buildDetails {
	b := &buildDetails{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.Module = info.Main.Path
	if info.Main.Version != "" {
		b.Module += "@" + info.Main.Version
	}
	for _, st := range info.Settings {
		switch {
		case strings.HasPrefix(st.Key, "vcs"), strings.HasPrefix(st.Key, "-"), st.Key == "CGO_ENABLED",
			strings.HasPrefix(st.Key, "GO") && st.Key != "GOOS" && st.Key != "GOARCH":
			if b.Settings == nil {
				b.Settings = map[string]string{}
			}
			b.Settings[st.Key] = st.Value
		}
	}
	return b
}

// apiVersionEntry is one row of the lifecycle table as clients see it. Dates are RFC 3339; the
// deprecation and sunset dates are absent until one is planned.
type apiVersionEntry struct {
	Version    int       `json:"version"`
	Status     string    `json:"status"`
	Released   time.Time `json:"released"`
	Deprecated time.Time `json:"deprecated,omitzero"`
	Sunset     time.Time `json:"sunset,omitzero"`
}

// handleVersion reports the service version and the lifecycle of every API version, so clients can
// find out programmatically when they must move; admins also get the Go version and build details.
func (s *server) handleVersion(w http.ResponseWriter, r *http.Request) error {
	resp := versionResponse{Version: s.version}
	if p := gatehouse.PrincipalFrom(r.Context()); p != nil && p.User != nil && p.User.HasRole(gatehouse.RoleAdmin) {
		resp.GoVersion, resp.Build = runtime.Version(), readBuildDetails()
	}
	for _, v := range s.versions {
		resp.APIVersions = append(resp.APIVersions, apiVersionEntry{
			Version: v.Major, Status: string(v.Status),
			Released: v.Released, Deprecated: v.Deprecated, Sunset: v.Sunset,
		})
	}
	slices.SortFunc(resp.APIVersions, func(a, b apiVersionEntry) int { return b.Version - a.Version })
	return Respond(w, r, http.StatusOK, resp)
}
