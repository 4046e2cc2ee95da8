package transport

import "strings"

// V1Prefix and V2Prefix start the paths of the two live API versions.
const (
	V1Prefix = "/api/v1/"
	V2Prefix = "/api/v2/"
)

// V2Route returns the /api/v2/ route derived from an /api/v1/ route of the API chain, and
// whether r is one. The table lists v1 patterns only; every v1 route (Gatehouse's, and a host's
// added through httpapi.WithRoutes) also answers at the same path under /api/v2/, through the
// same handler and the v2 adapter of internal/httpapi, with the same chain, authentication,
// body limit and action. The OpenAPI document of v2 is built from the routes this returns.
func V2Route(r Route) (Route, bool) {
	if r.Chain != API {
		return Route{}, false
	}
	method, path, _ := strings.Cut(r.Pattern, " ")
	rest, ok := strings.CutPrefix(path, V1Prefix)
	if !ok {
		return Route{}, false
	}
	r.Pattern = method + " " + V2Prefix + rest
	return r, true
}

// V2Routes returns the /api/v2/ routes derived from routes (V2Route), in their order.
func V2Routes(routes []Route) []Route {
	var out []Route
	for _, r := range routes {
		if v2, ok := V2Route(r); ok {
			out = append(out, v2)
		}
	}
	return out
}
