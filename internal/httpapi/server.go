package httpapi

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/license"
	"github.com/gatehousehq/gatehouse/internal/teams"
	"github.com/gatehousehq/gatehouse/internal/tracing"
	"github.com/gatehousehq/gatehouse/internal/transport"
	"github.com/gatehousehq/gatehouse/internal/users"
)

// DefaultBodyLimit is the largest request body an API route accepts unless the route says
// otherwise. Gatehouse's requests are small documents; anything bigger is a mistake or an attack.
const DefaultBodyLimit int64 = 1 << 20 // 1 MiB

// Deps are the collaborators the HTTP layer needs. They are passed in explicitly so that tests can
// substitute a fixed clock or a failing readiness check, and so that nothing here reaches for a
// global.
type Deps struct {
	// Logger receives the access log, panics and the causes of 5xx errors. Nil discards.
	Logger *slog.Logger
	// Now is the clock used for envelope timestamps. Nil means time.Now.
	Now func() time.Time
	// Version is the build version reported by /api/v1/version and the build-info metric.
	Version string
	// Ready reports whether the service can do its work: nil means the database is reachable and
	// its migrations are current. Nil means always ready.
	Ready func(ctx context.Context) error
	// DBStats, when set, is exported as go_sql_* pool metrics.
	DBStats func() sql.DBStats
	// Registry receives the server's collectors and is what /metrics serves. Nil means a private
	// registry, which is enough for tests but hides the metrics from a host application.
	Registry *prometheus.Registry
	// Auth is the account service behind /api/v1/auth and the bearer authentication of
	// protected routes. Nil leaves those routes out (tests of the conventions alone).
	Auth *auth.Service
	// TrustedProxies are the peers whose X-Forwarded-For is believed (TRUSTED_PROXIES).
	TrustedProxies []netip.Prefix
	// Users is the user administration behind /api/v1/users, the admin views and the license
	// view. Required with Auth.
	Users *users.Service
	// License reports the license state to admins (GET /api/v1/license). Nil: the route is left out.
	License LicenseStatus
	// Teams serves the teams, members, invitations and projects endpoints. Required with Auth.
	Teams *teams.Service
	// TracerProvider, when not nil, makes a server span of every request (trace.go). Nil
	// (tracing off) leaves the chain as it is.
	TracerProvider trace.TracerProvider
}

// LicenseStatus is what the HTTP layer needs of the license client.
type LicenseStatus interface{ Status() license.Status }

// Option adjusts a server beyond its dependencies.
type Option func(*options)

type options struct {
	routes    []Route
	versions  Versions
	bodyLimit int64
}

// WithRoutes adds routes to the server, each with the same middleware, envelope and error handling
// as Gatehouse's own. It is how a host application adds its resources next to Gatehouse's (they
// join the URL surface: Server.Routes lists them, and the split between the API and the pages
// follows), how single sign-on adds its API routes (which are in the route table, and must say
// what it says), and how tests register probe handlers. Patterns under /api/ must name a version
// in the version table.
func WithRoutes(routes ...Route) Option {
	return func(o *options) { o.routes = append(o.routes, routes...) }
}

// WithVersions replaces the API version lifecycle table (DefaultVersions). Tests use it to exercise
// deprecated and retired versions before they exist.
func WithVersions(vs Versions) Option {
	vs = slices.Clone(vs) // the caller keeps no handle on the server's table
	return func(o *options) { o.versions = vs }
}

// WithBodyLimit changes the body size limit of routes that do not set their own.
func WithBodyLimit(n int64) Option {
	return func(o *options) { o.bodyLimit = n }
}

// server is the assembled HTTP layer. It is unexported because callers only need an http.Handler;
// everything configurable goes through Deps and Options.
type server struct {
	logger    *slog.Logger
	now       func() time.Time
	version   string
	ready     func(ctx context.Context) error
	registry  *prometheus.Registry
	auth      *auth.Service
	users     *users.Service
	license   LicenseStatus
	teams     *teams.Service
	trusted   []netip.Prefix
	versions  Versions
	bodyLimit int64
	metrics   *httpMetrics
	tracer    trace.Tracer // nil when tracing is off

	mux *http.ServeMux
	// limits holds the body limit of each registered pattern that sets one.
	limits map[string]int64
	// served lists the registered routes, in order.
	served  []transport.Route
	handler http.Handler
	// operations describe the served routes for the OpenAPI document; docs caches it.
	operations map[string]Operation
	docs       openAPIDocs
}

// Server is the assembled API: an http.Handler that also says which routes it serves.
type Server interface {
	http.Handler
	// Routes lists the routes served, Gatehouse's (as the route table has them) and those added
	// with WithRoutes, in the order they were registered.
	Routes() []transport.Route
}

// NewServer assembles Gatehouse's HTTP handler: the API routes of the route table
// (internal/transport) this package serves, bound in routes.go, plus those given with WithRoutes,
// behind one middleware chain. It registers the HTTP, build-info and (when
// deps.DBStats is set) database pool collectors on deps.Registry.
//
// Like http.ServeMux.Handle, it panics on programming errors: an invalid or conflicting route
// pattern, an invalid version table, or collectors already registered on the registry.
func NewServer(deps Deps, opts ...Option) Server {
	o := options{versions: DefaultVersions(), bodyLimit: DefaultBodyLimit}
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.versions.Validate(); err != nil {
		panic(fmt.Sprintf("httpapi: invalid version table: %v", err))
	}
	if o.bodyLimit <= 0 {
		panic(fmt.Sprintf("httpapi: body limit must be positive, got %d", o.bodyLimit))
	}

	s := &server{
		logger:    deps.Logger,
		now:       deps.Now,
		version:   deps.Version,
		ready:     deps.Ready,
		registry:  deps.Registry,
		auth:      deps.Auth,
		users:     deps.Users,
		license:   deps.License,
		teams:     deps.Teams,
		trusted:   deps.TrustedProxies,
		versions:  o.versions,
		bodyLimit: o.bodyLimit,
		tracer:    tracing.Tracer(deps.TracerProvider, "github.com/gatehousehq/gatehouse/internal/httpapi"),
		mux:       http.NewServeMux(),
		limits:    map[string]int64{},
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.version == "" {
		s.version = "dev"
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	s.metrics = newHTTPMetrics(s.registry, s.version, deps.DBStats)

	s.operations = operationsOf(o.routes)
	for _, rt := range append(transport.APIRoutes(s.handlers()), o.routes...) {
		s.register(rt)
	}

	// The order is part of the contract: every later layer can rely on the request id (and the
	// request's span, when tracing is on); recovery
	// sits outside the access log and metrics so a panic in them is still answered, yet those two
	// still see the 500 because they record in deferred calls; the body limit is in force before
	// any handler reads; version headers are set before the handler writes.
	s.handler = s.strictTransport(s.prepare(
		s.requestID(s.traceRequests(
			s.recoverPanics(
				s.accessLog(
					s.instrument(
						s.limitBody(
							s.apiVersion(
								http.HandlerFunc(s.dispatch))))))))))
	return s
}

// ServeHTTP implements http.Handler.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Routes implements Server.
func (s *server) Routes() []transport.Route { return slices.Clone(s.served) }

// register validates a route and adds it to the mux behind the error adapter.
func (s *server) register(rt Route) {
	method, path, ok := strings.Cut(rt.Pattern, " ")
	if !ok || method == "" || !strings.HasPrefix(path, "/") {
		// A method is required so that 405 answers and Allow headers stay exact, and a host part
		// is refused because the API is served on whatever name the operator chooses.
		panic(fmt.Sprintf("httpapi: route pattern %q must be \"METHOD /path\"", rt.Pattern))
	}
	if rt.Handler == nil {
		panic(fmt.Sprintf("httpapi: route %q has no handler", rt.Pattern))
	}
	if rt.BodyLimit < 0 {
		panic(fmt.Sprintf("httpapi: route %q has a negative body limit", rt.Pattern))
	}
	if isAPIPath(path) {
		major, ok := parseAPIVersion(path)
		if !ok {
			panic(fmt.Sprintf("httpapi: route %q must start with /api/v{major}/", rt.Pattern))
		}
		if _, known := s.versions.lookup(major); !known {
			panic(fmt.Sprintf("httpapi: route %q names API version %d, which is not in the version table", rt.Pattern, major))
		}
		if strings.HasSuffix(path, "/") {
			// ServeMux would answer the slash-less path with a redirect, which API clients do
			// not follow reliably for anything but GET.
			panic(fmt.Sprintf("httpapi: API route %q must not end with a slash", rt.Pattern))
		}
	}
	served := transport.FromREST(rt)
	if t, ok := transport.Lookup(rt.Pattern); ok && t != served {
		// One of Gatehouse's routes, served by another package (single sign-on): the table
		// decides what it is, so that the table stays the whole truth.
		panic(fmt.Sprintf("httpapi: route %q is %+v, but the route table says %+v", rt.Pattern, served, t))
	}
	h := rt.Handler
	switch {
	case rt.Auth == Public:
	case rt.Auth == OptionalAuthMayChangePassword && s.auth == nil:
		// Without an account service there is no token to read (GET /api/v1/version of the
		// tests of the conventions alone): the route is public.
	default:
		h = s.requireAuth(rt.Auth, h)
	}
	s.mux.Handle(rt.Pattern, s.adapt(h))
	if rt.BodyLimit > 0 {
		s.limits[rt.Pattern] = rt.BodyLimit
	}
	s.served = append(s.served, served)
}
