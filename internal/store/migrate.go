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
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time
}

// provider builds a goose provider for this store. Every instance that starts at the same
// moment takes the same cluster-wide lock before migrating, so each migration runs once:
// PostgreSQL uses a session advisory lock; MySQL, MariaDB and Galera a lease row in a table
// (GET_LOCK is node-local on Galera, LOCK TABLES is not replicated); SQLite a file lock beside
// the database file.
func (s *Store) provider() (*goose.Provider, error) {
	fsys, err := Migrations(s.dialect.Family())
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	switch s.dialect.Family() {
	case "postgres":
		l, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
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
		opts = append(opts, goose.WithLocker(&fileLocker{path: s.cfg.Path + ".migrate-lock"}))
	}
	return goose.NewProvider(s.dialect.Goose(), s.sqlDB, fsys, opts...)
}

func (s *Store) mysqlLocker() (lock.Locker, error) {
	return lock.NewMySQLTableLocker(
		lock.WithTableLockTimeout(500*time.Millisecond, 1200),
		lock.WithTableLogger(slog.New(slog.DiscardHandler)),
	)
}

// gooseTable is goose's version table for the MySQL family, as goose itself creates it.
const gooseTable = `CREATE TABLE IF NOT EXISTS goose_db_version (
	id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
	version_id bigint NOT NULL,
	is_applied boolean NOT NULL,
	tstamp datetime NULL default CURRENT_TIMESTAMP,
	PRIMARY KEY(id)
) ENGINE=InnoDB`

// ensureVersionTable creates goose's version table and its zero row on the MySQL family before
// goose runs. goose creates them with CREATE TABLE and INSERT in one transaction, which MySQL
// splits (DDL commits implicitly); on Galera the INSERT can then be aborted by a conflict while
// the later COMMIT reports success, leaving an empty table ("missing zero version migration")
// for every instance. Here the two steps run under the same cluster-wide lock goose uses, and
// the zero row is read back until it is really there.
func (s *Store) ensureVersionTable(ctx context.Context) error {
	l, err := s.mysqlLocker()
	if err != nil {
		return err
	}
	if err := l.Lock(ctx, s.sqlDB); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer func() { _ = l.Unlock(context.WithoutCancel(ctx), s.sqlDB) }()
	if _, err := s.sqlDB.ExecContext(ctx, gooseTable); err != nil {
		return fmt.Errorf("create goose_db_version: %w", err)
	}
	for attempt := 1; ; attempt++ {
		var n int
		if err := s.sqlDB.QueryRowContext(ctx, "SELECT COUNT(*) FROM goose_db_version WHERE version_id = 0").Scan(&n); err != nil {
			return fmt.Errorf("read goose_db_version: %w", err)
		}
		if n > 0 {
			return nil
		}
		if attempt > 5 {
			return errors.New("the zero row of goose_db_version does not stay written")
		}
		if _, err := s.sqlDB.ExecContext(ctx, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, TRUE)"); err != nil && !s.dialect.IsRetryable(err) {
			return fmt.Errorf("insert the zero version: %w", err)
		}
	}
}

// Migrate applies every pending migration and returns the versions it applied.
func (s *Store) Migrate(ctx context.Context) ([]int64, error) {
	p, err := s.provider()
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	if s.dialect.Family() == "mysql" {
		if err := s.ensureVersionTable(ctx); err != nil {
			return nil, fmt.Errorf("store: migrate: %w", err)
		}
	}
	res, err := p.Up(ctx)
	var applied []int64
	for _, r := range res {
		if r.Error == nil {
			applied = append(applied, r.Source.Version)
			s.log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration.String())
		}
	}
	if err != nil {
		return applied, fmt.Errorf("store: migrate up: %w", err)
	}
	if err := s.backfillEmailSkeletons(ctx); err != nil {
		return applied, err
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

// MigrationStatus lists every known migration and whether it is applied.
func (s *Store) MigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	p, err := s.provider()
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, m := range st {
		out = append(out, MigrationStatus{
			Version: m.Source.Version, Name: m.Source.Path,
			Applied: m.State == goose.StateApplied, AppliedAt: m.AppliedAt,
		})
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
			return fmt.Errorf("store: migration %d (%s) is not applied", m.Version, m.Name)
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
