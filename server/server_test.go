package server_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/authz"
	"github.com/gatehousehq/gatehouse/rest"
	"github.com/gatehousehq/gatehouse/server"
	"github.com/gatehousehq/gatehouse/server/servertest"
)

// pings is a small resource with what notes (examples/notes) does not use: an action that is not
// team-scoped, the outbox, DecideTeam, and a table without a team.
func pings() server.Resource {
	mig := func(ddl string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("-- +goose Up\n" + ddl + ";\n\n-- +goose Down\nDROP TABLE pings;\n")}
	}
	return server.Resource{
		Name: "pings",
		Rules: []authz.Rule{
			{Action: "pings.send", Group: "Pings", Summary: "send a ping", Scope: gatehouse.ScopeWrite, AnyAccount: true},
			authz.TeamRule("Pings", "pings.team", gatehouse.ScopeRead, "ping this team", authz.AllTeamRoles),
		},
		Migrations: fstest.MapFS{
			"migrations/postgres/00001_pings.sql": mig("CREATE TABLE pings (id BIGSERIAL PRIMARY KEY, sender BIGINT NOT NULL, note TEXT NOT NULL)"),
			"migrations/mysql/00001_pings.sql":    mig("CREATE TABLE pings (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, sender BIGINT NOT NULL, note TEXT NOT NULL) ENGINE=InnoDB"),
			"migrations/sqlite/00001_pings.sql":   mig("CREATE TABLE pings (id INTEGER PRIMARY KEY AUTOINCREMENT, sender BIGINT NOT NULL, note TEXT NOT NULL)"),
		},
		Routes: func(k *server.Kit) []rest.Route {
			send := func(w http.ResponseWriter, r *http.Request) error {
				c := server.CallerOf(r)
				var id int64
				err := k.InTx(r.Context(), func(ctx context.Context, tx *server.Tx) (err error) {
					if id, err = tx.InsertID(ctx, "INSERT INTO pings (sender, note) VALUES (?, ?)", c.UserID(), string(c.Action)); err != nil {
						return err
					}
					if err := tx.EnqueueMail(ctx, &gatehouse.OutboxMail{To: c.Principal.User.Email, Subject: "Ping", Text: "pong"}); err != nil {
						return err
					}
					return tx.Audit(ctx, k.Event(r, "a ping"))
				})
				if err != nil {
					return err
				}
				return rest.RespondCreated(w, r, fmt.Sprintf("/api/v1/pings/%d", id), map[string]int64{"id": id})
			}
			team := func(w http.ResponseWriter, r *http.Request) error {
				c := server.CallerOf(r)
				// Another decision in the same team, as a handler that must decide twice would.
				again, err := k.DecideTeam(r.Context(), "pings.team", c.TeamID)
				if err != nil {
					return err
				}
				return rest.Respond(w, r, http.StatusOK, map[string]any{"team": c.TeamID, "role": again.TeamRole})
			}
			return []rest.Route{
				{Pattern: "POST /api/v1/pings", Handler: send, Auth: rest.Authenticated, Action: "pings.send"},
				{Pattern: "GET /api/v1/teams/{id}/pings", Handler: team, Auth: rest.Authenticated, Action: "pings.team"},
			}
		},
	}
}

func TestResource(t *testing.T) {
	servertest.ForEach(t, []server.Resource{pings()}, func(t *testing.T, e *servertest.Env) {
		e.CreateUser("admin@example.com", gatehouse.RoleAdmin)
		e.CreateUser("sender@example.com", gatehouse.RoleMaintainer)
		e.CreateUser("nobody@example.com")
		admin, nobody := e.Login("admin@example.com"), e.Login("nobody@example.com")

		// An action of every account: decided before the handler, scope included (an account
		// without a role or a team signs in with read alone).
		e.Do("POST", "/api/v1/pings", "", nil).Expect(t, http.StatusUnauthorized, "unauthenticated")
		r := e.Do("POST", "/api/v1/pings", e.Login("sender@example.com"), nil).Expect(t, http.StatusCreated, "")
		if !strings.HasPrefix(r.Header.Get("Location"), "/api/v1/pings/") {
			t.Errorf("Location %q", r.Header.Get("Location"))
		}
		e.Do("POST", "/api/v1/pings", nobody, nil).Expect(t, http.StatusForbidden, "insufficient_scope")

		// The mail and the audit event committed with the row; the admin views show them.
		if r = e.Do("GET", "/api/v1/admin/outbox", admin, nil).Expect(t, http.StatusOK, ""); !strings.Contains(string(r.Raw), `"Ping"`) {
			t.Errorf("outbox: %s", r.Raw)
		}
		if r = e.Do("GET", "/api/v1/admin/audit?event=pings.send", admin, nil).Expect(t, http.StatusOK, ""); !strings.Contains(string(r.Raw), `"a ping"`) {
			t.Errorf("audit: %s", r.Raw)
		}

		// A team action: members by role, outsiders 404, a global admin in any existing team,
		// and 404 for a team that does not exist, even for a global admin.
		e.CreateUser("owner@example.com", gatehouse.RoleMaintainer)
		owner := e.Login("owner@example.com")
		path := fmt.Sprintf("/api/v1/teams/%d/pings", e.CreateTeam(owner, "T"))
		if r = e.Do("GET", path, owner, nil).Expect(t, http.StatusOK, ""); !strings.Contains(string(r.Raw), `"role":"owner"`) {
			t.Errorf("owner: %s", r.Raw)
		}
		e.Do("GET", path, nobody, nil).Expect(t, http.StatusNotFound, "not_found")
		e.Do("GET", path, admin, nil).Expect(t, http.StatusOK, "")
		e.Do("GET", "/api/v1/teams/999999/pings", admin, nil).Expect(t, http.StatusNotFound, "not_found")

		st, err := e.Server.MigrationStatus(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		sets := map[string]int{}
		for _, m := range st {
			if !m.Applied {
				t.Errorf("%s %d not applied", m.Set, m.Version)
			}
			sets[m.Set]++
		}
		if sets["gatehouse"] < 40 || sets["pings"] != 1 {
			t.Errorf("migration status by set: %v", sets)
		}
	})
}

// A resource that is not well formed is refused before anything touches the database.
func TestResourceRefused(t *testing.T) {
	ok := pings()
	handler := func(http.ResponseWriter, *http.Request) error { return nil }
	routes := func(rs ...rest.Route) func(*server.Kit) []rest.Route {
		return func(*server.Kit) []rest.Route { return rs }
	}
	sendRule := authz.Rule{Action: "refused.send", Group: "Refused", Summary: "send", Scope: gatehouse.ScopeWrite, AnyAccount: true}
	teamRule := authz.TeamRule("Refused", "refused.team", gatehouse.ScopeRead, "read", authz.AllTeamRoles)
	for _, c := range []struct {
		name string
		res  []server.Resource
		want string
	}{
		{"bad name", []server.Resource{{Name: "Pings"}}, "lower-case"},
		{"two of a name", []server.Resource{ok, ok}, "two resources"},
		{"a rule that guards no route", []server.Resource{{Name: "refused", Rules: []authz.Rule{sendRule}}}, "guards none"},
		{"an API route without an action", []server.Resource{{Name: "refused",
			Routes: routes(rest.Route{Pattern: "GET /api/v1/refused", Handler: handler})}}, "names no action"},
		{"an action without a rule", []server.Resource{{Name: "refused",
			Routes: routes(rest.Route{Pattern: "GET /api/v1/refused", Handler: handler, Action: "refused.unknown"})}}, "has no rule"},
		{"a team action without {id}", []server.Resource{{Name: "refused", Rules: []authz.Rule{teamRule},
			Routes: routes(rest.Route{Pattern: "GET /api/v1/refused", Handler: handler, Action: "refused.team"})}}, "{id}"},
		{"an endpoint that is not the route's", []server.Resource{{Name: "refused",
			Rules:  []authz.Rule{{Action: "refused.other", Group: "Refused", Endpoint: "POST /api/v1/elsewhere", Summary: "send", Scope: gatehouse.ScopeWrite, AnyAccount: true}},
			Routes: routes(rest.Route{Pattern: "POST /api/v1/refused", Handler: handler, Action: "refused.other"})}}, "says it guards"},
		{"a bad rule", []server.Resource{{Name: "refused",
			Rules:  []authz.Rule{{Action: "refused.bad", Group: "Refused", Summary: "send", Scope: "root", AnyAccount: true}},
			Routes: routes(rest.Route{Pattern: "POST /api/v1/refused", Handler: handler, Action: "refused.bad"})}}, "scope"},
		{"a family missing", []server.Resource{{Name: "refused", Migrations: fstest.MapFS{
			"postgres/00001_x.sql": {Data: []byte("-- +goose Up\n")}, "sqlite/00001_x.sql": {Data: []byte("-- +goose Up\n")}}}}, "mysql/"},
		{"no migrations directory", []server.Resource{{Name: "refused", Migrations: fstest.MapFS{"x.sql": {}}}}, "no postgres/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"DB_PATH": filepath.Join(t.TempDir(), "never.db")}
			_, err := server.New(context.Background(), server.Options{Getenv: func(k string) string { return env[k] }, Resources: c.res})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// The configuration is read through Getenv, as the gatehouse command reads it.
func TestNewRefusesBadConfiguration(t *testing.T) {
	env := map[string]string{"DB_TYPE": "oracle"}
	_, err := server.New(context.Background(), server.Options{Getenv: func(k string) string { return env[k] }})
	if err == nil || !strings.Contains(err.Error(), "DB_TYPE") {
		t.Fatalf("New = %v, want an error naming DB_TYPE", err)
	}
}
