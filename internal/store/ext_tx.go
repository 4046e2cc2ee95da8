package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// A host resource's data code runs in the same transactions as Gatehouse's own (InTx: whole
// transaction retried on a conflict known not to have committed; ReadTx: no write lock on
// SQLite), through ExtTx, which keeps the query builder private: plain SQL with ? placeholders,
// errors mapped to domain codes, the transaction's fixed clock, and the transaction-scoped audit
// and outbox inserts.

// ExtTx is one attempt of a transaction run for a host resource. It is valid only inside the
// function it was given to.
type ExtTx struct {
	tx  bun.Tx
	s   *Store
	now time.Time
}

// ExtInTx runs fn in one write transaction, like InTx: when the engine reports a conflict known
// not to have committed, the whole of fn runs again, so fn must have no effect outside the
// transaction. Every attempt sees the same Now.
func (s *Store) ExtInTx(ctx context.Context, fn func(ctx context.Context, tx *ExtTx) error) error {
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error { return fn(ctx, &ExtTx{tx: tx, s: s, now: now}) })
}

// ExtReadTx is ExtInTx for transactions that only read (on SQLite they run beside a writer).
func (s *Store) ExtReadTx(ctx context.Context, fn func(ctx context.Context, tx *ExtTx) error) error {
	now := utc(s.now())
	return s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error { return fn(ctx, &ExtTx{tx: tx, s: s, now: now}) })
}

// Now is the transaction's time, from the store's clock, in UTC to the microsecond (what every
// engine stores): the same for every statement and every attempt.
func (t *ExtTx) Now() time.Time { return t.now }

// Family is the dialect family: "postgres", "mysql" or "sqlite".
func (t *ExtTx) Family() string { return t.s.dialect.Family() }

// ExecContext runs a statement. Each ? is an argument, quoted for the engine by the same query
// layer as Gatehouse's own statements; errors come back with a domain code (a unique violation
// is conflict).
func (t *ExtTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := t.tx.ExecContext(ctx, query, args...)
	return res, t.s.mapErr(err)
}

// QueryContext runs a query that returns rows; see ExecContext.
func (t *ExtTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, t.s.mapErr(err)
	}
	return rows, nil
}

// QueryRowContext runs a query that returns at most one row; see ExecContext. Its Scan reports no
// row as not_found.
func (t *ExtTx) QueryRowContext(ctx context.Context, query string, args ...any) *ExtRow {
	return &ExtRow{row: t.tx.QueryRowContext(ctx, query, args...), s: t.s}
}

// ExtRow is the result of QueryRowContext.
type ExtRow struct {
	row *sql.Row
	s   *Store
}

// Scan copies the row's columns into dest. No row is a not_found error ("not found"); other
// errors carry their domain code.
func (r *ExtRow) Scan(dest ...any) error { return r.s.mapErr(r.row.Scan(dest...)) }

// InsertID runs an INSERT into a table whose primary key is an auto-increment column named id,
// and returns the new row's id: PostgreSQL reports it with RETURNING, the others as the last
// insert id.
func (t *ExtTx) InsertID(ctx context.Context, query string, args ...any) (int64, error) {
	if t.s.dialect.Family() == "postgres" {
		var id int64
		err := t.QueryRowContext(ctx, query+" RETURNING id", args...).Scan(&id)
		return id, err
	}
	res, err := t.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	id, err := res.LastInsertId()
	return id, t.s.mapErr(err)
}

// Audit records ev in the transaction, so the event commits (or rolls back) with the change it
// describes. ev.At defaults to Now; the texts are cut to the columns' sizes.
func (t *ExtTx) Audit(ctx context.Context, ev gatehouse.AuditEvent) error {
	if ev.Event == "" {
		return errors.New("store: audit event without a name")
	}
	if ev.At.IsZero() {
		ev.At = t.now
	}
	return t.s.mapErr(insertAudit(ctx, t.tx, ev))
}

// EnqueueMail queues m in the outbox in the transaction, due now: the mail dispatcher sends it
// once the transaction has committed, and never if it rolls back. It fills in m's ID, status and
// times.
func (t *ExtTx) EnqueueMail(ctx context.Context, m *gatehouse.OutboxMail) error {
	if err := validateMail(m); err != nil {
		return err
	}
	row := &mailRow{
		Recipient: m.To, Subject: m.Subject, TextBody: m.Text, HTMLBody: m.HTML,
		Status: string(gatehouse.MailPending), NextAttemptAt: t.now, CreatedAt: t.now,
	}
	if _, err := t.tx.NewInsert().Model(row).Exec(ctx); err != nil {
		return t.s.mapErr(err)
	}
	m.ID, m.Status, m.Attempts, m.NextAttemptAt, m.CreatedAt = row.ID, gatehouse.MailPending, 0, t.now, t.now
	m.LockedUntil, m.LastError, m.SentAt = nil, "", nil
	return nil
}
