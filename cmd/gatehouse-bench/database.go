package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx" for creating and dropping the bench database

	"github.com/gatehousehq/gatehouse/internal/config"
)

// benchDB is where the run's data lives: the server's DB_* environment, a description for the
// report, and what to do at the end.
type benchDB struct {
	env      map[string]string
	describe string
	cleanup  func()
}

// Server addresses of the throwaway database servers started by scripts/lib/databases.sh (the
// same variables the tests read).
var serverEnv = map[string]string{config.DBPostgres: "GATEHOUSE_TEST_POSTGRES", config.DBMariaDB: "GATEHOUSE_TEST_MARIADB"}

// prepareDatabase gives the run an empty database:
//   - sqlite: a file in -dir or a temporary directory (removed at the end unless -dir was given);
//   - postgres, mariadb with -db-url: that database, as it is (it should be a dedicated, empty
//     one: the run migrates it and leaves the seeded data behind);
//   - postgres, mariadb otherwise: a new database gatehouse_bench_<random> created with the
//     administrator account (postgres / root, no password) of the server named by
//     GATEHOUSE_TEST_POSTGRES or GATEHOUSE_TEST_MARIADB, dropped at the end.
func prepareDatabase(ctx context.Context, o options) (*benchDB, error) {
	switch o.engine {
	case config.DBSQLite:
		if o.dbURL != "" {
			return nil, fmt.Errorf("-db-url is for postgres and mariadb; sqlite uses -dir")
		}
		dir, cleanup := o.workDir, func() {}
		if dir == "" {
			d, err := os.MkdirTemp("", "gatehouse-bench-")
			if err != nil {
				return nil, err
			}
			dir, cleanup = d, func() { _ = os.RemoveAll(d) }
		}
		path := filepath.Join(dir, "bench.db")
		for _, f := range []string{path, path + "-wal", path + "-shm"} {
			_ = os.Remove(f)
		}
		return &benchDB{env: map[string]string{"DB_PATH": path}, describe: path, cleanup: cleanup}, nil
	case config.DBPostgres, config.DBMariaDB:
		if o.dbURL != "" {
			return fromURL(o.engine, o.dbURL)
		}
		return freshDatabase(ctx, o.engine)
	}
	return nil, fmt.Errorf("engine %q: want sqlite, postgres or mariadb", o.engine)
}

func fromURL(engine, raw string) (*benchDB, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("-db-url: %w", err)
	}
	want := map[string][]string{config.DBPostgres: {"postgres", "postgresql"}, config.DBMariaDB: {"mariadb", "mysql"}}[engine]
	if !strings.EqualFold(u.Scheme, want[0]) && !strings.EqualFold(u.Scheme, want[1]) {
		return nil, fmt.Errorf("-db-url: scheme %q does not match -engine %s (want %s://)", u.Scheme, engine, want[0])
	}
	name := strings.TrimPrefix(u.Path, "/")
	if u.Host == "" || name == "" || u.User == nil {
		return nil, fmt.Errorf("-db-url: want %s://user[:password]@host:port/database", want[0])
	}
	pass, _ := u.User.Password()
	env := map[string]string{"DB_TYPE": engine, "DB_HOST": u.Host, "DB_NAME": name, "DB_USER": u.User.Username(), "DB_PASS": pass}
	return &benchDB{env: env, describe: fmt.Sprintf("%s database %s on %s (-db-url)", engine, name, u.Host), cleanup: func() {}}, nil
}

func freshDatabase(ctx context.Context, engine string) (*benchDB, error) {
	addr := os.Getenv(serverEnv[engine])
	if addr == "" {
		return nil, fmt.Errorf("-engine %s needs %s=host:port (scripts/bench starts a server when it is unset) or -db-url", engine, serverEnv[engine])
	}
	name := "gatehouse_bench_" + strings.ToLower(rand.Text()[:10])
	driver, dsn, user := "pgx", "postgres://postgres@"+addr+"/postgres?sslmode=disable", "postgres"
	if engine == config.DBMariaDB {
		mc := mysql.NewConfig()
		mc.User, mc.Net, mc.Addr = "root", "tcp", addr
		driver, dsn, user = "mysql", mc.FormatDSN(), "root"
	}
	admin := func(stmt string) error {
		c, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		db, err := sql.Open(driver, dsn)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(c, stmt)
		return err
	}
	if err := admin("CREATE DATABASE " + name); err != nil {
		return nil, fmt.Errorf("create the bench database on %s (%s): %w", addr, serverEnv[engine], err)
	}
	env := map[string]string{"DB_TYPE": engine, "DB_HOST": addr, "DB_NAME": name, "DB_USER": user, "DB_PASS": ""}
	return &benchDB{env: env, describe: fmt.Sprintf("%s database %s on %s (%s)", engine, name, addr, serverEnv[engine]),
		cleanup: func() {
			if err := admin("DROP DATABASE " + name); err != nil {
				fmt.Fprintf(os.Stderr, "drop the bench database %s: %v\n", name, err)
			}
		}}, nil
}
