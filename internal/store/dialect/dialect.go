// Package dialect holds the real differences between the database engines Gatehouse runs on:
// how to reach them, which query dialect and migration dialect they use, and how their errors
// are told apart. Everything else is one code path in package store.
package dialect

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/uptrace/bun/dialect/mysqldialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/schema"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/gatehousehq/gatehouse/internal/config"
)

// Dialect describes one engine family.
type Dialect interface {
	// Family is "postgres", "mysql" or "sqlite": the migration directory it uses.
	Family() string
	// Bun returns the query-builder dialect.
	Bun() schema.Dialect
	// Goose returns the migration dialect.
	Goose() goose.Dialect
	// Connector returns a connector to the configured database.
	Connector(cfg config.DB) (driver.Connector, error)
	// IsUniqueViolation reports a duplicate-key error.
	IsUniqueViolation(err error) bool
	// IsRetryable reports an error after which the whole transaction may safely run again: it
	// is known not to have committed (deadlock, serialization failure, certification conflict,
	// a lost connection before COMMIT was sent, a node that is not ready).
	IsRetryable(err error) bool
}

// For returns the dialect of cfg.Type.
func For(cfg config.DB) (Dialect, error) {
	switch cfg.Family() {
	case "postgres":
		return postgresDialect{}, nil
	case "mysql":
		return mysqlDialect{galera: cfg.Type == config.DBGalera}, nil
	case "sqlite":
		return sqliteDialect{}, nil
	}
	return nil, fmt.Errorf("dialect: unknown database type %q", cfg.Type)
}

// IsConnectionError reports errors that mean the server could not be reached or the
// connection broke, on any engine.
func IsConnectionError(err error) bool { return IsServerGone(err) }

type postgresDialect struct{}

func (postgresDialect) Family() string       { return "postgres" }
func (postgresDialect) Bun() schema.Dialect  { return pgdialect.New() }
func (postgresDialect) Goose() goose.Dialect { return goose.DialectPostgres }

func (postgresDialect) Connector(cfg config.DB) (driver.Connector, error) {
	u := url.URL{
		Scheme: "postgres",
		User:   url.UserPassword(cfg.User, cfg.Pass),
		Host:   cfg.Hosts[0],
		Path:   "/" + cfg.Name,
	}
	q := url.Values{}
	q.Set("sslmode", "prefer")
	q.Set("connect_timeout", "5")
	q.Set("application_name", "gatehouse")
	q.Set("timezone", "UTC")
	u.RawQuery = q.Encode()
	pc, err := pgxConfig(u.String())
	if err != nil {
		return nil, err
	}
	return stdlib.GetConnector(*pc), nil
}

func (postgresDialect) IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func (postgresDialect) IsRetryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// serialization_failure, deadlock_detected, and the "cannot connect now" family.
		return pe.Code == "40001" || pe.Code == "40P01" || pe.Code == "57P03"
	}
	return errors.Is(err, driver.ErrBadConn)
}

type mysqlDialect struct{ galera bool }

func (mysqlDialect) Family() string       { return "mysql" }
func (mysqlDialect) Bun() schema.Dialect  { return mysqldialect.New() }
func (mysqlDialect) Goose() goose.Dialect { return goose.DialectMySQL }

// MySQLConfig returns the driver configuration for one host. Every engine of the family gets
// the same session settings: UTC, utf8mb4, strict mode, and (on Galera) causal reads, so that a
// read sees every write acknowledged by any node before it.
func MySQLConfig(cfg config.DB, host string, galera bool) *mysql.Config {
	mc := mysql.NewConfig()
	mc.User = cfg.User
	mc.Passwd = cfg.Pass
	mc.Net = "tcp"
	mc.Addr = host
	mc.DBName = cfg.Name
	mc.ParseTime = true
	// Rows "affected" means rows matched, as on the other engines, so that an update that
	// changes nothing is not mistaken for a missing row.
	mc.ClientFoundRows = true
	mc.Loc = time.UTC
	mc.Collation = "utf8mb4_unicode_ci"
	mc.Timeout = 5 * time.Second
	mc.ReadTimeout = 60 * time.Second
	mc.WriteTimeout = 60 * time.Second
	mc.Params = map[string]string{
		"time_zone": "'+00:00'",
		// Strict mode turns silent truncation into errors. NO_BACKSLASH_ESCAPES must stay off:
		// the query builder escapes backslashes in string literals.
		"sql_mode": "'STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
	}
	if galera {
		mc.Params["wsrep_sync_wait"] = "1"
	}
	return mc
}

func (d mysqlDialect) Connector(cfg config.DB) (driver.Connector, error) {
	if d.galera {
		return newGaleraConnector(cfg)
	}
	return mysql.NewConnector(MySQLConfig(cfg, cfg.Hosts[0], false))
}

func (mysqlDialect) IsUniqueViolation(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1062
}

func (mysqlDialect) IsRetryable(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1213, // ER_LOCK_DEADLOCK: deadlock, or a Galera certification conflict
			1205, // ER_LOCK_WAIT_TIMEOUT
			1047, // ER_UNKNOWN_COM_ERROR: "WSREP has not yet prepared node for application use"
			1180: // ER_ERROR_DURING_COMMIT: Galera aborts a commit it could not replicate
			return true
		}
		return false
	}
	return errors.Is(err, driver.ErrBadConn)
}

type sqliteDialect struct{}

var sqlitePathEscaper = strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23")

func (sqliteDialect) Family() string       { return "sqlite" }
func (sqliteDialect) Bun() schema.Dialect  { return sqlitedialect.New() }
func (sqliteDialect) Goose() goose.Dialect { return goose.DialectSQLite3 }

// SQLiteDSN returns the data source name for path. Pragmas go in the DSN so that every pooled
// connection gets them (an Exec would reach only one connection). _txlock=immediate takes the
// write lock at BEGIN, so concurrent writers wait on busy_timeout instead of failing on upgrade.
//
// The path is a URI path to SQLite: '%', '?' and '#' are escaped so that a path holding them
// (a Go subtest's temp dir is named like "TestX/sqlite#01") names that file and not a truncated
// one: the driver splits the DSN at the first '?', and SQLite ends the path at '#'.
func SQLiteDSN(path string) string {
	return "file:" + sqlitePathEscaper.Replace(filepath.ToSlash(path)) + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate&_time_format=sqlite"
}

func (sqliteDialect) Connector(cfg config.DB) (driver.Connector, error) {
	return dsnConnector{dsn: SQLiteDSN(cfg.Path), drv: &sqlite.Driver{}}, nil
}

func (sqliteDialect) IsUniqueViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

func (sqliteDialect) IsRetryable(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	return false
}

// dsnConnector adapts a driver and DSN to driver.Connector.
type dsnConnector struct {
	dsn string
	drv driver.Driver
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.drv }
