package store

import (
	"embed"
	"io/fs"
)

// migrationFiles holds the schema, one directory per dialect family with the same version
// numbers in each. Runtime code never changes the schema; only these files do.
//
//go:embed migrations/postgres/*.sql migrations/mysql/*.sql migrations/sqlite/*.sql
var migrationFiles embed.FS

// Migrations returns the migration files of one family ("postgres", "mysql" or "sqlite").
func Migrations(family string) (fs.FS, error) {
	return fs.Sub(migrationFiles, "migrations/"+family)
}
