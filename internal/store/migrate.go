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
		l, err := lock.NewMySQLTableLocker(
			lock.WithTableLockTimeout(500*time.Millisecond, 1200),
			lock.WithTableLogger(slog.New(slog.DiscardHandler)),
		)
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithLocker(l))
	case "sqlite":
		opts = append(opts, goose.WithLocker(&fileLocker{path: s.cfg.Path + ".migrate-lock"}))
	}
	return goose.NewProvider(s.dialect.Goose(), s.sqlDB, fsys, opts...)
}

// Migrate applies every pending migration and returns the versions it applied.
func (s *Store) Migrate(ctx context.Context) ([]int64, error) {
	p, err := s.provider()
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
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
