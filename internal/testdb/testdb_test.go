package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // driver "sqlite"

	"github.com/gatehousehq/gatehouse/internal/config"
)

// open connects to the database New made, as the application would (user and name from db).
func open(t *testing.T, db config.DB, host string) *sql.DB {
	t.Helper()
	var (
		conn *sql.DB
		err  error
	)
	switch db.Type {
	case SQLite:
		conn, err = sql.Open("sqlite", "file:"+db.Path)
	default:
		driver, dsn := adminDSN(db.Type, host, db.Name)
		conn, err = sql.Open(driver, dsn)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// exists reports whether database name exists on host.
func exists(t *testing.T, engine, host, name string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	driver, dsn := adminDSN(engine, host, "")
	conn, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	q := "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?"
	if engine == Postgres {
		q = "SELECT COUNT(*) FROM pg_database WHERE datname = $1"
	}
	var n int
	if err := conn.QueryRowContext(ctx, q, name).Scan(&n); err != nil {
		t.Fatalf("%s on %s: %v", q, host, err)
	}
	return n > 0
}

func TestNewOnEveryEngine(t *testing.T) {
	for _, engine := range Engines(t) {
		t.Run(engine, func(t *testing.T) {
			var db config.DB
			t.Run("new", func(t *testing.T) {
				db = New(t, engine)
				if db.Type != engine || db.Name == "" || db.PoolSize != 4 || !db.AutoMigrate ||
					db.ConnectTimeout != 30*time.Second || db.DiskSpindles != 1 {
					t.Fatalf("unexpected config %+v", db)
				}
				if len(db.Name) > 63 || !strings.HasPrefix(db.Name, "gh_") {
					t.Fatalf("bad database name %q", db.Name)
				}
				hosts := db.Hosts
				if engine == SQLite {
					if filepath.Dir(db.Path) == "." {
						t.Fatalf("sqlite path %q not in a temp dir", db.Path)
					}
					hosts = []string{""}
				} else if len(hosts) == 0 || db.Port == 0 {
					t.Fatalf("no hosts/port in %+v", db)
				}
				if engine == Galera && len(hosts) != 3 {
					t.Fatalf("galera hosts %v, want 3", hosts)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				// Every node of a cluster serves the new database, and it is empty.
				conns := make([]*sql.DB, len(hosts))
				for i, h := range hosts {
					conns[i] = open(t, db, h)
					if err := conns[i].PingContext(ctx); err != nil {
						t.Fatalf("ping %s %s: %v", engine, h, err)
					}
					if engine == SQLite {
						continue
					}
					q := "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
					if engine == Postgres {
						q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'"
					}
					var n int
					if err := conns[i].QueryRowContext(ctx, q).Scan(&n); err != nil {
						t.Fatalf("%s on %s: %v", q, h, err)
					}
					if n != 0 {
						t.Fatalf("fresh database %s on %s has %d tables", db.Name, h, n)
					}
				}
				// Writable on every node, and utf8mb4 on the MySQL family. (On Galera another
				// node applies a write a little later: each node gets its own table here.)
				for i, h := range hosts {
					if engine == SQLite {
						break
					}
					table := fmt.Sprintf("t%d", i)
					if _, err := conns[i].ExecContext(ctx, "CREATE TABLE "+table+" (s VARCHAR(10))"); err != nil {
						t.Fatal(err)
					}
					ins := "INSERT INTO " + table + " (s) VALUES (?)"
					if engine == Postgres {
						ins = "INSERT INTO " + table + " (s) VALUES ($1)"
					}
					if _, err := conns[i].ExecContext(ctx, ins, "🔑é"); err != nil {
						t.Fatalf("insert 4-byte utf-8 on %s: %v", h, err)
					}
					var s string
					if err := conns[i].QueryRowContext(ctx, "SELECT s FROM "+table).Scan(&s); err != nil || s != "🔑é" {
						t.Fatalf("round trip on %s: %q, %v", h, s, err)
					}
				}
				for _, c := range conns {
					_ = c.Close()
				}
				if engine != SQLite && !exists(t, engine, hosts[0], db.Name) {
					t.Fatalf("database %s not found after New", db.Name)
				}
			})
			// The subtest is over: its cleanup dropped the database.
			if t.Failed() {
				return
			}
			switch engine {
			case SQLite:
				if _, err := os.Stat(db.Path); !os.IsNotExist(err) {
					t.Fatalf("sqlite file %s still there after cleanup (%v)", db.Path, err)
				}
			default:
				// Galera applies the DROP on the other nodes after it returns on the one that ran
				// it (replication is asynchronous), so the other nodes get a moment to catch up.
				for _, h := range db.Hosts {
					deadline := time.Now().Add(10 * time.Second)
					for exists(t, engine, h, db.Name) {
						if time.Now().After(deadline) {
							t.Fatalf("database %s still on %s 10 s after cleanup", db.Name, h)
						}
						time.Sleep(50 * time.Millisecond)
					}
				}
			}
		})
	}
}

func TestForEachGivesEachEngineItsOwnDatabase(t *testing.T) {
	seen := map[string]bool{}
	ForEach(t, func(t *testing.T, db config.DB) {
		if seen[db.Name] {
			t.Fatalf("database name %s reused", db.Name)
		}
		seen[db.Name] = true
	})
	if len(seen) != len(Engines(t)) {
		t.Fatalf("ForEach ran %d engines, Engines lists %d", len(seen), len(Engines(t)))
	}
}

func TestDBName(t *testing.T) {
	t.Run(strings.Repeat("Very Long/Name-With*Symbols ", 5), func(t *testing.T) {
		a, b := dbName(t), dbName(t)
		if a == b {
			t.Fatalf("two names alike: %s", a)
		}
		if len(a) > 63 || !strings.HasPrefix(a, "gh_testdbname_very_long_name_with_symbols_") {
			t.Fatalf("bad name %q (%d chars)", a, len(a))
		}
		for _, r := range a {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
				t.Fatalf("bad character %q in %q", r, a)
			}
		}
	})
}

func TestRequire(t *testing.T) {
	t.Setenv(EnvRequire, "sqlite")
	if got := Engines(t); len(got) == 0 || got[0] != SQLite {
		t.Fatalf("Engines = %v, want sqlite first", got)
	}
}

// TestGaleraNodeKillAndRestart checks the cluster hooks failure tests rely on: SIGKILL a node,
// write through the others, restart the node with its start script, and read the write there.
// Destructive: scripts/test runs it (GATEHOUSE_TEST_GALERA_KILL=1) when no other test runs.
func TestGaleraNodeKillAndRestart(t *testing.T) {
	SkipUnlessGaleraKill(t)
	nodes := GaleraNodes(t)
	if len(nodes) != 3 {
		t.Fatalf("%d galera nodes, want 3", len(nodes))
	}
	db := New(t, Galera)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	victim := nodes[2]
	if !victim.Running() {
		t.Fatalf("node %s not running before the test", victim.Addr)
	}
	start := time.Now()
	victim.Kill(t)
	if victim.Running() {
		t.Fatal("node still running after Kill")
	}
	t.Logf("killed %s in %v", victim.Addr, time.Since(start))

	w := open(t, db, nodes[0].Addr)
	start = time.Now()
	if _, err := w.ExecContext(ctx, "CREATE TABLE k (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20))"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ExecContext(ctx, "INSERT INTO k (v) VALUES ('while down')"); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote with one node down in %v", time.Since(start))

	start = time.Now()
	victim.Start(t)
	t.Logf("restarted %s (Synced) in %v", victim.Addr, time.Since(start))
	if !victim.Running() {
		t.Fatal("node not running after Start")
	}
	var v string
	if err := open(t, db, victim.Addr).QueryRowContext(ctx, "SELECT v FROM k").Scan(&v); err != nil || v != "while down" {
		t.Fatalf("read on the restarted node: %q, %v", v, err)
	}
	var size string
	if err := w.QueryRowContext(ctx, "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'WSREP_CLUSTER_SIZE'").Scan(&size); err != nil || size != "3" {
		t.Fatalf("cluster size %q, %v; want 3", size, err)
	}
}
