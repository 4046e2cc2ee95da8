package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// DB_PATH is a file path, not a URI: '#', '?', '%' and spaces in it name exactly that file. Go
// names a subtest's temp dir like "TestX/sqlite#01", and an unescaped '#' once made two tests
// share the truncated file "/tmp/TestXsqlite".
func TestSQLitePathWithURICharacters(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a#b.db", "c?d=e.db", "f%23g.db", "h i.db"} {
		db := testdb.New(t, testdb.SQLite)
		db.Path = filepath.Join(dir, "x#1", name)
		if err := os.MkdirAll(filepath.Dir(db.Path), 0o700); err != nil {
			t.Fatal(err)
		}
		s := open(t, db)
		if err := s.Ready(context.Background()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := os.Stat(db.Path); err != nil {
			t.Fatalf("%s: the database is not at its path: %v", name, err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "x#1" {
		t.Fatalf("files outside the named directory: %v", entries)
	}
}
