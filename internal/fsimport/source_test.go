package fsimport

import (
	"strings"
	"testing"
)

func TestParseSource(t *testing.T) {
	for _, c := range []struct{ in, engine, dsn string }{
		{"sqlite:///app.db", EngineSQLite, "file:app.db?mode=ro"},
		{"sqlite:////var/lib/app/app.db", EngineSQLite, "file:/var/lib/app/app.db?mode=ro"},
		{"/var/lib/app.db", EngineSQLite, "file:/var/lib/app.db?mode=ro"},
		{"postgresql://u:p%40ss@db:5432/app?sslmode=require", EnginePostgres, "postgres://u:p%40ss@db:5432/app?sslmode=require"},
		{"postgresql+psycopg2://u@db/app", EnginePostgres, "postgres://u@db/app"},
		{"host=db dbname=app user=u", EnginePostgres, "host=db dbname=app user=u"},
		{"mysql+pymysql://u:p@db:3307/app?charset=utf8mb4", EngineMySQL, "u:p@tcp(db:3307)/app?"},
		{"mariadb+mariadbconnector://u@db/app", EngineMySQL, "u@tcp(db:3306)/app?"},
		{"u:p@tcp(db:3306)/app", EngineMySQL, "u:p@tcp(db:3306)/app?"},
	} {
		engine, dsn, err := ParseSource(c.in)
		if err != nil || engine != c.engine || !strings.HasPrefix(dsn, c.dsn) {
			t.Errorf("ParseSource(%q) = %s, %q, %v; want %s, %q…", c.in, engine, dsn, err, c.engine, c.dsn)
		}
	}
	for _, bad := range []string{"", "sqlite://", "sqlite:///:memory:", "oracle://x/y"} {
		if _, _, err := ParseSource(bad); err == nil {
			t.Errorf("ParseSource(%q) accepted", bad)
		}
	}
}
