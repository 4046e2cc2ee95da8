package store

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// The outbox's times come from the caller (the mail dispatcher's clock) rather than from the
// store's clock, so that scheduling a retry and finding it due again use one clock.

// Limits of the outbox columns, checked before writing so that nothing is silently truncated.
const (
	maxMailRecipient = 320
	maxMailSubject   = 998 // RFC 5322's longest header line
	maxMailBody      = 1 << 20
	maxMailError     = 2000
	maxMailClaim     = 100
	defaultMailList  = 100
	maxMailList      = 1000
)

type mailRow struct {
	bun.BaseModel `bun:"table:mail_outbox,alias:mo"`

	ID            int64      `bun:"id,pk,autoincrement"`
	Recipient     string     `bun:"recipient"`
	Subject       string     `bun:"subject"`
	TextBody      string     `bun:"text_body"`
	HTMLBody      string     `bun:"html_body"`
	Status        string     `bun:"status"`
	Attempts      int        `bun:"attempts"`
	NextAttemptAt time.Time  `bun:"next_attempt_at"`
	LockedUntil   *time.Time `bun:"locked_until"`
	LastError     string     `bun:"last_error"`
	CreatedAt     time.Time  `bun:"created_at"`
	SentAt        *time.Time `bun:"sent_at"`
}

func (r *mailRow) toDomain() gatehouse.OutboxMail {
	return gatehouse.OutboxMail{
		ID: r.ID, To: r.Recipient, Subject: r.Subject, Text: r.TextBody, HTML: r.HTMLBody,
		Status: gatehouse.MailStatus(r.Status), Attempts: r.Attempts, NextAttemptAt: utc(r.NextAttemptAt),
		LockedUntil: utcPtr(r.LockedUntil), LastError: r.LastError, CreatedAt: utc(r.CreatedAt), SentAt: utcPtr(r.SentAt),
	}
}

func validateMail(m *gatehouse.OutboxMail) error {
	for _, f := range []struct{ name, v string }{{"to", m.To}, {"subject", m.Subject}, {"text", m.Text}, {"html", m.HTML}} {
		if !utf8.ValidString(f.v) || strings.ContainsRune(f.v, 0) {
			return gatehouse.FieldError(f.name, "must be valid UTF-8 without NUL characters")
		}
	}
	switch {
	case strings.TrimSpace(m.To) == "":
		return gatehouse.FieldError("to", "is required")
	case utf8.RuneCountInString(m.To) > maxMailRecipient:
		return gatehouse.FieldError("to", "must be at most 320 characters")
	case strings.ContainsAny(m.To, "\r\n"):
		return gatehouse.FieldError("to", "must not contain line breaks")
	case strings.TrimSpace(m.Subject) == "":
		return gatehouse.FieldError("subject", "is required")
	case utf8.RuneCountInString(m.Subject) > maxMailSubject:
		return gatehouse.FieldError("subject", "must be at most 998 characters")
	case strings.ContainsAny(m.Subject, "\r\n"):
		return gatehouse.FieldError("subject", "must not contain line breaks")
	case m.Text == "" && m.HTML == "":
		return gatehouse.FieldError("text", "a text or HTML body is required")
	case len(m.Text) > maxMailBody:
		return gatehouse.FieldError("text", "must be at most 1 MiB")
	case len(m.HTML) > maxMailBody:
		return gatehouse.FieldError("html", "must be at most 1 MiB")
	}
	return nil
}

// mailReason makes an error text fit last_error: valid UTF-8, no NUL, at most 2000 characters.
func mailReason(s string) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if utf8.RuneCountInString(s) > maxMailError {
		s = string([]rune(s)[:maxMailError-1]) + "…"
	}
	return s
}

// EnqueueMail stores m as a pending message due at now, and fills in its ID, status and times.
func (s *Store) EnqueueMail(ctx context.Context, m *gatehouse.OutboxMail, now time.Time) (err error) {
	defer wrapErr(&err, "store.EnqueueMail(%q)", m.Subject)
	if err := validateMail(m); err != nil {
		return err
	}
	now = utc(now)
	row := &mailRow{
		Recipient: m.To, Subject: m.Subject, TextBody: m.Text, HTMLBody: m.HTML,
		Status: string(gatehouse.MailPending), NextAttemptAt: now, CreatedAt: now,
	}
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewInsert().Model(row).Exec(ctx)
		return err
	})
	if err != nil {
		return err
	}
	m.ID, m.Status, m.Attempts, m.NextAttemptAt, m.CreatedAt = row.ID, gatehouse.MailPending, 0, now, now
	m.LockedUntil, m.LastError, m.SentAt = nil, "", nil
	return nil
}

// insertMail queues m in tx, due at now, for a change whose email must commit (or roll back)
// with it, and fills in its ID, status and times. The caller has rendered m; it is validated here
// like EnqueueMail's, so that a message the outbox could not hold fails the change instead of
// being truncated.
func insertMail(ctx context.Context, tx bun.Tx, m *gatehouse.OutboxMail, now time.Time) error {
	if err := validateMail(m); err != nil {
		return err
	}
	now = utc(now)
	row := &mailRow{
		Recipient: m.To, Subject: m.Subject, TextBody: m.Text, HTMLBody: m.HTML,
		Status: string(gatehouse.MailPending), NextAttemptAt: now, CreatedAt: now,
	}
	if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
		return err
	}
	m.ID, m.Status, m.Attempts, m.NextAttemptAt, m.CreatedAt = row.ID, gatehouse.MailPending, 0, now, now
	m.LockedUntil, m.LastError, m.SentAt = nil, "", nil
	return nil
}

// ClaimDueMail leases up to limit pending messages due at now (oldest due first) to the caller
// until now+lease, counts an attempt on each, and returns them. A message leased by someone
// else is skipped until that lease ends, so several dispatchers on one database never deliver
// one message twice while a lease holds.
//
// The claim is a conditional UPDATE per candidate, the same statements on every engine: an
// UPDATE re-checks its WHERE against the latest committed row (PostgreSQL re-evaluates after
// waiting for the row lock, InnoDB updates read the current version, SQLite writers are
// serialised, and Galera's certification rejects one of two nodes claiming the same row, which
// InTx retries), so of two racing claims only one matches. The returned LockedUntil identifies
// this lease: a claim always moves locked_until forward, so no two leases of a message share it.
func (s *Store) ClaimDueMail(ctx context.Context, now time.Time, lease time.Duration, limit int) (ms []gatehouse.OutboxMail, err error) {
	defer wrapErr(&err, "store.ClaimDueMail(limit=%d)", limit)
	if lease <= 0 {
		return nil, gatehouse.FieldError("lease", "must be positive")
	}
	if limit < 1 || limit > maxMailClaim {
		return nil, gatehouse.FieldError("limit", "must be between 1 and 100")
	}
	now = utc(now)
	until := utc(now.Add(lease))
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		ms = nil
		var ids []int64
		if err := tx.NewSelect().Model((*mailRow)(nil)).Column("id").
			Where("status = ?", string(gatehouse.MailPending)).
			Where("next_attempt_at <= ?", now).
			Where("(locked_until IS NULL OR locked_until <= ?)", now).
			OrderExpr("next_attempt_at, id").Limit(int64(limit)).Scan(ctx, &ids); err != nil {
			return err
		}
		var claimed []int64
		for _, id := range ids {
			res, err := tx.NewUpdate().Model((*mailRow)(nil)).
				Set("locked_until = ?", until).
				Set("attempts = attempts + 1").
				Where("id = ?", id).
				Where("status = ?", string(gatehouse.MailPending)).
				Where("next_attempt_at <= ?", now).
				Where("(locked_until IS NULL OR locked_until <= ?)", now).
				Exec(ctx)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				claimed = append(claimed, id)
			}
		}
		if len(claimed) == 0 {
			return nil
		}
		var rows []mailRow
		if err := tx.NewSelect().Model(&rows).Where("id IN (?)", bun.List(claimed)).
			OrderExpr("next_attempt_at, id").Scan(ctx); err != nil {
			return err
		}
		ms = make([]gatehouse.OutboxMail, len(rows))
		for i := range rows {
			ms[i] = rows[i].toDomain()
		}
		return nil
	})
	return ms, err
}

// MarkMailSent records that the message held under lease was delivered at now. It is EConflict
// when that lease is no longer the message's (it ran out and another dispatcher claimed it).
func (s *Store) MarkMailSent(ctx context.Context, id int64, lease, now time.Time) (err error) {
	defer wrapErr(&err, "store.MarkMailSent(%d)", id)
	now = utc(now)
	return s.finishMail(ctx, id, lease, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		// The bodies carry live links and codes, which Gatehouse otherwise stores only as
		// hashes; once delivered they are not needed, and recipient, subject and status remain.
		return q.Set("status = ?", string(gatehouse.MailSent)).Set("sent_at = ?", now).
			Set("text_body = ?", "").Set("html_body = ?", "")
	})
}

// MarkMailRetry releases the message held under lease with the reason its delivery failed, due
// again at next. It is EConflict when the lease is no longer the message's.
func (s *Store) MarkMailRetry(ctx context.Context, id int64, lease, next time.Time, reason string) (err error) {
	defer wrapErr(&err, "store.MarkMailRetry(%d)", id)
	next = utc(next)
	return s.finishMail(ctx, id, lease, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Set("next_attempt_at = ?", next).Set("last_error = ?", mailReason(reason))
	})
}

// MarkMailFailed gives up on the message held under lease: it stays in the outbox with status
// failed and the reason. It is EConflict when the lease is no longer the message's.
func (s *Store) MarkMailFailed(ctx context.Context, id int64, lease time.Time, reason string) (err error) {
	defer wrapErr(&err, "store.MarkMailFailed(%d)", id)
	return s.finishMail(ctx, id, lease, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Set("status = ?", string(gatehouse.MailFailed)).Set("last_error = ?", mailReason(reason))
	})
}

// finishMail ends the lease on a pending message, applying set, only while that lease holds.
func (s *Store) finishMail(ctx context.Context, id int64, lease time.Time, set func(*bun.UpdateQuery) *bun.UpdateQuery) error {
	lease = utc(lease)
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewUpdate().Model((*mailRow)(nil)).Set("locked_until = NULL")
		res, err := set(q).
			Where("id = ?", id).
			Where("status = ?", string(gatehouse.MailPending)).
			Where("locked_until = ?", lease).
			Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return gatehouse.Errorf(gatehouse.EConflict, "the lease on mail %d was lost", id)
		}
		return nil
	})
}

// MailByID returns one outbox message or ENotFound.
func (s *Store) MailByID(ctx context.Context, id int64) (m *gatehouse.OutboxMail, err error) {
	defer wrapErr(&err, "store.MailByID(%d)", id)
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := new(mailRow)
		if err := tx.NewSelect().Model(row).Where("id = ?", id).Scan(ctx); err != nil {
			return notFound(err, "mail not found")
		}
		d := row.toDomain()
		m = &d
		return nil
	})
	return m, err
}

// ListMail lists outbox messages, newest first, for the admin view: those with the given status,
// or all when status is empty. limit <= 0 means 100; at most 1000 are returned.
func (s *Store) ListMail(ctx context.Context, status string, limit int) (ms []gatehouse.OutboxMail, err error) {
	defer wrapErr(&err, "store.ListMail(%q, %d)", status, limit)
	if status != "" && !gatehouse.MailStatus(status).Valid() {
		return nil, gatehouse.FieldError("status", "must be pending, sent or failed")
	}
	if limit <= 0 {
		limit = defaultMailList
	}
	limit = min(limit, maxMailList)
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []mailRow
		q := tx.NewSelect().Model(&rows).OrderExpr("id DESC").Limit(int64(limit))
		if status != "" {
			q = q.Where("status = ?", status)
		}
		if err := q.Scan(ctx); err != nil {
			return err
		}
		ms = make([]gatehouse.OutboxMail, len(rows))
		for i := range rows {
			ms[i] = rows[i].toDomain()
		}
		return nil
	})
	return ms, err
}
