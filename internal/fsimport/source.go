package fsimport

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "modernc.org/sqlite"             // driver "sqlite"
)

// Source engines.
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
	EngineMySQL    = "mysql"
)

// ParseSource turns the source given on the command line into an engine and a Go driver DSN.
// It accepts SQLAlchemy URLs as Flask-Security configurations write them
// (SQLALCHEMY_DATABASE_URI): postgresql[+driver]://, postgres://, mysql[+driver]://,
// mariadb[+driver]://, sqlite:///relative/path and sqlite:////absolute/path; and native DSNs:
// a PostgreSQL keyword DSN ("host=… dbname=…"), a go-sql-driver DSN ("user:pw@tcp(host)/db")
// or a path to an SQLite file.
func ParseSource(src string) (engine, dsn string, err error) {
	src = strings.TrimSpace(src)
	scheme, rest, isURL := strings.Cut(src, "://")
	if !isURL {
		switch {
		case strings.Contains(src, "@tcp(") || strings.Contains(src, "@unix("):
			c, err := mysql.ParseDSN(src)
			if err != nil {
				return "", "", err
			}
			c.ParseTime = true
			return EngineMySQL, c.FormatDSN(), nil
		case strings.Contains(src, "dbname=") || strings.Contains(src, "host="):
			return EnginePostgres, src, nil
		case src != "":
			return EngineSQLite, sqliteDSN(src), nil
		}
		return "", "", errors.New("no source database given")
	}
	base, _, _ := strings.Cut(strings.ToLower(scheme), "+")
	switch base {
	case "sqlite":
		// sqlite:///relative/path, sqlite:////absolute/path; sqlite:// alone is in-memory.
		path := strings.TrimPrefix(rest, "/")
		if path == "" || path == ":memory:" {
			return "", "", errors.New("an in-memory SQLite database (sqlite://) holds nothing to import")
		}
		if i := strings.Index(path, "?"); i >= 0 {
			path = path[:i]
		}
		return EngineSQLite, sqliteDSN(path), nil
	case "postgresql", "postgres":
		u, err := url.Parse("postgres://" + rest)
		if err != nil {
			return "", "", fmt.Errorf("source URL: %w", err)
		}
		return EnginePostgres, u.String(), nil
	case "mysql", "mariadb":
		u, err := url.Parse("mysql://" + rest)
		if err != nil {
			return "", "", fmt.Errorf("source URL: %w", err)
		}
		c := mysql.NewConfig()
		c.User = u.User.Username()
		c.Passwd, _ = u.User.Password()
		c.Net, c.Addr = "tcp", u.Host
		if u.Port() == "" && u.Host != "" {
			c.Addr = u.Host + ":3306"
		}
		if sock := u.Query().Get("unix_socket"); sock != "" {
			c.Net, c.Addr = "unix", sock
		}
		c.DBName = strings.TrimPrefix(u.Path, "/")
		c.ParseTime = true
		c.Timeout = 30 * time.Second
		if cs := u.Query().Get("charset"); cs != "" {
			c.Params = map[string]string{"charset": cs}
		}
		return EngineMySQL, c.FormatDSN(), nil
	}
	return "", "", fmt.Errorf("source URL scheme %q: want postgresql://, mysql://, mariadb:// or sqlite:///", scheme)
}

// sqliteDSN opens the file read-only: the import never writes to its source.
func sqliteDSN(path string) string {
	return "file:" + path + "?mode=ro&_pragma=busy_timeout(5000)"
}

func openSource(ctx context.Context, engine, dsn string) (*sql.DB, error) {
	driver := map[string]string{EngineSQLite: "sqlite", EnginePostgres: "pgx", EngineMySQL: "mysql"}[engine]
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(2)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("source database: %w", err)
	}
	return db, nil
}

// schema names the source's tables and columns: the fsqla defaults, overridable.
type schema struct {
	engine string
	tables map[string]string            // logical -> actual
	cols   map[string]map[string]string // logical table -> logical column -> actual
	have   map[string]map[string]bool   // logical table -> actual column present
}

// DefaultTables are the fsqla model names. The WebAuthn table is "web_authn" when the model
// class is called WebAuthn (Flask-SQLAlchemy's naming, as in Flask-Security's examples), and
// "webauthn" is tried when that does not exist.
var DefaultTables = map[string]string{"user": "user", "role": "role", "roles_users": "roles_users", "webauthn": "web_authn"}

func (s *schema) quote(name string) string {
	if s.engine == EngineMySQL {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

func (s *schema) table(logical string) string { return s.quote(s.tables[logical]) }

// col returns the quoted actual column, and whether the source has it.
func (s *schema) col(table, logical string) (string, bool) {
	name := logical
	if m := s.cols[table]; m != nil && m[logical] != "" {
		name = m[logical]
	}
	return s.quote(name), s.have[table][strings.ToLower(name)]
}

// inspect records which columns each table has; a missing table gives an empty set.
func (s *schema) inspect(ctx context.Context, db *sql.DB, table string) (bool, error) {
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+s.table(table)+" WHERE 1=0") // #nosec G202 -- quoted identifier
	if err != nil {
		return false, nil // the table does not exist
	}
	defer func() { _ = rows.Close() }()
	names, err := rows.Columns()
	if err != nil {
		return false, err
	}
	set := map[string]bool{}
	for _, n := range names {
		set[strings.ToLower(n)] = true
	}
	s.have[table] = set
	return true, rows.Err()
}

// selectList returns the SELECT list for logical columns; absent ones are NULL.
func (s *schema) selectList(table string, logical []string) string {
	parts := make([]string, len(logical))
	for i, l := range logical {
		if q, ok := s.col(table, l); ok {
			parts[i] = q
		} else {
			parts[i] = "NULL"
		}
	}
	return strings.Join(parts, ", ")
}

// Value conversions: drivers return SQLite's DATETIME text, MySQL's tinyint booleans and so on.

func asString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return fmt.Sprint(v)
}

func asBytes(v any) []byte {
	switch v := v.(type) {
	case []byte:
		return v
	case string:
		return []byte(v)
	}
	return nil
}

func asInt(v any) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case int32:
		return int64(v)
	case float64:
		return int64(v)
	case bool:
		if v {
			return 1
		}
	case string, []byte:
		n, _ := strconv.ParseInt(strings.TrimSpace(asString(v)), 10, 64)
		return n
	}
	return 0
}

func asBool(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string, []byte:
		s := strings.ToLower(strings.TrimSpace(asString(v)))
		return s == "1" || s == "t" || s == "true"
	}
	return asInt(v) != 0
}

// asTime reads a naive datetime as UTC, as Flask-Security writes them (its datetime_factory
// is naive UTC).
func asTime(v any) *time.Time {
	switch v := v.(type) {
	case time.Time:
		t := time.Date(v.Year(), v.Month(), v.Day(), v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), time.UTC)
		if v.Location() != time.UTC && v.Location() != time.Local {
			t = v.UTC()
		}
		return &t
	case string, []byte:
		s := strings.TrimSpace(asString(v))
		for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02"} {
			if t, err := time.Parse(layout, s); err == nil {
				t = t.UTC()
				return &t
			}
		}
	}
	return nil
}
