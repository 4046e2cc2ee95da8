package httpapi

import (
	"context"
	"net/http"
	"runtime"
	"slices"
	"time"

	"gatehouse"
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

// versionResponse is the body of GET /api/v1/version.
type versionResponse struct {
	Version     string            `json:"version"`
	GoVersion   string            `json:"go_version"`
	APIVersions []apiVersionEntry `json:"api_versions"`
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

// handleVersion reports the build and the lifecycle of every API version, so clients can find out
// programmatically when they must move.
func (s *server) handleVersion(w http.ResponseWriter, r *http.Request) error {
	resp := versionResponse{Version: s.version, GoVersion: runtime.Version()}
	for _, v := range s.versions {
		resp.APIVersions = append(resp.APIVersions, apiVersionEntry{
			Version: v.Major, Status: string(v.Status),
			Released: v.Released, Deprecated: v.Deprecated, Sunset: v.Sunset,
		})
	}
	slices.SortFunc(resp.APIVersions, func(a, b apiVersionEntry) int { return b.Version - a.Version })
	return Respond(w, r, http.StatusOK, resp)
}
