package app

import (
	"fmt"

	"github.com/gatehousehq/gatehouse/internal/httpapi"
	"github.com/gatehousehq/gatehouse/internal/sso"
	"github.com/gatehousehq/gatehouse/internal/transport"
	"github.com/gatehousehq/gatehouse/rest"
)

// OpenAPIDocument returns the OpenAPI document of Gatehouse's API version major, in format ("json" or
// "yaml"), as a server with single sign-on and the license view answers it at
// /api/v{major}/openapi.json: built from the route table and the operations, without a
// database. A host program's server answers its own document, its routes included. major must
// be a live version of httpapi.DefaultVersions.
func OpenAPIDocument(major int, build, format string) ([]byte, error) {
	live := false
	for _, v := range httpapi.DefaultVersions() {
		if v.Major == major && v.Status != httpapi.VersionRetired {
			live = true
		}
	}
	if !live {
		return nil, fmt.Errorf("API version %d does not answer; live versions: %v", major, liveVersions())
	}
	var ssoRoutes []rest.Route
	for pattern, op := range sso.Operations() {
		ssoRoutes = append(ssoRoutes, rest.Route{Pattern: pattern, Doc: &op})
	}
	doc, err := httpapi.Document(major, build, transport.Routes(), ssoRoutes)
	if err != nil {
		return nil, err
	}
	return httpapi.Marshal(doc, format)
}

// CurrentAPIVersion is the current major API version of httpapi.DefaultVersions.
func CurrentAPIVersion() int {
	for _, v := range httpapi.DefaultVersions() {
		if v.Status == httpapi.VersionCurrent {
			return v.Major
		}
	}
	return 1
}

func liveVersions() []int {
	var out []int
	for _, v := range httpapi.DefaultVersions() {
		if v.Status != httpapi.VersionRetired {
			out = append(out, v.Major)
		}
	}
	return out
}

// OpenAPI returns the OpenAPI document the handler built by Handler serves at
// /api/v{major}/openapi.json (its host routes included), in format ("json" or "yaml").
func (a *App) OpenAPI(major int, format string) ([]byte, error) {
	if a.api == nil {
		return nil, fmt.Errorf("the API is not assembled: call Handler first")
	}
	return a.api.OpenAPI(major, format)
}
