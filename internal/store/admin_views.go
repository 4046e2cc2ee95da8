package store

import (
	"context"
	"strconv"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// Admin views: the mail outbox and the audit trail, newest first, paged by id.

// MailQuery selects a page of the outbox (the domain's type).
type MailQuery = gatehouse.MailQuery

// ListMailPage returns one page of outbox messages, newest first, and whether more follow.
func (s *Store) ListMailPage(ctx context.Context, q MailQuery) (ms []gatehouse.OutboxMail, more bool, err error) {
	defer wrapErr(&err, "store.ListMailPage(%q, before=%d)", q.Status, q.BeforeID)
	if q.Status != "" && !q.Status.Valid() {
		return nil, false, gatehouse.FieldError("status", "must be pending, sent or failed")
	}
	if q.Limit < 1 || q.Limit > maxMailList {
		return nil, false, gatehouse.FieldError("limit", "must be from 1 to 1000")
	}
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []mailRow
		sel := tx.NewSelect().Model(&rows).OrderExpr("mo.id DESC").Limit(int64(q.Limit + 1))
		if q.Status != "" {
			sel = sel.Where("mo.status = ?", string(q.Status))
		}
		if q.BeforeID > 0 {
			sel = sel.Where("mo.id < ?", q.BeforeID)
		}
		if err := sel.Scan(ctx); err != nil {
			return err
		}
		more = len(rows) > q.Limit
		rows = rows[:min(len(rows), q.Limit)]
		ms = make([]gatehouse.OutboxMail, len(rows))
		for i := range rows {
			ms[i] = rows[i].toDomain()
		}
		return nil
	})
	return ms, more, err
}

// AuditQuery selects a page of the audit trail (the domain's type).
type AuditQuery = gatehouse.AuditQuery

// ListAuditPage returns one page of audit events, newest first, and whether more follow.
func (s *Store) ListAuditPage(ctx context.Context, q AuditQuery) (evs []gatehouse.AuditEvent, more bool, err error) {
	defer wrapErr(&err, "store.ListAuditPage(subject=%d, actor=%d, event=%q, before=%d)", q.SubjectID, q.ActorID, q.Event, q.BeforeID)
	if q.Limit < 1 || q.Limit > maxUserListLimit {
		return nil, false, gatehouse.FieldError("limit", "must be from 1 to 1000")
	}
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []auditRow
		sel := tx.NewSelect().Model(&rows).OrderExpr("ae.id DESC").Limit(int64(q.Limit + 1))
		if q.SubjectID > 0 {
			sel = sel.Where("ae.subject_id = ?", q.SubjectID)
		}
		if q.ActorID > 0 {
			sel = sel.Where("ae.actor_id = ?", q.ActorID)
		}
		if q.Event != "" {
			sel = sel.Where("ae.event = ?", q.Event)
		}
		if !q.Since.IsZero() {
			sel = sel.Where("ae.at >= ?", utc(q.Since))
		}
		if !q.Until.IsZero() {
			sel = sel.Where("ae.at < ?", utc(q.Until))
		}
		if q.BeforeID > 0 {
			sel = sel.Where("ae.id < ?", q.BeforeID)
		}
		if err := sel.Scan(ctx); err != nil {
			return err
		}
		more = len(rows) > q.Limit
		rows = rows[:min(len(rows), q.Limit)]
		evs = make([]gatehouse.AuditEvent, len(rows))
		for i, r := range rows {
			evs[i] = gatehouse.AuditEvent{ID: r.ID, At: utc(r.At), Event: r.Event, ActorID: r.ActorID, SubjectID: r.SubjectID,
				Email: r.Email, IP: r.IP, UserAgent: r.UserAgent, Detail: r.Detail}
		}
		return nil
	})
	return evs, more, err
}

// RetryMailAudited puts a failed outbox message back in the queue, due now, with its attempt
// count and last error cleared, and records ev (its detail gets the message id) in the same
// transaction. A message that does not exist is ENotFound; one that has not failed (pending or
// sent) is EConflict: only a failed message is retried, so a retry never sends a mail twice.
func (s *Store) RetryMailAudited(ctx context.Context, id int64, ev gatehouse.AuditEvent) (m *gatehouse.OutboxMail, err error) {
	defer wrapErr(&err, "store.RetryMail(%d)", id)
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := utc(s.now())
		// One conditional update: of two admins retrying at once, one wins and the other is
		// told the message is pending again.
		res, err := tx.NewUpdate().Model((*mailRow)(nil)).
			Set("status = ?", string(gatehouse.MailPending)).Set("attempts = 0").Set("next_attempt_at = ?", now).
			Set("last_error = ''").Set("locked_until = NULL").
			Where("id = ?", id).Where("status = ?", string(gatehouse.MailFailed)).Exec(ctx)
		if err != nil {
			return err
		}
		row := new(mailRow)
		if err := tx.NewSelect().Model(row).Where("id = ?", id).Scan(ctx); err != nil {
			return notFound(err, "mail not found")
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return gatehouse.Errorf(gatehouse.EConflict, "only a failed mail can be retried; this one is %s", row.Status).WithReason("mail_not_failed")
		}
		ev.Detail = "mail " + strconv.FormatInt(id, 10)
		if err := insertAudits(ctx, tx, now, []gatehouse.AuditEvent{ev}); err != nil {
			return err
		}
		mm := row.toDomain()
		m = &mm
		return nil
	})
	return m, err
}
