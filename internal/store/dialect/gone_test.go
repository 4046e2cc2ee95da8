package dialect_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehousehq/gatehouse/internal/store/dialect"
)

// A database that is gone (pool closed, database dropped, schema missing) is told apart from a
// request's own errors; neither is a restart to retry.
func TestDatabaseGoneClassification(t *testing.T) {
	for _, tc := range []struct {
		err  error
		gone bool
	}{
		{errors.New("sql: database is closed"), true},
		{fmt.Errorf("user by email: %w", &pgconn.PgError{Code: "3D000", Message: `database "g" does not exist`}), true},
		{&pgconn.PgError{Code: "42P01", Message: `relation "users" does not exist`}, true},
		{&mysql.MySQLError{Number: 1049, Message: "Unknown database 'g'"}, true},
		{&mysql.MySQLError{Number: 1146, Message: "Table 'g.users' doesn't exist"}, true},
		{errors.New("SQL logic error: no such table: users (1)"), true},
		{errors.New("unable to open database file: no such file or directory"), true},
		{&pgconn.PgError{Code: "23505"}, false}, // unique violation: the request's
		{&pgconn.PgError{Code: "42601"}, false}, // syntax error: a bug
		{&mysql.MySQLError{Number: 1062}, false},
		{errors.New("sql: no rows in result set"), false},
		{nil, false},
	} {
		if got := dialect.IsDatabaseGone(tc.err); got != tc.gone {
			t.Errorf("IsDatabaseGone(%v) = %v, want %v", tc.err, got, tc.gone)
		}
		if tc.gone && dialect.IsServerGone(tc.err) {
			t.Errorf("IsServerGone(%v) = true: a gone database must not be retried as a restart", tc.err)
		}
	}
}
