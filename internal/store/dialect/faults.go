package dialect

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

// This file classifies the errors a database server gives while it restarts, fails over or
// leaves a Galera cluster: the connection was closed, refused or reset, or the server said it is
// shutting down, starting up or not ready. Such an error means "unavailable for now" (503 with
// Retry-After), never "internal" (500), and the operation that met it is run again on a fresh
// connection when that is known to be safe (see package store: a read, or a transaction that
// had not sent COMMIT).
//
// Kept apart from the start-up classification of permanent errors (authentication failed,
// unknown database): those must not be retried at all.

// IsServerGone reports an error after which the connection it happened on is useless and the
// server was (or is about to be) unreachable: it went away, restarts, shuts down, or is a
// Galera node that cannot serve. Errors the server gives for the request itself (a syntax
// error, a constraint, a permission) are not such errors.
func IsServerGone(err error) bool {
	if err == nil {
		return false
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pgServerGone(pe.Code)
	}
	if me, ok := errors.AsType[*mysql.MySQLError](err); ok {
		return mysqlServerGone(me.Number)
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) ||
		errors.Is(err, pgconn.ErrConnClosed) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	// Some drivers flatten the cause into text.
	msg := err.Error()
	for _, s := range []string{"broken pipe", "connection reset by peer", "connection refused", "unexpected EOF"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// pgServerGone: the SQLSTATEs of a server that ended or refused the session.
func pgServerGone(code string) bool {
	switch code {
	case "57P01", // admin_shutdown: "terminating connection due to administrator command" (restart, pg_terminate_backend)
		"57P02", // crash_shutdown: another backend crashed, the server resets
		"57P03", // cannot_connect_now: starting up, shutting down, in recovery
		"57P05": // idle_session_timeout
		return true
	}
	// Class 08: connection exception (connection_failure, …does_not_exist, …).
	return strings.HasPrefix(code, "08")
}

// mysqlServerGone: the error numbers of a MySQL/MariaDB server that went away or cannot serve.
func mysqlServerGone(n uint16) bool {
	switch n {
	case 1053, // ER_SERVER_SHUTDOWN: "Server shutdown in progress"
		1927, // ER_CONNECTION_KILLED: "Connection was killed" (shutdown, KILL)
		1047, // ER_UNKNOWN_COM_ERROR: "WSREP has not yet prepared node for application use"
		2002, // CR_CONNECTION_ERROR (from proxies speaking the client's codes)
		2003, // CR_CONN_HOST_ERROR
		2006, // CR_SERVER_GONE_ERROR: "MySQL server has gone away"
		2013: // CR_SERVER_LOST: "Lost connection to MySQL server during query"
		return true
	}
	return false
}

// CommitNotSent reports a COMMIT that failed before anything reached the server (the driver
// knew the connection was dead): the transaction did not commit and may run again. Any other
// connection failure at COMMIT leaves the outcome unknown.
func CommitNotSent(err error) bool {
	return errors.Is(err, driver.ErrBadConn) || pgconn.SafeToRetry(err)
}

// IsDatabaseGone reports an error that says the database itself is no longer usable by this
// instance, as opposed to a server that is restarting (IsServerGone) or a request at fault: the
// pool was closed, the database was dropped (PostgreSQL 3D000, MySQL 1049), or a table of the
// schema is missing (PostgreSQL 42P01, MySQL 1146, SQLite "no such table"). The last counts as
// gone because start-up refuses to serve until every migration is applied and migrations only
// add tables: a table missing at run time means the database was dropped or replaced under the
// running instance (a new empty SQLite file at the path), not a bad request nor a query bug
// that the tests on every engine would have caught. Such errors are not retried (they do not
// pass in a second), but they are 503 unavailable like a restart: the service cannot serve, and
// /readyz says so.
func IsDatabaseGone(err error) bool {
	if err == nil {
		return false
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code == "3D000" || pe.Code == "42P01" // invalid_catalog_name, undefined_table
	}
	if me, ok := errors.AsType[*mysql.MySQLError](err); ok {
		return me.Number == 1049 || me.Number == 1146 // ER_BAD_DB_ERROR, ER_NO_SUCH_TABLE
	}
	msg := err.Error()
	// database/sql's error for a closed *sql.DB is unexported; its text is fixed.
	for _, s := range []string{"sql: database is closed", "no such table: ", "unable to open database file"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
