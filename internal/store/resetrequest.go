package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// ResetRequest is one forgot-password request, recorded by RequestReset.
type ResetRequest struct {
	Email     string // as typed; matched case-insensitively
	TokenHash string
	CodeHash  string
	ExpiresAt time.Time
	// Mail is the rendered reset message carrying the token and code; its To is ignored (the
	// account's stored address is used). Nil: no mail is queued and no token issued
	// (SECURITY_SEND_PASSWORD_RESET_EMAIL=false).
	Mail *gatehouse.OutboxMail
	// Audit is the reset_requested event; its subject is filled in from the account, if any.
	Audit gatehouse.AuditEvent
}

// RequestReset records a forgot-password request in one transaction whose statements are the
// same whether or not the address has an account, so that the answer takes the same time
// either way (issue 12, no user enumeration by timing): an INSERT … SELECT of the action token
// selecting the active account with that address (none: nothing inserted), the audit event,
// whose subject is the account's id or NULL, and the outbox mail, inserted always and deleted
// in the same transaction when there is no active account. The token, the mail and the event
// commit together or not at all, and the mail is delivered from the outbox after the answer.
func (s *Store) RequestReset(ctx context.Context, r ResetRequest) (err error) {
	defer wrapErr(&err, "store.RequestReset")
	if r.Mail != nil {
		r.Mail.To = r.Email // validated like any mail; the stored address replaces it below
		if err := validateMail(r.Mail); err != nil {
			return err
		}
	}
	now := utc(s.now())
	lower := NormalizeEmail(r.Email)
	ev := r.Audit
	if ev.At.IsZero() {
		ev.At = now
	}
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if r.Mail != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO action_tokens
				(token_hash, code_hash, purpose, user_id, stamp, created_at, expires_at)
				SELECT ?, ?, ?, id, security_stamp, ?, ? FROM users WHERE email_lower = ? AND active = ?`,
				r.TokenHash, r.CodeHash, PurposeReset, now, utc(r.ExpiresAt), lower, true); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_events
			(at, event, actor_id, subject_id, email, ip, user_agent, detail)
			VALUES (?, ?, NULL, (SELECT id FROM users WHERE email_lower = ?), ?, ?, ?, ?)`,
			utc(ev.At), ev.Event, lower, truncate(ev.Email, 320), truncate(ev.IP, 64),
			truncate(ev.UserAgent, 512), truncate(ev.Detail, 1000)); err != nil {
			return err
		}
		if r.Mail != nil {
			// The mail is the bulk of the writes: it is written for every request, and removed
			// again in the same transaction when the address has no active account, so that
			// both cases write the same pages and run the same statements.
			row := &mailRow{Recipient: r.Email, Subject: r.Mail.Subject, TextBody: r.Mail.Text, HTMLBody: r.Mail.HTML,
				Status: string(gatehouse.MailPending), NextAttemptAt: now, CreatedAt: now}
			if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM mail_outbox WHERE id = ?
				AND NOT EXISTS (SELECT 1 FROM users WHERE email_lower = ? AND active = ?)`, row.ID, lower, true); err != nil {
				return err
			}
			// The account's own spelling of its address, as every other mail uses.
			if _, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET recipient = (SELECT email FROM users WHERE email_lower = ?)
				WHERE id = ? AND EXISTS (SELECT 1 FROM users WHERE email_lower = ?)`, lower, row.ID, lower); err != nil {
				return err
			}
		}
		return nil
	})
}
