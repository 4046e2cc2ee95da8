package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// MigrationStatus is the state of one migration.
type MigrationStatus struct {
	// Set is "" for Gatehouse's own migrations, else the name of the host's migration set.
	Set       string
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time
}

// provider builds a goose provider for Gatehouse's own migrations. Every instance that starts at
// the same moment takes the same cluster-wide lock before migrating, so each migration runs once:
// PostgreSQL uses a session advisory lock; MySQL, MariaDB and Galera a lease row in a table
// (GET_LOCK is node-local on Galera, LOCK TABLES is not replicated); SQLite a file lock beside
// the database file.
func (s *Store) provider() (*goose.Provider, error) {
	return s.setProvider(gatehouseSet, true)
}

// setProvider builds the goose provider of one migration set, taking the cluster-wide lock
// itself when locked is true (false: the caller holds it, see withMigrationLock).
func (s *Store) setProvider(set MigrationSet, locked bool) (*goose.Provider, error) {
	fsys, err := set.family(s.dialect.Family())
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if t := set.versionTable(); t != defaultVersionTable {
		opts = append(opts, goose.WithTableName(t))
	}
	if !locked {
		return goose.NewProvider(s.dialect.Goose(), s.sqlDB, fsys, opts...)
	}
	switch s.dialect.Family() {
	case "postgres":
		l, err := postgresLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(l))
	case "mysql":
		l, err := s.mysqlLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithLocker(l))
	case "sqlite":
		opts = append(opts, goose.WithLocker(s.sqliteLocker()))
	}
	return goose.NewProvider(s.dialect.Goose(), s.sqlDB, fsys, opts...)
}

func postgresLocker() (lock.SessionLocker, error) {
	return lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
}

func (s *Store) sqliteLocker() *fileLocker { return &fileLocker{path: s.cfg.Path + ".migrate-lock"} }

func (s *Store) mysqlLocker() (lock.Locker, error) {
	return lock.NewMySQLTableLocker(
		lock.WithTableLockTimeout(500*time.Millisecond, 1200),
		lock.WithTableLogger(slog.New(slog.DiscardHandler)),
	)
}

// versionTableDDL is goose's version table for the MySQL family, as goose itself creates it.
const versionTableDDL = `CREATE TABLE IF NOT EXISTS %s (
	id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
	version_id bigint NOT NULL,
	is_applied boolean NOT NULL,
	tstamp datetime NULL default CURRENT_TIMESTAMP,
	PRIMARY KEY(id)
) ENGINE=InnoDB`

// ensureVersionTable creates a goose version table and its zero row on the MySQL family before
// goose runs; the caller holds the cluster-wide lock (withMigrationLock). goose creates them with
// CREATE TABLE and INSERT in one transaction, which MySQL splits (DDL commits implicitly); on
// Galera the INSERT can then be aborted by a conflict while the later COMMIT reports success,
// leaving an empty table ("missing zero version migration") for every instance. Here the two
// steps run under the same cluster-wide lock goose uses, and the zero row is read back until it
// is really there.
func (s *Store) ensureVersionTable(ctx context.Context, table string) error {
	// table is gatehouse's own name or <resource>_schema_version, checked by validSetName.
	if _, err := s.sqlDB.ExecContext(ctx, fmt.Sprintf(versionTableDDL, table)); err != nil {
		return fmt.Errorf("create %s: %w", table, err)
	}
	for attempt := 1; ; attempt++ {
		var n int
		if err := s.sqlDB.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+" WHERE version_id = 0").Scan(&n); err != nil { // #nosec G202 -- a checked identifier, not input
			return fmt.Errorf("read %s: %w", table, err)
		}
		if n > 0 {
			return nil
		}
		if attempt > 5 {
			return fmt.Errorf("the zero row of %s does not stay written", table)
		}
		if _, err := s.sqlDB.ExecContext(ctx, "INSERT INTO "+table+" (version_id, is_applied) VALUES (0, TRUE)"); err != nil && !s.dialect.IsRetryable(err) { // #nosec G202 -- a checked identifier, not input
			return fmt.Errorf("insert the zero version: %w", err)
		}
	}
}

// Migrate applies every pending migration, Gatehouse's and then those of each migration set a
// host registered (WithMigrationSets), all under one hold of the cluster-wide lock, and returns
// the versions it applied.
func (s *Store) Migrate(ctx context.Context) ([]int64, error) {
	var applied []int64
	err := s.withMigrationLock(ctx, func() error {
		for _, set := range s.migrationSets() {
			vs, err := s.migrateSet(ctx, set)
			applied = append(applied, vs...)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return applied, fmt.Errorf("store: migrate: %w", err)
	}
	if err := s.backfillEmailSkeletons(ctx); err != nil {
		return applied, err
	}
	return applied, nil
}

// migrateSet applies the pending migrations of one set; the caller holds the lock.
func (s *Store) migrateSet(ctx context.Context, set MigrationSet) ([]int64, error) {
	p, err := s.setProvider(set, false)
	if err != nil {
		return nil, err
	}
	if s.dialect.Family() == "mysql" {
		if err := s.ensureVersionTable(ctx, set.versionTable()); err != nil {
			return nil, err
		}
	}
	res, err := p.Up(ctx)
	var applied []int64
	for _, r := range res {
		if r.Error == nil {
			applied = append(applied, r.Source.Version)
			s.log.Info("migration applied", "set", set.label(), "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration.String())
		}
	}
	if err != nil {
		return applied, fmt.Errorf("up (%s): %w", set.label(), err)
	}
	return applied, nil
}

// MigrateDown rolls back the latest applied migration.
func (s *Store) MigrateDown(ctx context.Context) (int64, error) {
	p, err := s.provider()
	if err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	r, err := p.Down(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: migrate down: %w", err)
	}
	s.log.Info("migration rolled back", "version", r.Source.Version, "file", r.Source.Path)
	return r.Source.Version, nil
}

// MigrationStatus lists every known migration and whether it is applied: Gatehouse's, then
// those of each registered migration set (MigrationStatus.Set names it).
func (s *Store) MigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	var out []MigrationStatus
	for _, set := range s.migrationSets() {
		p, err := s.setProvider(set, true)
		if err != nil {
			return nil, fmt.Errorf("store: migrate: %w", err)
		}
		st, err := p.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("store: migration status (%s): %w", set.label(), err)
		}
		for _, m := range st {
			out = append(out, MigrationStatus{
				Set: set.Name, Version: m.Source.Version, Name: m.Source.Path,
				Applied: m.State == goose.StateApplied, AppliedAt: m.AppliedAt,
			})
		}
	}
	return out, nil
}

// Ready returns nil when the database answers and every migration is applied. It is what the
// readiness endpoint asks.
func (s *Store) Ready(ctx context.Context) error {
	if err := s.Ping(ctx); err != nil {
		return err
	}
	st, err := s.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	for _, m := range st {
		if !m.Applied {
			return fmt.Errorf("store: migration %d (%s) of %s is not applied", m.Version, m.Name, MigrationSet{Name: m.Set}.label())
		}
	}
	return nil
}

// fileLocker serialises migrations of one SQLite file across processes with flock(2) on a file
// beside it; the kernel releases the lock if the process dies.
type fileLocker struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

func (l *fileLocker) Lock(ctx context.Context, _ *sql.DB) error {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_RDWR, 0o600) // #nosec G304 -- path derives from DB_PATH
	if err != nil {
		return fmt.Errorf("open migration lock: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) // #nosec G115 -- fd fits in int
		if err == nil {
			l.mu.Lock()
			l.f = f
			l.mu.Unlock()
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return fmt.Errorf("lock %s: %w", l.path, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (l *fileLocker) Unlock(context.Context, *sql.DB) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor releases the flock
	l.f = nil
	return err
}
