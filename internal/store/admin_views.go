package store

import (
	"context"

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
