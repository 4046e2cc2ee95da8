package dialect

import (
	"errors"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

// IsPermanent reports connection errors that waiting will not cure: the server answered and
// refused the credentials or the database name. Start-up stops at once on these instead of
// retrying until DB_CONNECT_TIMEOUT, so a typo in DB_USER, DB_PASS or DB_NAME is reported in
// a second, not a minute.
func IsPermanent(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "28P01", // invalid_password
			"28000", // invalid_authorization_specification: unknown role, pg_hba.conf rejection
			"3D000": // invalid_catalog_name: the database does not exist
			return true
		}
		return false
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1045, // ER_ACCESS_DENIED_ERROR: wrong user or password
			1044, // ER_DBACCESS_DENIED_ERROR: the user may not use this database
			1049: // ER_BAD_DB_ERROR: unknown database
			return true
		}
	}
	return false
}

// PermanentHint names the settings to check for a permanent error, for the start-up message.
func PermanentHint(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		if pe.Code == "3D000" {
			return "the database does not exist: check DB_NAME"
		}
		return "authentication failed: check DB_USER and DB_PASS (and the server's pg_hba.conf)"
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1049 {
		return "the database does not exist: check DB_NAME"
	}
	if errors.As(err, &me) && me.Number == 1044 {
		return "access to the database denied: check DB_NAME and the user's grants"
	}
	return "authentication failed: check DB_USER and DB_PASS"
}
