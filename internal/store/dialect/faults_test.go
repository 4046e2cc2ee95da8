package dialect_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehousehq/gatehouse/internal/store/dialect"
)

// The errors of a server that restarts, shuts down or leaves a Galera cluster are "server gone"
// (503 and, where safe, a retry); errors about the request itself are not.
func TestServerGoneClassification(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("store.UserByID(7): %w", err) }
	cases := []struct {
		name string
		err  error
		gone bool
	}{
		{"pg 57P01 admin shutdown", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, true},
		{"pg 57P02 crash shutdown", &pgconn.PgError{Code: "57P02"}, true},
		{"pg 57P03 cannot connect now", &pgconn.PgError{Code: "57P03", Message: "the database system is starting up"}, true},
		{"pg 08006 connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"pg 08P01 protocol violation", &pgconn.PgError{Code: "08P01"}, true},
		{"pg 57P01 wrapped", wrap(&pgconn.PgError{Code: "57P01"}), true},
		{"pg conn closed", wrap(pgconn.ErrConnClosed), true},
		{"mysql 1053 shutdown", &mysql.MySQLError{Number: 1053, Message: "Server shutdown in progress"}, true},
		{"mysql 1927 connection killed", &mysql.MySQLError{Number: 1927}, true},
		{"mysql 1047 wsrep not ready", &mysql.MySQLError{Number: 1047, Message: "WSREP has not yet prepared node for application use"}, true},
		{"mysql 2006 gone away", &mysql.MySQLError{Number: 2006}, true},
		{"mysql 2013 lost", &mysql.MySQLError{Number: 2013}, true},
		{"mysql invalid conn", wrap(mysql.ErrInvalidConn), true},
		{"driver bad conn", wrap(driver.ErrBadConn), true},
		{"io EOF", wrap(io.EOF), true},
		{"unexpected EOF", wrap(io.ErrUnexpectedEOF), true},
		{"connection refused", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), true},
		{"connection reset", wrap(os.NewSyscallError("read", syscall.ECONNRESET)), true},
		{"broken pipe", wrap(os.NewSyscallError("write", syscall.EPIPE)), true},
		{"broken pipe as text", errors.New("write tcp 127.0.0.1:1->127.0.0.1:2: write: broken pipe"), true},

		{"pg unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"pg syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"pg auth failed", &pgconn.PgError{Code: "28P01"}, false},
		{"pg unknown database", &pgconn.PgError{Code: "3D000"}, false},
		{"pg serialization failure", &pgconn.PgError{Code: "40001"}, false},
		{"mysql duplicate", &mysql.MySQLError{Number: 1062}, false},
		{"mysql syntax", &mysql.MySQLError{Number: 1064}, false},
		{"mysql access denied", &mysql.MySQLError{Number: 1045}, false},
		{"mysql unknown database", &mysql.MySQLError{Number: 1049}, false},
		{"no rows", errors.New("sql: no rows in result set"), false},
		{"plain", errors.New("something else"), false},
		{"nil", nil, false},
	}
	for _, c := range cases {
		if got := dialect.IsServerGone(c.err); got != c.gone {
			t.Errorf("%s: IsServerGone(%v) = %v, want %v", c.name, c.err, got, c.gone)
		}
		if got := dialect.IsConnectionError(c.err); got != c.gone {
			t.Errorf("%s: IsConnectionError = %v, want %v", c.name, got, c.gone)
		}
	}
}

// The real errors of a PostgreSQL server that ends the session and of a port nobody listens on
// are classified as the server being gone. PostgreSQL runs when GATEHOUSE_TEST_POSTGRES is set.
func TestServerGoneRealErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A port that refuses connections.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	_, err = pgx.Connect(ctx, "postgres://x@"+addr+"/x?connect_timeout=5&sslmode=disable")
	if err == nil || !dialect.IsServerGone(err) {
		t.Errorf("pg connect to a closed port: %v not classified as server gone", err)
	}
	mc := mysql.NewConfig()
	mc.Net, mc.Addr, mc.User, mc.Timeout = "tcp", addr, "x", 5*time.Second
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := conn.Connect(ctx); err == nil || !dialect.IsServerGone(err) {
		if c != nil {
			_ = c.Close()
		}
		t.Errorf("mysql connect to a closed port: %v not classified as server gone", err)
	}

	pgAddr := os.Getenv("GATEHOUSE_TEST_POSTGRES")
	if pgAddr == "" {
		t.Log("GATEHOUSE_TEST_POSTGRES not set: the 57P01 case runs in TestStoreSurvivesKilledSessions only")
		return
	}
	pc, err := pgx.Connect(ctx, "postgres://postgres@"+pgAddr+"/postgres?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pc.Close(context.Background()) }()
	_, err = pc.Exec(ctx, "SELECT pg_terminate_backend(pg_backend_pid())")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57P01" {
		t.Fatalf("terminating own backend: got %v, want SQLSTATE 57P01", err)
	}
	if !dialect.IsServerGone(err) {
		t.Errorf("57P01 from a real server not classified as server gone: %v", err)
	}
	_, err = pc.Exec(ctx, "SELECT 1")
	if err == nil || !dialect.IsServerGone(err) {
		t.Errorf("query on the closed connection: %v not classified as server gone", err)
	}
}
