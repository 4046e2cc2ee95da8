package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// The administration's writes that are not changes of the user row's fields: creating an
// account, ending its access, lifting its lockout, removing its second factors. Each is one
// transaction with its audit event and its mail, so that none happens without its record and
// no mail goes out for a change that rolled back.

// CreateAccount creates a.User (with its roles) and, in the same transaction, the confirmation
// token of its address, the audit event and the mail. a.User gets its ID, security stamp and
// times. A taken email is EConflict, as CreateUser.
func (s *Store) CreateAccount(ctx context.Context, a gatehouse.NewAccount) (err error) {
	u := a.User
	defer wrapErr(&err, "store.CreateAccount(%q)", u.Email)
	if a.Mail != nil {
		m := *a.Mail
		m.To = u.Email
		if err := validateMail(&m); err != nil {
			return err
		}
		a.Mail = &m
	}
	var created gatehouse.User
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		created = *u // a retried transaction starts again from the caller's user
		now := utc(s.now())
		if err := s.createUser(ctx, tx, &created); err != nil {
			return err
		}
		if t := a.Confirmation; t != nil {
			if _, err := tx.NewInsert().Model(&actionTokenRow{
				TokenHash: t.TokenHash, CodeHash: t.CodeHash, Purpose: PurposeConfirm, UserID: created.ID,
				Stamp: created.SecurityStamp, CreatedAt: now, ExpiresAt: utc(t.ExpiresAt),
			}).Exec(ctx); err != nil {
				return err
			}
		}
		if t := a.PasswordSetup; t != nil {
			if _, err := tx.NewInsert().Model(&actionTokenRow{
				TokenHash: t.TokenHash, CodeHash: t.CodeHash, Purpose: PurposeReset, UserID: created.ID,
				Stamp: created.SecurityStamp, CreatedAt: now, ExpiresAt: utc(t.ExpiresAt),
			}).Exec(ctx); err != nil {
				return err
			}
		}
		ev := a.Audit
		ev.SubjectID = &created.ID
		if err := insertAudits(ctx, tx, now, []gatehouse.AuditEvent{ev}); err != nil {
			return err
		}
		if a.Mail == nil {
			return nil
		}
		return insertMail(ctx, tx, a.Mail, now)
	})
	if err != nil {
		return err
	}
	*u = created
	return nil
}

// ResetAccessAudited is ResetAccess with ev recorded in the same transaction.
func (s *Store) ResetAccessAudited(ctx context.Context, userID int64, newStamp, reason string, ev gatehouse.AuditEvent) (err error) {
	defer wrapErr(&err, "store.ResetAccess(%d)", userID)
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := utc(s.now())
		res, err := tx.NewUpdate().Model((*userRow)(nil)).Set("security_stamp = ?", newStamp).Set("updated_at = ?", now).
			Where("id = ?", userID).Exec(ctx)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "user not found"); err != nil {
			return err
		}
		if err := revokeSessions(ctx, tx, "user_id = ?", userID, now, reason); err != nil {
			return err
		}
		return insertAudits(ctx, tx, now, []gatehouse.AuditEvent{ev})
	})
}

// ClearThrottleAudited is ClearThrottle (lifting a lockout and the backoff of keys) with ev
// recorded in the same transaction. The lockout shown on ev's subject (User.LockedUntil) is
// cleared with it.
func (s *Store) ClearThrottleAudited(ctx context.Context, keys []string, ev gatehouse.AuditEvent) (err error) {
	defer wrapErr(&err, "store.ClearThrottle")
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if len(keys) > 0 {
			if _, err := tx.NewDelete().Model((*throttleRow)(nil)).Where("throttle_key IN (?)", bun.List(keys)).Exec(ctx); err != nil {
				return err
			}
		}
		if ev.SubjectID != nil {
			if err := clearLockedUntil(ctx, tx, *ev.SubjectID); err != nil {
				return err
			}
		}
		return insertAudits(ctx, tx, utc(s.now()), []gatehouse.AuditEvent{ev})
	})
}

// LockUserAudited records on userID that its lockout runs until until (the lock itself is the
// throttle row RecordFailure wrote), with ev in the same transaction. A lockout already running
// longer is kept.
func (s *Store) LockUserAudited(ctx context.Context, userID int64, until time.Time, ev gatehouse.AuditEvent) (err error) {
	defer wrapErr(&err, "store.LockUser(%d)", userID)
	until = utc(until)
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model((*userRow)(nil)).Set("locked_until = ?", until).
			Where("id = ? AND (locked_until IS NULL OR locked_until < ?)", userID, until).Exec(ctx); err != nil {
			return err
		}
		return insertAudits(ctx, tx, utc(s.now()), []gatehouse.AuditEvent{ev})
	})
}

// ClearLockout forgets the failures of keys, as ClearThrottle does, and the lockout shown on
// userID: after a password reset, which proves control of the account.
func (s *Store) ClearLockout(ctx context.Context, userID int64, keys ...string) (err error) {
	defer wrapErr(&err, "store.ClearLockout(%d)", userID)
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*throttleRow)(nil)).Where("throttle_key IN (?)", bun.List(keys)).Exec(ctx); err != nil {
			return err
		}
		return clearLockedUntil(ctx, tx, userID)
	})
}

// clearLockedUntil clears the lockout shown on userID, writing only when one is set.
func clearLockedUntil(ctx context.Context, tx bun.Tx, userID int64) error {
	_, err := tx.NewUpdate().Model((*userRow)(nil)).Set("locked_until = NULL").
		Where("id = ? AND locked_until IS NOT NULL", userID).Exec(ctx)
	return err
}

// ResetTwoFactorAudited removes every second factor of userID (authenticator, email codes,
// recovery codes, remembered devices, pending challenges, security keys) and ends its sessions
// but keepSession (an admin resetting their own factors stays signed in where they are; ""
// ends every one). In the same transaction it records audit's event, made from the user and
// the number of security keys removed, and queues notice's mail to the user (notice nil, or
// returning nil: none). An unknown user is ENotFound.
func (s *Store) ResetTwoFactorAudited(ctx context.Context, userID int64, keepSession string,
	audit func(u *gatehouse.User, securityKeys int64) gatehouse.AuditEvent,
	notice func(u *gatehouse.User) (*gatehouse.OutboxMail, error)) (err error) {
	defer wrapErr(&err, "store.ResetTwoFactor(%d)", userID)
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := utc(s.now())
		u, err := s.userWhere(ctx, tx, "id = ?", userID)
		if err != nil {
			return err
		}
		for _, m := range []any{(*twoFactorRow)(nil), (*recoveryCodeRow)(nil), (*challengeRow)(nil), (*rememberedDeviceRow)(nil)} {
			if _, err := tx.NewDelete().Model(m).Where("user_id = ?", userID).Exec(ctx); err != nil {
				return err
			}
		}
		n, err := deleteUserWebAuthn(ctx, tx, userID)
		if err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*sessionRow)(nil)).Set("revoked_at = ?", now).Set("revoke_reason = ?", "two_factor_reset").
			Where("user_id = ? AND id <> ? AND revoked_at IS NULL", userID, keepSession).Exec(ctx); err != nil {
			return err
		}
		if audit != nil {
			if err := insertAudits(ctx, tx, now, []gatehouse.AuditEvent{audit(u, n)}); err != nil {
				return err
			}
		}
		if notice == nil {
			return nil
		}
		m, err := notice(u)
		if err != nil || m == nil {
			return err
		}
		mm := *m
		mm.To = u.Email
		if err := validateMail(&mm); err != nil {
			return err
		}
		return insertMail(ctx, tx, &mm, now)
	})
}

// insertAudits records evs in tx; an event without a time gets now.
func insertAudits(ctx context.Context, tx bun.Tx, now time.Time, evs []gatehouse.AuditEvent) error {
	for _, ev := range evs {
		if ev.At.IsZero() {
			ev.At = now
		}
		if err := insertAudit(ctx, tx, ev); err != nil {
			return err
		}
	}
	return nil
}
