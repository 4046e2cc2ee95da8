// Package servertest runs a host program's resources in tests, on every database engine the test
// run has, the way Gatehouse tests its own: a fresh database per test, a real server over HTTP,
// accounts and teams made in a line, and the authorization matrix of the resources checked
// against their routes (CheckMatrix).
//
// The engines are those of Gatehouse's own test command (scripts/test, or the servers of
// scripts/dbs): SQLite always; PostgreSQL, MariaDB and a MariaDB Galera cluster when these are
// set:
//
//	GATEHOUSE_TEST_POSTGRES=127.0.0.1:PORT          superuser postgres, trust auth
//	GATEHOUSE_TEST_MARIADB=127.0.0.1:PORT           root, empty password
//	GATEHOUSE_TEST_GALERA=127.0.0.1:P1,…:P2,…:P3    root, empty password
//	GATEHOUSE_TEST_REQUIRE=postgres,mariadb,galera  engines whose absence fails the test
//
// so `go test ./...` alone runs the SQLite half.
package servertest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/apidoc/apidoctest"
	"github.com/gatehousehq/gatehouse/internal/app"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/hostlink"
	"github.com/gatehousehq/gatehouse/internal/testdb"
	"github.com/gatehousehq/gatehouse/server"
)

// Password is the password of every account the helpers create.
const Password = "correct horse battery staple 42"

// Engines returns the engines available to the test (see the package documentation), and fails
// the test when one that GATEHOUSE_TEST_REQUIRE names is not configured.
func Engines(t testing.TB) []string {
	t.Helper()
	return testdb.Engines(t)
}

// ForEach runs fn as a subtest per available engine, named after it, each with a fresh server
// on a fresh database serving resources.
func ForEach(t *testing.T, resources []server.Resource, fn func(t *testing.T, e *Env)) {
	t.Helper()
	for _, engine := range Engines(t) {
		t.Run(engine, func(t *testing.T) { fn(t, Start(t, engine, resources...)) })
	}
}

// Env is one running server on a fresh database, served over HTTP for the test.
type Env struct {
	// Server is the server under test.
	Server *server.Server
	// URL is its base URL ("http://127.0.0.1:PORT").
	URL string
	// Engine is the database engine ("sqlite", "postgres", "mariadb", "galera").
	Engine string

	t   *testing.T
	app *app.App
	srv *httptest.Server
	seq int
}

// Start boots a server with resources on a fresh database of engine, configured as the
// gatehouse command would be through its environment (with the cheapest password hashing it
// accepts, so tests stay fast), with an HTTP server for it; both stop when the test ends.
func Start(t *testing.T, engine string, resources ...server.Resource) *Env {
	t.Helper()
	return StartWith(t, engine, nil, resources...)
}

// StartWith is Start with extra configuration variables (name → value).
func StartWith(t *testing.T, engine string, extra map[string]string, resources ...server.Resource) *Env {
	t.Helper()
	env := dbEnv(testdb.New(t, engine))
	env["SECURITY_BCRYPT_COST"] = "10" // the lowest the configuration accepts
	env["PUBLIC_URL"] = "https://gatehouse.test"
	env["LOG_LEVEL"] = "error" // not the warnings every fresh database gets (default admin, keys)
	for k, v := range extra {
		env[k] = v
	}
	srv, err := server.New(context.Background(), server.Options{
		Getenv: func(k string) string { return env[k] }, Resources: resources, LogOutput: testWriter{t},
	})
	if err != nil {
		t.Fatalf("servertest: start on %s: %v", engine, err)
	}
	a, _ := hostlink.App(srv)
	// Every API answer is checked against the server's OpenAPI document (its resources' routes
	// included): a mismatch fails the test that made the request.
	h := srv.Handler()
	e := &Env{Server: srv, Engine: engine, t: t, app: a, srv: httptest.NewServer(apidoctest.Handler(t, h, apidoctest.FromServer(a)))}
	e.URL = e.srv.URL
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Run(ctx); close(done) }()
	t.Cleanup(func() {
		e.srv.Close()
		cancel()
		<-done
		_ = srv.Close()
	})
	return e
}

// dbEnv is the configuration of a test database as DB_* variables.
func dbEnv(db config.DB) map[string]string {
	env := map[string]string{
		"DB_TYPE":            db.Type,
		"DB_POOL_SIZE":       strconv.Itoa(db.PoolSize),
		"DB_CONNECT_TIMEOUT": db.ConnectTimeout.String(),
	}
	if db.Type == config.DBSQLite {
		env["DB_PATH"] = db.Path
		return env
	}
	env["DB_HOST"] = strings.Join(db.Hosts, ",")
	env["DB_PORT"] = strconv.Itoa(db.Port)
	env["DB_NAME"] = db.Name
	env["DB_USER"] = db.User
	env["DB_PASS"] = db.Pass
	return env
}

// testWriter sends the server's log lines (errors) to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Name returns a fresh name with the prefix, unique within the Env ("note-7").
func (e *Env) Name(prefix string) string {
	e.seq++
	return fmt.Sprintf("%s-%d", prefix, e.seq)
}

// CreateUser makes an active, confirmed account with Password and the global roles, as an
// admin or the gatehouse user command would, and returns its id.
func (e *Env) CreateUser(email string, roles ...gatehouse.Role) int64 {
	e.t.Helper()
	u, err := e.app.Auth.CreateUser(context.Background(), email, Password, roles, true)
	if err != nil {
		e.t.Fatalf("servertest: create user %s: %v", email, err)
	}
	return u.ID
}

// Login signs in with Password and returns the access token, with the scopes asked for (all
// that the account's roles allow when none are).
func (e *Env) Login(email string, scopes ...gatehouse.Scope) string {
	e.t.Helper()
	body := map[string]any{"email": email, "password": Password}
	if len(scopes) > 0 {
		body["scope"] = gatehouse.FormatScopes(scopes)
	}
	r := e.Do("POST", "/api/v1/auth/login", "", body)
	r.Expect(e.t, 200, "")
	var tk struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
	}
	r.Data(e.t, &tk)
	if len(scopes) > 0 && tk.Scope != gatehouse.FormatScopes(scopes) {
		e.t.Fatalf("servertest: %s asked for scopes %q and got %q", email, gatehouse.FormatScopes(scopes), tk.Scope)
	}
	return tk.AccessToken
}

// TokenWithScopes returns an access token of the account (signed in with Password) that carries
// exactly scopes, even scopes its roles would not grant at sign-in and the empty set: the tokens
// an account keeps after it is demoted, or that an API key cut down to nothing gives. Such tokens
// test that every route asks for its scope.
func (e *Env) TokenWithScopes(email string, scopes ...gatehouse.Scope) string {
	e.t.Helper()
	return e.tokensWithScopes(email, scopes)[0]
}

// tokensWithScopes signs in once and returns a token per set of scopes.
func (e *Env) tokensWithScopes(email string, sets ...[]gatehouse.Scope) []string {
	e.t.Helper()
	claims, err := e.app.Tokens.Verify(e.Login(email))
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]string, len(sets))
	for i, set := range sets {
		c := *claims
		c.Scope = nil
		for _, s := range set {
			c.Scope = append(c.Scope, string(s))
		}
		if out[i], _, err = e.app.Tokens.Issue(c); err != nil {
			e.t.Fatal(err)
		}
	}
	return out
}

// CreateTeam makes a team through the API as the account behind token (which becomes its
// owner), and returns its id.
func (e *Env) CreateTeam(token, name string) int64 {
	e.t.Helper()
	r := e.Do("POST", "/api/v1/teams", token, map[string]any{"name": name})
	r.Expect(e.t, 201, "")
	var team struct {
		ID int64 `json:"id"`
	}
	r.Data(e.t, &team)
	return team.ID
}

// SetMember gives the account userID the role in the team, through the API as the account behind
// token (an owner of the team, or a global admin).
func (e *Env) SetMember(token string, teamID, userID int64, role gatehouse.TeamRole) {
	e.t.Helper()
	r := e.Do("PUT", fmt.Sprintf("/api/v1/teams/%d/members/%d", teamID, userID), token, map[string]any{"role": role})
	if r.Status != 200 && r.Status != 201 { // 201 adds a member, 200 changes one
		r.Expect(e.t, 201, "")
	}
}
