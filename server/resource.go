package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/authz"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/rest"
)

// Resource is one of the host program's resources: everything Gatehouse needs to serve it under
// the same rules as its own.
type Resource struct {
	// Name names the resource in logs and migration listings, and its migrations' version table
	// (<Name>_schema_version): lower-case letters, digits and underscores, starting with a
	// letter ("notes").
	Name string
	// Rules are the authorization rules of the resource's actions; New registers them
	// (authz.Register). A rule whose Endpoint is empty gets the Pattern of the route that names
	// its action.
	Rules []authz.Rule
	// Routes returns the resource's routes, given the Kit their handlers use. Every route under
	// /api/ names the action that guards it (Route.Action), one of Rules or of Gatehouse's, and
	// Gatehouse decides it before the handler runs: for a team-scoped action, in the team whose
	// id is the path value {id}; the handler reads the outcome with CallerOf. Patterns under
	// /api/ start with a version of the API (/api/v1/…).
	Routes func(k *Kit) []rest.Route
	// Migrations holds the resource's schema: directories postgres/, mysql/ and sqlite/ (at the
	// root, or under one directory named migrations, as `//go:embed migrations` gives), each with
	// the same goose SQL migrations under the same version numbers (00001_notes.sql …). Nil for a
	// resource without tables.
	Migrations fs.FS
}

var resourceName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,47}$`)

// prepareResources checks the resources, builds their routes with a Kit each (bound to the store
// once it is open), registers their rules and returns their migration sets. Nothing touches the
// database yet.
func prepareResources(rs []Resource, cfg *config.Config, log *slog.Logger) ([]*Kit, []rest.Route, []store.MigrationSet, error) {
	var (
		kits   []*Kit
		routes []rest.Route
		sets   []store.MigrationSet
		names  []string
		rules  []authz.Rule
		owners []*Kit // the Kit of each route's resource
	)
	for _, r := range rs {
		if !resourceName.MatchString(r.Name) {
			return nil, nil, nil, fmt.Errorf("server: resource %q: the name must be lower-case letters, digits and underscores, starting with a letter", r.Name)
		}
		if slices.Contains(names, r.Name) {
			return nil, nil, nil, fmt.Errorf("server: two resources are named %q", r.Name)
		}
		names = append(names, r.Name)
		k := &Kit{resource: r.Name, log: log.With("resource", r.Name), trusted: cfg.TrustedProxies}
		var rrs []rest.Route
		if r.Routes != nil {
			rrs = r.Routes(k)
		}
		rr, err := resourceRules(r, rrs)
		if err != nil {
			return nil, nil, nil, err
		}
		kits, routes, rules = append(kits, k), append(routes, rrs...), append(rules, rr...)
		for range rrs {
			owners = append(owners, k)
		}
		if r.Migrations != nil {
			files, err := migrationRoot(r.Migrations)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("server: resource %q: %w", r.Name, err)
			}
			sets = append(sets, store.MigrationSet{Name: r.Name, Files: files})
		}
	}
	if err := authz.Register(rules...); err != nil {
		return nil, nil, nil, fmt.Errorf("server: %w", err)
	}
	// Only now that the rules are in the table can every route's action be checked and enforced.
	for i, rt := range routes {
		if rt.Action == "" {
			continue
		}
		rule, ok := authz.RuleFor(authz.Action(rt.Action))
		if !ok {
			return nil, nil, nil, fmt.Errorf("server: route %q names action %q, which has no rule", rt.Pattern, rt.Action)
		}
		if rule.TeamScoped && !strings.Contains(rt.Pattern, "/{id}") {
			return nil, nil, nil, fmt.Errorf("server: route %q: action %q is team-scoped, so the path must name the team as {id}", rt.Pattern, rt.Action)
		}
		routes[i].Handler = guard(owners[i], rule, rt.Handler)
	}
	return kits, routes, sets, nil
}

// guard takes the route's authorization decision before its handler runs, so that no route can
// serve without the one decision its Action promises the matrix: for a team-scoped action, the
// caller's role in the team {id} is looked up first (Kit.TeamAccess). The handler finds the
// caller with CallerOf.
func guard(k *Kit, rule authz.Rule, h rest.Handler) rest.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		var c Caller
		if rule.TeamScoped {
			var err error
			if c, err = k.TeamAccess(r, rule.Action); err != nil {
				return err
			}
		} else {
			c.Principal, c.Action = gatehouse.PrincipalFrom(r.Context()), rule.Action
			if err := authz.Decide(c.Principal, rule.Action, ""); err != nil {
				return err
			}
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
	}
}

type callerKey struct{}

// CallerOf returns the caller of a request to a resource's route, as the route's decision found
// it: the principal, and for a team-scoped action the team and the caller's role in it. It is the
// zero Caller on a route without an Action.
func CallerOf(r *http.Request) Caller {
	c, _ := r.Context().Value(callerKey{}).(Caller)
	return c
}

// resourceRules fills in the rules' endpoints from the routes and checks that rules and routes
// agree: a rule guards a route of the resource, and an API route names an action.
func resourceRules(r Resource, routes []rest.Route) ([]authz.Rule, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("server: resource %q: %s", r.Name, fmt.Sprintf(format, args...))
	}
	patterns := map[string][]string{} // action → patterns naming it
	for _, rt := range routes {
		if rt.Action == "" && isAPIPattern(rt.Pattern) {
			return nil, bad("route %q names no action (Route.Action): every API route is guarded by one", rt.Pattern)
		}
		if rt.Action != "" && !slices.Contains(patterns[rt.Action], rt.Pattern) {
			patterns[rt.Action] = append(patterns[rt.Action], rt.Pattern)
		}
	}
	out := make([]authz.Rule, len(r.Rules))
	for i, rule := range r.Rules {
		ps := patterns[string(rule.Action)]
		switch {
		case len(ps) == 0:
			return nil, bad("rule %q guards none of its routes", rule.Action)
		case rule.Endpoint == "" && len(ps) > 1:
			return nil, bad("rule %q guards %v: set its Endpoint to the one the document shows", rule.Action, ps)
		case rule.Endpoint == "":
			rule.Endpoint = ps[0]
		case !slices.Contains(ps, rule.Endpoint):
			return nil, bad("rule %q says it guards %q, but its routes are %v", rule.Action, rule.Endpoint, ps)
		}
		out[i] = rule
	}
	return out, nil
}

func isAPIPattern(p string) bool {
	_, path, _ := strings.Cut(p, " ")
	return path == "/api" || strings.HasPrefix(path, "/api/")
}

// migrationRoot finds the family directories: at the root, or under migrations/.
func migrationRoot(fsys fs.FS) (fs.FS, error) {
	if _, err := fs.Stat(fsys, store.Families[0]); err == nil {
		return fsys, nil
	}
	if st, err := fs.Stat(fsys, "migrations"); err == nil && st.IsDir() {
		return fs.Sub(fsys, "migrations")
	}
	return nil, errors.New("migrations: no postgres/, mysql/ and sqlite/ directories (at the root or under migrations/)")
}
