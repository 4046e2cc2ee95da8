package store

import (
	"context"
	"database/sql"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/uptrace/bun/schema"
)

// The few queries every authenticated request runs (the principal, the caller's team role) are
// written as fixed SQL with bind parameters and prepared once, instead of being built by the
// query builder. Bun interpolates arguments into the SQL text, so each of its queries is new text
// to the engine: SQLite parses and plans it again (a fifth of the CPU of GET /me in a profile),
// and PostgreSQL and MariaDB cannot reuse a plan either. A prepared statement is parsed once per
// pooled connection (database/sql prepares it on each connection as it is first used there).
//
// They also run as single statements, outside a transaction: one SELECT sees one consistent
// snapshot on every engine, and dropping BEGIN/COMMIT saves two round trips on PostgreSQL and
// MariaDB and, on SQLite, two more statements (each of which the driver watches with a goroutine
// for cancellation).

// stmtCache holds the prepared statements of a Store, by SQL text.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// prepared returns the statement named key, preparing the SQL that build returns (written with ?
// placeholders) on first use. A failed preparation is not remembered, so a database that was
// briefly away is tried again on the next call.
func (s *Store) prepared(ctx context.Context, key string, build func() string) (*sql.Stmt, error) {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	if st, ok := s.stmts.m[key]; ok {
		return st, nil
	}
	st, err := s.sqlDB.PrepareContext(ctx, s.bindVars(build())) //nolint:sqlclosecheck // kept for the life of the Store; closed by Close

	if err != nil {
		return nil, err
	}
	if s.stmts.m == nil {
		s.stmts.m = map[string]*sql.Stmt{}
	}
	s.stmts.m[key] = st
	return st, nil
}

// fixed is a build function for SQL that does not depend on the engine.
func fixed(query string) func() string { return func() string { return query } }

// columnsOf returns the columns of the bun model T as a select list qualified by alias, for the
// statement builders. Deriving the list from the model keeps these hand-written queries in step
// when a column is added to the model; fieldsOf gives the fields in the same order.
func columnsOf[T any](s *Store, alias string) string {
	fields := fieldsOf[T](s)
	cols := make([]string, len(fields))
	for i, f := range fields {
		cols[i] = alias + "." + string(f.SQLName)
	}
	return strings.Join(cols, ", ")
}

// fieldsOf returns the fields of the bun model T (bun caches the table).
func fieldsOf[T any](s *Store) []*schema.Field {
	return s.db.Table(reflect.TypeFor[T]()).Fields
}

// fieldPtrs appends to dest a typed pointer to each field of *row, for rows.Scan: database/sql
// converts each column straight into the field (a nullable column into a pointer field), with
// no intermediate value per column.
func fieldPtrs[T any](dest []any, row *T, fields []*schema.Field) []any {
	v := reflect.ValueOf(row).Elem()
	for _, f := range fields {
		dest = append(dest, f.Value(v).Addr().Interface())
	}
	return dest
}

// closeStmts closes the prepared statements (before the pool is closed).
func (s *Store) closeStmts() {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	for q, st := range s.stmts.m {
		_ = st.Close()
		delete(s.stmts.m, q)
	}
}

// bindVars rewrites ? placeholders as $1, $2, … for PostgreSQL; the other engines take ? as is.
// The queries given here contain no ? inside string literals.
func (s *Store) bindVars(query string) string {
	if s.dialect.Family() != "postgres" {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// readStmt runs fn (one read statement) with the retry policy of InTx: a failure known not to
// have had any effect (a lost connection, a Galera node not ready, SQLITE_BUSY) runs it again
// with bounded, jittered backoff. Errors come back mapped to domain codes.
func (s *Store) readStmt(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if s.tracer != nil {
		var done func(error)
		ctx, done = s.traceOp(ctx, "read", true)
		defer func() { done(err) }()
	}
	qctx := ctx
	if s.writeGate != nil && ctx.Err() == nil {
		// SQLite: the driver watches a cancellable context with a new goroutine per statement,
		// so that it can interrupt a long query. These statements are index lookups that take
		// microseconds, so an interrupt could never arrive in time; the goroutine, though, costs
		// CPU, and on a saturated core the stream of short-lived goroutines it adds to every
		// request delays the requests still waiting to be read from the network (tail latency).
		// So they run without the request's cancellation (which is checked before each attempt).
		qctx = context.WithoutCancel(ctx)
	} else {
		// PostgreSQL, MySQL: a cancelled statement would cost its pooled connection (detach.go).
		// (SQLite's would too: there the statement runs without any cancellation, above.)
		var release func()
		qctx, release = s.detach(ctx)
		defer release()
	}
	return s.retry(ctx, "read", func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(qctx)
	})
}
