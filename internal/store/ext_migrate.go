package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// A host program's resources bring their own schema: a MigrationSet per resource, applied after
// Gatehouse's migrations under the same hold of the same cluster-wide lock, and recorded in a
// version table of its own so that its version numbers never collide with Gatehouse's.

// MigrationSet is the schema of one host resource.
type MigrationSet struct {
	// Name names the set in logs and status listings, and its version table:
	// <Name>_schema_version. Lower-case letters, digits and underscores, starting with a letter.
	Name string
	// Files holds one directory per dialect family, postgres/, mysql/ and sqlite/, each with the
	// same goose SQL migrations (NNNNN_what.sql) under the same version numbers.
	Files fs.FS
}

// defaultVersionTable is goose's own table, which holds Gatehouse's versions.
const defaultVersionTable = "goose_db_version"

// gatehouseSet is Gatehouse's own schema (migrations.go), in goose's default table.
var gatehouseSet = MigrationSet{}

// Families are the dialect families every migration set provides.
var Families = []string{"postgres", "mysql", "sqlite"}

// WithMigrationSets adds host migration sets; Migrate applies them after Gatehouse's, in order,
// and Ready and MigrationStatus include them. Check each with CheckMigrationSet first.
func WithMigrationSets(sets ...MigrationSet) Option {
	return func(s *Store) { s.sets = append(s.sets, sets...) }
}

func (m MigrationSet) versionTable() string {
	if m.Name == "" {
		return defaultVersionTable
	}
	return m.Name + "_schema_version"
}

func (m MigrationSet) label() string {
	if m.Name == "" {
		return "gatehouse"
	}
	return m.Name
}

// family returns the set's migrations for one dialect family.
func (m MigrationSet) family(f string) (fs.FS, error) {
	if m.Name == "" {
		return Migrations(f)
	}
	return fs.Sub(m.Files, f)
}

// migrationSets returns Gatehouse's set and then the host's.
func (s *Store) migrationSets() []MigrationSet {
	return append([]MigrationSet{gatehouseSet}, s.sets...)
}

var setName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,47}$`)

// CheckMigrationSet reports what is wrong with a set before anything is applied: a bad name, a
// missing family directory, a file that is not NNNNN_name.sql, or version numbers that differ
// between the families (an engine would end up with another schema than the others).
func CheckMigrationSet(m MigrationSet) error {
	switch {
	case !setName.MatchString(m.Name):
		return fmt.Errorf("store: migration set %q: the name must be lower-case letters, digits and underscores, starting with a letter", m.Name)
	case m.Name == "goose" || m.Name == "gatehouse":
		return fmt.Errorf("store: migration set %q: the name is Gatehouse's own", m.Name)
	case m.Files == nil:
		return fmt.Errorf("store: migration set %q has no files", m.Name)
	}
	var want []int64
	for i, f := range Families {
		vs, err := setVersions(m.Files, f)
		if err != nil {
			return fmt.Errorf("store: migration set %q: %w", m.Name, err)
		}
		if i == 0 {
			want = vs
		} else if !slices.Equal(vs, want) {
			return fmt.Errorf("store: migration set %q: %s/ has versions %v, %s/ has %v: every family needs the same versions", m.Name, f, vs, Families[0], want)
		}
	}
	if len(want) == 0 {
		return fmt.Errorf("store: migration set %q has no migrations", m.Name)
	}
	return nil
}

// setVersions lists the versions of one family directory, in order.
func setVersions(fsys fs.FS, family string) ([]int64, error) {
	entries, err := fs.ReadDir(fsys, family)
	if err != nil {
		return nil, fmt.Errorf("%s/: %w", family, err)
	}
	var vs []int64
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || path.Ext(name) != ".sql" {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("%s/%s: want NNNNN_name.sql", family, name)
		}
		if slices.Contains(vs, v) {
			return nil, fmt.Errorf("%s/: version %d is used twice", family, v)
		}
		vs = append(vs, v)
	}
	slices.Sort(vs)
	return vs, nil
}

// withMigrationLock runs fn holding the cluster-wide migration lock, the same lock goose takes
// for Gatehouse's provider (migrate.go), so an instance migrating this way and one taking the lock
// through goose (MigrateDown, or an older version) wait for each other.
func (s *Store) withMigrationLock(ctx context.Context, fn func() error) (err error) {
	// The lock needs a connection of its own beside goose's (PostgreSQL's advisory lock belongs to
	// a session held aside; the MySQL lease is kept alive by a heartbeat while goose holds its
	// connection): make room for it in a pool of one.
	if st := s.sqlDB.Stats(); st.MaxOpenConnections == 1 {
		s.sqlDB.SetMaxOpenConns(2)
		defer s.sqlDB.SetMaxOpenConns(1)
	}
	switch s.dialect.Family() {
	case "postgres":
		l, err := postgresLocker()
		if err != nil {
			return err
		}
		conn, err := s.sqlDB.Conn(ctx)
		if err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		defer func() { _ = conn.Close() }()
		if err := l.SessionLock(ctx, conn); err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		defer func() { err = errors.Join(err, l.SessionUnlock(context.WithoutCancel(ctx), conn)) }()
		return fn()
	case "mysql":
		l, err := s.mysqlLocker()
		if err != nil {
			return err
		}
		return withLocker(ctx, l, s.sqlDB, fn)
	default:
		return withLocker(ctx, s.sqliteLocker(), s.sqlDB, fn)
	}
}

type locker interface {
	Lock(ctx context.Context, db *sql.DB) error
	Unlock(ctx context.Context, db *sql.DB) error
}

func withLocker(ctx context.Context, l locker, db *sql.DB, fn func() error) (err error) {
	if err := l.Lock(ctx, db); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer func() { err = errors.Join(err, l.Unlock(context.WithoutCancel(ctx), db)) }()
	return fn()
}
