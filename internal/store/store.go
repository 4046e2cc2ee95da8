// Package store is Gatehouse's one runtime data layer for every engine (SQLite, PostgreSQL,
// MySQL 8, MariaDB and MariaDB Galera). Schema changes live only in the embedded migrations;
// this package only queries. Each public method is one transaction, retried as a whole when
// the engine reports a conflict that is known not to have committed.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store/dialect"
)

// Store is the data layer. It is safe for concurrent use.
type Store struct {
	db      *bun.DB
	sqlDB   *sql.DB
	cfg     config.DB
	dialect dialect.Dialect
	log     *slog.Logger
	now     func() time.Time

	// MaxAttempts bounds how often one transaction runs when it keeps conflicting.
	maxAttempts int
	retries     atomic.Int64
	// stmts are the prepared statements of the hot read paths (prepared.go).
	stmts stmtCache
	// writeGate (SQLite only) lets one write transaction of this process at a time ask for the
	// database's write lock; see tryTx.
	writeGate chan struct{}
	// tracer records a span per transaction and prepared read; nil when tracing is off (trace.go).
	tracer trace.Tracer
	// sets are the host's migration sets, applied after Gatehouse's (ext_migrate.go).
	sets []MigrationSet
	// opened counts the connections the pool has opened (detach.go).
	opened atomic.Int64
}

// Option configures Open.
type Option func(*Store)

// WithClock sets the clock that stamps created_at, updated_at and other times.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.log = l } }

// Open connects to the database described by cfg and waits for it to answer, retrying with
// exponential backoff up to cfg.ConnectTimeout and logging every attempt. It does not migrate;
// call Migrate for that.
func Open(ctx context.Context, cfg config.DB, opts ...Option) (*Store, error) {
	d, err := dialect.For(cfg)
	if err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg, dialect: d, log: slog.New(slog.DiscardHandler), now: time.Now, maxAttempts: 8}
	for _, o := range opts {
		o(s)
	}
	if cfg.Type == config.DBSQLite {
		s.writeGate = make(chan struct{}, 1)
		if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o750); err != nil {
			return nil, fmt.Errorf("store: create directory for %s: %w", cfg.Path, err)
		}
	}
	conn, err := d.Connector(cfg)
	if err != nil {
		return nil, fmt.Errorf("store: %s connector: %w", cfg.Type, err)
	}
	s.sqlDB = sql.OpenDB(countingConnector{Connector: conn, n: &s.opened})
	s.sqlDB.SetMaxOpenConns(cfg.PoolSize)
	s.sqlDB.SetMaxIdleConns(cfg.PoolSize)
	s.sqlDB.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	s.sqlDB.SetConnMaxIdleTime(cfg.ConnMaxIdleTime)
	s.db = bun.NewDB(s.sqlDB, d.Bun())
	s.db = s.db.WithQueryHook(conflictHook{d: d})
	if err := s.waitReady(ctx); err != nil {
		_ = s.sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// waitReady pings until the database answers or cfg.ConnectTimeout passes.
func (s *Store) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout)
	defer cancel()
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
		err := s.sqlDB.PingContext(pctx)
		pcancel()
		if err == nil {
			s.log.Info("database ready", "type", s.cfg.Type, "attempt", attempt)
			return nil
		}
		if dialect.IsPermanent(err) {
			// The server answered and refused: retrying until DB_CONNECT_TIMEOUT only hides it.
			return fmt.Errorf("store: %s database refused the connection (%s); not retrying: %w",
				s.cfg.Type, dialect.PermanentHint(err), err)
		}
		s.log.Warn("database not ready", "type", s.cfg.Type, "attempt", attempt, "retry_in", delay.String(), "error", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("store: %s database not reachable within DB_CONNECT_TIMEOUT=%s after %d attempts: %w",
				s.cfg.Type, s.cfg.ConnectTimeout, attempt, err)
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}

// Close closes the pool.
func (s *Store) Close() error {
	s.closeStmts()
	return s.sqlDB.Close()
}

// DB returns the pool, for statistics and for tests.
func (s *Store) DB() *sql.DB { return s.sqlDB }

// Type returns the configured engine (DB_TYPE).
func (s *Store) Type() string { return s.cfg.Type }

// Retries returns how many transactions were run again after a retryable conflict since Open.
func (s *Store) Retries() int64 { return s.retries.Load() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return unavailable(err, "database unavailable")
	}
	return nil
}

// txState travels in the context of one transaction attempt. The query hook marks it when any
// statement fails with a retryable error, because on Galera a certification conflict can hit a
// statement before COMMIT and a later COMMIT then reports success although the transaction was
// rolled back; code that swallowed the statement's error must not make that a lost write.
// The first such error is kept (an atomic.Pointer: errors of different types follow each other
// when a conflict is followed by a lost connection, which atomic.Value refuses).
type txState struct{ conflict atomic.Pointer[error] }

type txKey struct{}

type conflictHook struct{ d dialect.Dialect }

func (conflictHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (h conflictHook) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	// A statement that lost its connection also dooms the transaction (the server rolls back a
	// transaction whose session ended), so a later COMMIT cannot have committed it either.
	if e.Err == nil || (!h.d.IsRetryable(e.Err) && !dialect.IsServerGone(e.Err)) {
		return
	}
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		err := e.Err
		st.conflict.CompareAndSwap(nil, &err)
	}
}

// errCommitUnknown marks a COMMIT whose outcome is unknown (the connection broke while it was
// in flight). It is never retried: the transaction may have committed.
var errCommitUnknown = errors.New("commit outcome unknown")

// InTx runs fn in one transaction and commits it. When the engine reports a conflict known not
// to have committed, the whole of fn runs again (bounded, jittered backoff), so fn must not have
// effects outside the transaction. fn must use the ctx it is given.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.runTx(ctx, nil, fn)
}

// ReadTx is InTx for transactions that only read. On SQLite it does not take the write lock,
// so reads run concurrently with each other and with a writer.
func (s *Store) ReadTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.runTx(ctx, &sql.TxOptions{ReadOnly: true}, fn)
}

func (s *Store) runTx(ctx context.Context, opts *sql.TxOptions, fn func(ctx context.Context, tx bun.Tx) error) (err error) {
	if s.tracer != nil {
		var done func(error)
		ctx, done = s.traceOp(ctx, "transaction", opts != nil && opts.ReadOnly)
		defer func() { done(err) }()
	}
	return s.retry(ctx, "transaction", func() error { return s.tryTx(ctx, opts, fn) })
}

// retry runs attempt until it succeeds, fails in a way not worth retrying, runs out of attempts
// or ctx ends, waiting between attempts with full jitter on an exponential base (10 ms, 20 ms,
// … capped at 1 s). The error comes back mapped to a domain code.
func (s *Store) retry(ctx context.Context, what string, attempt func() error) error {
	var err error
	for n := 1; ; n++ {
		err = attempt()
		if err == nil {
			return nil
		}
		if cerr := ctx.Err(); cerr != nil && !isDecision(err) {
			// The caller went away or ran out of time, and the failure (a statement interrupted,
			// database/sql's ErrTxDone after it rolled back) is that, whatever the driver says.
			return unavailable(fmt.Errorf("%w: %w", cerr, err), "the request was cancelled or timed out")
		}
		if n >= s.maxAttempts || !s.retryable(err) {
			break
		}
		s.retries.Add(1)
		backoff := time.Duration(rand.Int64N(int64(min(10*time.Millisecond<<(n-1), time.Second)))) // #nosec G404 -- jitter, not a secret
		s.log.Debug(what+" retry", "attempt", n, "backoff", backoff.String(), "error", err)
		select {
		case <-ctx.Done():
			return s.mapErr(ctx.Err())
		case <-time.After(backoff):
		}
	}
	return s.mapErr(err)
}

// isDecision reports whether err is a domain error made by the code itself (not found, conflict
// decided by a rule…), rather than a database failure wrapped in one.
func isDecision(err error) bool {
	var de *gatehouse.Error
	return errors.As(err, &de) && de.Err == nil
}

func (s *Store) retryable(err error) bool {
	if errors.Is(err, errCommitUnknown) {
		return false
	}
	if isDecision(err) {
		return false // a domain decision made by fn, not a database failure
	}
	return s.dialect.IsRetryable(err) || dialect.IsConnectionError(err)
}

func (s *Store) tryTx(ctx context.Context, opts *sql.TxOptions, fn func(ctx context.Context, tx bun.Tx) error) (err error) {
	if s.writeGate != nil && (opts == nil || !opts.ReadOnly) {
		// SQLite has one writer at a time, and a writer that finds the lock taken polls for it
		// with sleeps growing to 100 ms (the driver's busy handler), so under load a late
		// arrival often wins and an early one waits for seconds. Queueing this process's
		// writers here, first come first served and before they take a pooled connection,
		// makes the wait as long as the work ahead of it and leaves the pool to readers.
		// busy_timeout still covers writers in other processes.
		select {
		case s.writeGate <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-s.writeGate }()
	}
	caller := ctx
	ctx, release := s.detach(ctx)
	defer release()
	st := &txState{}
	ctx = context.WithValue(ctx, txKey{}, st)
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(ctx, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if c := st.conflict.Load(); c != nil {
		_ = tx.Rollback()
		return *c
	}
	if err := caller.Err(); err != nil {
		// The caller left while the statements ran detached (detach.go): what it asked for is
		// not committed, as when its cancellation interrupts a statement, but the connection
		// stays in the pool.
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		if s.dialect.IsRetryable(err) {
			return err // certification failure at COMMIT: known rolled back
		}
		if dialect.CommitNotSent(err) {
			return err // the driver knew the connection was dead: COMMIT never left
		}
		if dialect.IsConnectionError(err) {
			return fmt.Errorf("%w: %w", errCommitUnknown, err)
		}
		return err
	}
	return nil
}

// mapErr turns driver errors into domain errors; domain errors pass through.
func (s *Store) mapErr(err error) error {
	if err == nil {
		return nil
	}
	var de *gatehouse.Error
	if errors.As(err, &de) {
		return err
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return gatehouse.Wrap(gatehouse.ENotFound, err, "not found")
	case s.dialect.IsUniqueViolation(err):
		return gatehouse.Wrap(gatehouse.EConflict, err, "already exists")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return unavailable(err, "the request was cancelled or timed out")
	case s.dialect.IsRetryable(err), dialect.IsConnectionError(err):
		return unavailable(err, "database temporarily unavailable, try again")
	case dialect.IsDatabaseGone(err):
		return unavailable(err, "database unavailable")
	}
	return gatehouse.Wrap(gatehouse.EInternal, err, "database error")
}

// RetryAfterUnavailable is the Retry-After of a 503 caused by the database: a restart or a Galera
// failover is typically over within a second or two.
const RetryAfterUnavailable = time.Second

// unavailable is the EUnavailable error for a database that cannot serve right now.
func unavailable(err error, msg string) error {
	e := gatehouse.Wrap(gatehouse.EUnavailable, err, "%s", msg)
	e.RetryAfter = RetryAfterUnavailable
	return e
}
