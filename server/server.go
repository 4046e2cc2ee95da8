// Package server runs Gatehouse inside a host program: construct it from configuration, register
// the program's own resources next to Gatehouse's, and serve.
//
// A host program is an ordinary Go main package that imports this module. Gatehouse brings the
// accounts, sign-in, tokens, teams and the API conventions; the program brings resources. A
// Resource is a name, authorization rules (authz.Rule), routes (rest.Route, each naming the
// action that guards it) and migrations for every dialect family. New registers the rules, so
// they join the authorization table, its generated document and its tests; applies the
// migrations together with Gatehouse's at start, under the same cluster-wide lock and in a
// version table of the resource's own; and mounts the routes behind the same middleware,
// envelope, error writer and authentication as Gatehouse's own routes. The handlers get a Kit:
// transactions with conflict retries, audit and outbox writes in them, and the team
// authorization decision.
//
// examples/notes in Gatehouse's repository is a complete host program.
package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/gatehousehq/gatehouse/internal/app"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/hostlink"
)

// Options configure New. The zero value runs Gatehouse alone, configured from the process
// environment.
type Options struct {
	// Getenv reads the configuration variables (docs/configuration.md), exactly as the gatehouse
	// command does: os.Getenv when nil; a map's lookup in tests.
	Getenv func(string) string
	// Resources are the host program's own resources.
	Resources []Resource
	// Logger receives Gatehouse's logs. When nil, they go to LogOutput as JSON (or text, with
	// LOG_FORMAT=text) at LOG_LEVEL, as the gatehouse command's do.
	Logger *slog.Logger
	// LogOutput is where the default logger writes; os.Stdout when nil.
	LogOutput io.Writer
	// Version is the program's build version, reported by /api/v1/version and the metrics.
	Version string
	// Now is the clock (time.Now when nil); tests move it to expire things.
	Now func() time.Time
}

// Server is Gatehouse assembled with a host program's resources. Its methods are safe for
// concurrent use.
type Server struct {
	app     *app.App
	cfg     *config.Config
	log     *slog.Logger
	getenv  func(string) string
	handler func() http.Handler
}

// New reads the configuration, connects to the database (waiting for it up to
// DB_CONNECT_TIMEOUT), applies pending migrations (Gatehouse's, then each resource's; unless
// DB_AUTO_MIGRATE=false, in which case it refuses an out-of-date schema), creates the default
// admin when no account holds the admin role, and assembles the service with the resources.
//
// A resource that is not well formed (see Resource) is an error before anything touches the
// database. Close the Server when done.
func New(ctx context.Context, o Options) (*Server, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	cfg, err := config.Load(o.Getenv)
	if err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		out := o.LogOutput
		if out == nil {
			out = os.Stdout
		}
		log = newLogger(cfg, out)
	}
	kits, routes, sets, err := prepareResources(o.Resources, cfg, log)
	if err != nil {
		return nil, err
	}
	a, err := app.New(ctx, cfg, app.Options{Logger: log, Now: o.Now, Version: o.Version, MigrationSets: sets})
	if err != nil {
		return nil, err
	}
	for _, k := range kits {
		k.store = a.Store
	}
	a.AddRoutes(routes...)
	s := &Server{app: a, cfg: cfg, log: log, getenv: o.Getenv}
	s.handler = sync.OnceValue(a.Handler)
	hostlink.Link(s, a)
	return s, nil
}

func newLogger(cfg *config.Config, out io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(out, opts))
	}
	return slog.New(slog.NewJSONHandler(out, opts))
}

// Handler returns the HTTP handler: the API (Gatehouse's routes and the resources'), the pages,
// single sign-on and the operations endpoints (/healthz, /readyz, /metrics). It is built once;
// every call returns the same handler. Mount it at the root of a server or of a path-stripping
// mux: its URLs are absolute.
func (s *Server) Handler() http.Handler { return s.handler() }

// Run does the background work until ctx ends: mail delivery from the outbox, signing-key
// reloads, license validation and the clean-up of expired rows. ListenAndServe runs it; a
// program that serves Handler itself runs it beside.
func (s *Server) Run(ctx context.Context) { s.app.Run(ctx) }

// ListenAndServe binds HTTP_ADDR (HTTPS when TLS_CERT_FILE is set), runs the background work and
// serves Handler until ctx ends, then finishes the requests in flight within SHUTDOWN_TIMEOUT.
// It also applies MEMORY_LIMIT, as the gatehouse command does.
func (s *Server) ListenAndServe(ctx context.Context) error {
	app.ApplyMemoryLimit(s.cfg, s.getenv)
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on HTTP_ADDR=%s: %w", s.cfg.HTTPAddr, err)
	}
	defer func() { _ = ln.Close() }()
	return s.Serve(ctx, ln)
}

// Serve is ListenAndServe on a listener of the caller's (port 0 in tests).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	h := s.Handler()
	bg, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { s.Run(bg) })
	err := app.ServeHTTP(ctx, s.cfg, ln, h, s.log)
	stop()
	wg.Wait()
	return err
}

// Logger returns the logger Gatehouse writes to.
func (s *Server) Logger() *slog.Logger { return s.log }

// Close releases the database pool and flushes traces. Stop serving first.
func (s *Server) Close() error {
	hostlink.Unlink(s)
	return s.app.Close()
}

// MigrationStatus is the state of one migration, Gatehouse's or a resource's.
type MigrationStatus struct {
	// Set is "gatehouse" for Gatehouse's own migrations, else the resource's name.
	Set       string
	Version   int64
	Name      string // the file
	Applied   bool
	AppliedAt time.Time
}

// MigrationStatus lists every migration, Gatehouse's then each resource's, and whether it is
// applied: what `gatehouse migrate status` shows, with the resources' sets.
func (s *Server) MigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	st, err := s.app.Store.MigrationStatus(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]MigrationStatus, len(st))
	for i, m := range st {
		set := m.Set
		if set == "" {
			set = "gatehouse"
		}
		out[i] = MigrationStatus{Set: set, Version: m.Version, Name: m.Name, Applied: m.Applied, AppliedAt: m.AppliedAt}
	}
	return out, nil
}
