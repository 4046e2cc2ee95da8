package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

type auditRow struct {
	bun.BaseModel `bun:"table:audit_events,alias:ae"`

	ID        int64     `bun:"id,pk,autoincrement"`
	At        time.Time `bun:"at"`
	Event     string    `bun:"event"`
	ActorID   *int64    `bun:"actor_id"`
	SubjectID *int64    `bun:"subject_id"`
	Email     string    `bun:"email"`
	IP        string    `bun:"ip"`
	UserAgent string    `bun:"user_agent"`
	Detail    string    `bun:"detail"`
}

// RecordAudit stores an audit event; At defaults to now.
func (s *Store) RecordAudit(ctx context.Context, ev gatehouse.AuditEvent) (err error) {
	defer wrapErr(&err, "store.RecordAudit(%s)", ev.Event)
	if ev.At.IsZero() {
		ev.At = s.now()
	}
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error { return insertAudit(ctx, tx, ev) })
}

// insertAudit records ev in tx, for a change whose audit event must commit (or roll back) with
// it. ev.At must be set.
func insertAudit(ctx context.Context, tx bun.Tx, ev gatehouse.AuditEvent) error {
	_, err := tx.NewInsert().Model(&auditRow{
		At: utc(ev.At), Event: ev.Event, ActorID: ev.ActorID, SubjectID: ev.SubjectID,
		Email: truncate(ev.Email, 320), IP: truncate(ev.IP, 64), UserAgent: truncate(ev.UserAgent, 512),
		Detail: truncate(ev.Detail, 1000),
	}).Exec(ctx)
	return err
}

// AuditEvents lists the newest events first, optionally only those about one user
// (subjectID > 0) or of one kind (event != "").
func (s *Store) AuditEvents(ctx context.Context, subjectID int64, event string, limit int) (evs []gatehouse.AuditEvent, err error) {
	defer wrapErr(&err, "store.AuditEvents")
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []auditRow
		q := tx.NewSelect().Model(&rows).OrderExpr("id DESC").Limit(int64(limit))
		if subjectID > 0 {
			q = q.Where("subject_id = ?", subjectID)
		}
		if event != "" {
			q = q.Where("event = ?", event)
		}
		if err := q.Scan(ctx); err != nil {
			return err
		}
		evs = make([]gatehouse.AuditEvent, len(rows))
		for i, r := range rows {
			evs[i] = gatehouse.AuditEvent{ID: r.ID, At: utc(r.At), Event: r.Event, ActorID: r.ActorID, SubjectID: r.SubjectID,
				Email: r.Email, IP: r.IP, UserAgent: r.UserAgent, Detail: r.Detail}
		}
		return nil
	})
	return evs, err
}
