// Package testdb gives tests a fresh, empty database on every engine the test run has:
// SQLite always, and PostgreSQL, MariaDB and a MariaDB Galera cluster when scripts/test (or
// scripts/dbs) started them and exported where they are:
//
//	GATEHOUSE_TEST_POSTGRES=127.0.0.1:PORT          superuser postgres, trust auth
//	GATEHOUSE_TEST_MARIADB=127.0.0.1:PORT           root, empty password
//	GATEHOUSE_TEST_GALERA=127.0.0.1:P1,…:P2,…:P3    root, empty password
//	GATEHOUSE_TEST_GALERA_DIR=DIR                   DIR/nodeN/{pid,start} (see GaleraNodes)
//	GATEHOUSE_TEST_REQUIRE=postgres,mariadb,galera  engines whose absence fails the test
//	GATEHOUSE_TEST_GALERA_KILL=1                    enables destructive Galera tests (SkipUnlessGaleraKill)
//	GATEHOUSE_TEST_DBS_DIR=DIR                      DIR/{postgres,mariadb}/restart (see RestartServer)
//	GATEHOUSE_TEST_DESTRUCTIVE=1                    enables TestDestructive* (SkipUnlessDestructive)
//
// An engine without its variable is skipped (and logged) unless GATEHOUSE_TEST_REQUIRE names
// it, so `go test ./...` alone runs the SQLite half and scripts/test runs everything.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx" for the admin connection

	"github.com/gatehousehq/gatehouse/internal/config"
)

// Engine names, as accepted by New and listed by Engines.
const (
	SQLite   = config.DBSQLite
	Postgres = config.DBPostgres
	MariaDB  = config.DBMariaDB
	Galera   = config.DBGalera
)

// Environment variables read by this package.
const (
	EnvPostgres  = "GATEHOUSE_TEST_POSTGRES"
	EnvMariaDB   = "GATEHOUSE_TEST_MARIADB"
	EnvGalera    = "GATEHOUSE_TEST_GALERA"
	EnvGaleraDir = "GATEHOUSE_TEST_GALERA_DIR"
	EnvRequire   = "GATEHOUSE_TEST_REQUIRE"
	// EnvGaleraKill=1 enables the destructive Galera tests (named TestGaleraNodeKill*), which
	// scripts/test runs in a step of their own, after the others, one package at a time.
	EnvGaleraKill = "GATEHOUSE_TEST_GALERA_KILL"
)

// Engine names a database engine available to tests.
type Engine struct{ Name string }

// adminTimeout bounds each administrative step (connect, CREATE/DROP DATABASE).
const adminTimeout = 60 * time.Second

var serverEngines = []struct{ name, env string }{
	{Postgres, EnvPostgres},
	{MariaDB, EnvMariaDB},
	{Galera, EnvGalera},
}

// required returns the engines named in GATEHOUSE_TEST_REQUIRE; an unknown name fails the test.
func required(t testing.TB) map[string]bool {
	t.Helper()
	req := map[string]bool{}
	for _, name := range strings.Split(os.Getenv(EnvRequire), ",") {
		name = strings.TrimSpace(name)
		switch name {
		case "":
		case SQLite, Postgres, MariaDB, Galera:
			req[name] = true
		default:
			t.Fatalf("testdb: %s names unknown engine %q (want sqlite, postgres, mariadb or galera)", EnvRequire, name)
		}
	}
	return req
}

// Engines returns every engine available to tests: sqlite always; postgres, mariadb and galera
// when GATEHOUSE_TEST_POSTGRES / _MARIADB / _GALERA are set. It logs each engine it skips, and
// fails the test when an engine listed in GATEHOUSE_TEST_REQUIRE is not configured.
func Engines(t testing.TB) []string {
	t.Helper()
	req := required(t)
	engines := []string{SQLite}
	for _, e := range serverEngines {
		if strings.TrimSpace(os.Getenv(e.env)) != "" {
			engines = append(engines, e.name)
			continue
		}
		if req[e.name] {
			t.Fatalf("testdb: engine %s is required (%s) but %s is not set: run the tests with scripts/test, or start the servers with scripts/dbs",
				e.name, EnvRequire, e.env)
		}
		t.Logf("testdb: skipping engine %s: %s is not set (scripts/test and scripts/dbs set it)", e.name, e.env)
	}
	return engines
}

// ForEach runs fn as a subtest per available engine (see Engines), each with its own fresh
// database from New.
func ForEach(t *testing.T, fn func(t *testing.T, db config.DB)) {
	t.Helper()
	for _, engine := range Engines(t) {
		t.Run(engine, func(t *testing.T) {
			fn(t, New(t, engine))
		})
	}
}

// New creates a fresh, empty database on the named engine for this test only and returns a
// config.DB pointing at it. The database is dropped in t.Cleanup (SQLite: the file lives in
// t.TempDir()). A server engine that is not configured skips the test, or fails it when
// GATEHOUSE_TEST_REQUIRE names the engine.
func New(t testing.TB, engine string) config.DB {
	t.Helper()
	db := config.DB{
		Type:            engine,
		User:            "root",
		PoolSize:        4,
		DiskSpindles:    1,
		AutoMigrate:     true,
		ConnectTimeout:  30 * time.Second,
		ConnMaxLifetime: 30 * time.Minute,
		ConnMaxIdleTime: 5 * time.Minute,
	}
	name := dbName(t)
	db.Name = name
	if engine == SQLite {
		db.User = ""
		db.Path = filepath.Join(t.TempDir(), name+".db")
		return db
	}

	hosts := serverHosts(t, engine)
	db.Hosts = hosts
	_, port, err := net.SplitHostPort(hosts[0])
	if err != nil {
		t.Fatalf("testdb: bad address %q: %v", hosts[0], err)
	}
	db.Port, err = strconv.Atoi(port)
	if err != nil {
		t.Fatalf("testdb: bad port in %q: %v", hosts[0], err)
	}

	var create, drop string
	switch engine {
	case Postgres:
		db.User = "postgres"
		create = `CREATE DATABASE "` + name + `" ENCODING 'UTF8' TEMPLATE template0`
		// FORCE ends connections a test left open, so the drop never waits on them.
		drop = `DROP DATABASE IF EXISTS "` + name + `" WITH (FORCE)`
	case MariaDB, Galera:
		create = "CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
		drop = "DROP DATABASE IF EXISTS `" + name + "`"
	}
	if err := adminExec(engine, hosts, create); err != nil {
		t.Fatalf("testdb: creating database %s on %s: %v", name, engine, err)
	}
	if engine == Galera {
		// The other nodes apply the CREATE a moment later: wait until every running node has it,
		// so that a pool connecting to any node finds the database.
		if err := galeraWaitSchema(hosts, name); err != nil {
			t.Fatalf("testdb: database %s not on every Galera node: %v", name, err)
		}
	}
	t.Cleanup(func() {
		if err := adminExec(engine, hosts, drop); err != nil {
			t.Errorf("testdb: dropping database %s on %s (a connection or transaction left open?): %v", name, engine, err)
		}
	})
	return db
}

// serverHosts returns the host:port list of a server engine, skipping or failing the test when
// it is not configured.
func serverHosts(t testing.TB, engine string) []string {
	t.Helper()
	var env string
	for _, e := range serverEngines {
		if e.name == engine {
			env = e.env
		}
	}
	if env == "" {
		t.Fatalf("testdb: unknown engine %q (want sqlite, postgres, mariadb or galera)", engine)
	}
	v := strings.TrimSpace(os.Getenv(env))
	if v == "" {
		if required(t)[engine] {
			t.Fatalf("testdb: engine %s is required (%s) but %s is not set", engine, EnvRequire, env)
		}
		t.Skipf("testdb: engine %s not configured: %s is not set", engine, env)
	}
	var hosts []string
	for _, h := range strings.Split(v, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 || (engine != Galera && len(hosts) != 1) {
		t.Fatalf("testdb: %s=%q: want %s", env, v, map[bool]string{true: "host:port[,host:port…]", false: "one host:port"}[engine == Galera])
	}
	return hosts
}

// dbName is gh_<sanitised test name>_<8 random hex digits>, at most 63 characters (PostgreSQL's
// identifier limit; MariaDB's is 64), made only of [a-z0-9_] so it never needs escaping.
func dbName(t testing.TB) string {
	var b strings.Builder
	underscore := true
	for _, r := range strings.ToLower(t.Name()) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			underscore = false
		} else if !underscore {
			b.WriteByte('_')
			underscore = true
		}
	}
	mid := strings.Trim(b.String(), "_")
	const maxMid = 63 - len("gh_") - len("_") - 8
	if len(mid) > maxMid {
		mid = strings.TrimRight(mid[:maxMid], "_")
	}
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatalf("testdb: random: %v", err)
	}
	if mid == "" {
		return "gh_" + hex.EncodeToString(rnd[:])
	}
	return "gh_" + mid + "_" + hex.EncodeToString(rnd[:])
}

// adminDSN returns the driver name and DSN of an administrative connection to one server.
func adminDSN(engine, addr, dbname string) (driver, dsn string) {
	if engine == Postgres {
		if dbname == "" {
			dbname = "postgres"
		}
		return "pgx", "postgres://postgres@" + addr + "/" + dbname + "?sslmode=disable&connect_timeout=10"
	}
	c := mysql.NewConfig()
	c.User = "root"
	c.Net = "tcp"
	c.Addr = addr
	c.DBName = dbname
	c.Timeout = 10 * time.Second
	c.ParseTime = true
	// DROP DATABASE must not wait a year for a metadata lock a leaked transaction holds.
	c.Params = map[string]string{"lock_wait_timeout": "30"}
	return "mysql", c.FormatDSN()
}

// adminOpen opens an administrative connection to the first host that answers (a Galera test
// may have stopped a node).
func adminOpen(ctx context.Context, engine string, hosts []string) (*sql.DB, error) {
	var errs []error
	for _, h := range hosts {
		driver, dsn := adminDSN(engine, h, "")
		db, err := sql.Open(driver, dsn)
		if err == nil {
			db.SetMaxOpenConns(1)
			if err = db.PingContext(ctx); err == nil {
				return db, nil
			}
			_ = db.Close()
		}
		errs = append(errs, fmt.Errorf("%s: %w", h, err))
	}
	return nil, errors.Join(errs...)
}

func adminExec(engine string, hosts []string, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	db, err := adminOpen(ctx, engine, hosts)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// SkipUnlessGaleraKill skips a destructive Galera test (one that kills a node of the shared
// cluster) unless GATEHOUSE_TEST_GALERA_KILL=1. Name such tests TestGaleraNodeKill*: that is
// the pattern scripts/test runs with the variable set, once no other test uses the cluster.
func SkipUnlessGaleraKill(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvGaleraKill) != "1" {
		t.Skipf("destructive Galera test: runs only with %s=1 (scripts/test sets it in a step of its own)", EnvGaleraKill)
	}
}

// galeraWaitSchema waits until every node that accepts connections has database name.
func galeraWaitSchema(hosts []string, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	for _, h := range hosts {
		driver, dsn := adminDSN(Galera, h, "")
		db, err := sql.Open(driver, dsn)
		if err != nil {
			return err
		}
		db.SetMaxOpenConns(1)
		if db.PingContext(ctx) != nil {
			_ = db.Close() // a node a test has stopped: it gets the database by state transfer
			continue
		}
		for {
			var n int
			err = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", name).Scan(&n)
			if err == nil && n > 0 {
				break
			}
			if ctx.Err() != nil {
				_ = db.Close()
				return fmt.Errorf("%s: %w (last error: %w)", h, ctx.Err(), err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		_ = db.Close()
	}
	return nil
}

// GaleraNode is one node of the test Galera cluster started by scripts/test or scripts/dbs.
type GaleraNode struct {
	Addr        string // host:port of its SQL server
	Dir         string // GATEHOUSE_TEST_GALERA_DIR/nodeN
	PIDFile     string // Dir/pid: pid of the node's mariadbd (rewritten by every start)
	StartScript string // Dir/start: starts the node into the running cluster and waits until Synced
}

// GaleraNodes returns the nodes of the test Galera cluster, in GATEHOUSE_TEST_GALERA order. It
// skips the test when the cluster is not configured (fails it when GATEHOUSE_TEST_REQUIRE names
// galera). At cleanup it restarts any node the test left stopped, so that later tests get the
// whole cluster back.
func GaleraNodes(t testing.TB) []GaleraNode {
	t.Helper()
	hosts := serverHosts(t, Galera)
	dir := strings.TrimSpace(os.Getenv(EnvGaleraDir))
	if dir == "" {
		if required(t)[Galera] {
			t.Fatalf("testdb: engine galera is required (%s) but %s is not set", EnvRequire, EnvGaleraDir)
		}
		t.Skipf("testdb: %s is not set", EnvGaleraDir)
	}
	nodes := make([]GaleraNode, len(hosts))
	for i, h := range hosts {
		d := filepath.Join(dir, fmt.Sprintf("node%d", i+1))
		nodes[i] = GaleraNode{Addr: h, Dir: d, PIDFile: filepath.Join(d, "pid"), StartScript: filepath.Join(d, "start")}
		if _, err := os.Stat(nodes[i].StartScript); err != nil {
			t.Fatalf("testdb: galera node %d: %v", i+1, err)
		}
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			if !n.Running() {
				t.Logf("testdb: restarting galera node %s left stopped by the test", n.Addr)
				if err := n.start(); err != nil {
					t.Errorf("testdb: restarting galera node %s: %v", n.Addr, err)
				}
			}
		}
	})
	return nodes
}

// PID returns the pid recorded in the node's pid file.
func (n GaleraNode) PID() (int, error) {
	b, err := os.ReadFile(n.PIDFile)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("pid file %s: %w", n.PIDFile, err)
	}
	return pid, nil
}

// Running reports whether the node's mariadbd process exists (a zombie does not count: PID 1 on
// the test machines reaps orphans late).
func (n GaleraNode) Running() bool {
	pid, err := n.PID()
	return err == nil && processAlive(pid)
}

// Kill sends SIGKILL to the node's mariadbd and waits until the process is gone.
func (n GaleraNode) Kill(t testing.TB) {
	t.Helper()
	pid, err := n.PID()
	if err != nil {
		t.Fatalf("testdb: galera node %s: %v", n.Addr, err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("testdb: killing galera node %s (pid %d): %v", n.Addr, pid, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("testdb: galera node %s (pid %d) still running 30s after SIGKILL", n.Addr, pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Start runs the node's start script: the node rejoins the running cluster (state transfer by
// rsync SST or IST) and Start returns once it is wsrep_ready=ON and Synced.
func (n GaleraNode) Start(t testing.TB) {
	t.Helper()
	if err := n.start(); err != nil {
		t.Fatalf("testdb: starting galera node %s: %v", n.Addr, err)
	}
}

func (n GaleraNode) start() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.StartScript) //nolint:gosec // G204: the script scripts/test wrote for this node.
	cmd.Env = append(os.Environ(), "GALERA_START_TIMEOUT=240")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", n.StartScript, err, out)
	}
	return nil
}

// processAlive reports whether pid exists and is not a zombie. A zombie main thread whose other
// threads are still exiting (a killed mariadbd) counts as alive: it still holds its ports.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the last ')' (the command name may contain parentheses).
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	if state := s[i+2]; state != 'Z' && state != 'X' {
		return true
	}
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	return err == nil && len(tasks) > 1
}
