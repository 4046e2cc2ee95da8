package testdb

import (
	"os"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/config"
)

// Drop drops a database New made while the service under test may still use it: for the tests
// of what a request meets when its database is gone. PostgreSQL ends the database's sessions
// (WITH (FORCE)); MariaDB drops the schema under open connections; SQLite's file and its WAL
// are removed (connections already open keep the unlinked file; new ones find an empty
// database without tables). The cleanup New registered tolerates the database being gone.
func Drop(t testing.TB, db config.DB) {
	t.Helper()
	var stmt string
	switch db.Type {
	case SQLite:
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(db.Path + suffix); err != nil && !os.IsNotExist(err) {
				t.Fatalf("testdb: removing %s: %v", db.Path+suffix, err)
			}
		}
		return
	case Postgres:
		stmt = `DROP DATABASE IF EXISTS "` + db.Name + `" WITH (FORCE)`
	default:
		stmt = "DROP DATABASE IF EXISTS `" + db.Name + "`"
	}
	if err := adminExec(db.Type, db.Hosts, stmt); err != nil {
		t.Fatalf("testdb: dropping %s on %s: %v", db.Name, db.Type, err)
	}
}
