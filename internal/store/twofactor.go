package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

type twoFactorRow struct {
	bun.BaseModel `bun:"table:two_factor,alias:tf"`

	UserID         int64      `bun:"user_id,pk"`
	TOTPSecret     *string    `bun:"totp_secret"`
	TOTPEnabledAt  *time.Time `bun:"totp_enabled_at"`
	TOTPLastStep   int64      `bun:"totp_last_step"`
	TOTPPending    *string    `bun:"totp_pending"`
	TOTPPendingAt  *time.Time `bun:"totp_pending_at"`
	EmailEnabledAt *time.Time `bun:"email_enabled_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
}

type recoveryCodeRow struct {
	bun.BaseModel `bun:"table:recovery_codes,alias:rc"`

	UserID    int64      `bun:"user_id,pk"`
	CodeHash  string     `bun:"code_hash,pk"`
	CreatedAt time.Time  `bun:"created_at"`
	UsedAt    *time.Time `bun:"used_at"`
}

// TwoFactor is what the store knows of a user's second factors (WebAuthn credentials live in
// their own table). Secrets are the encrypted form; only the auth service can read them.
type TwoFactor struct {
	UserID int64
	// TOTPSecret is the encrypted secret of the confirmed authenticator app; "" when none.
	TOTPSecret    string
	TOTPEnabledAt *time.Time
	// TOTPLastStep is the time step of the last code accepted; codes of it or earlier are refused.
	TOTPLastStep int64
	// TOTPPending is the encrypted secret of an enrolment not confirmed yet; "" when none.
	TOTPPending    string
	TOTPPendingAt  *time.Time
	EmailEnabledAt *time.Time
	// RecoveryCodesLeft counts the unused recovery codes.
	RecoveryCodesLeft int
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TwoFactorOf returns the user's second-factor state; a user who never enrolled gets the zero
// state (not ENotFound).
func (s *Store) TwoFactorOf(ctx context.Context, userID int64) (tf *TwoFactor, err error) {
	defer wrapErr(&err, "store.TwoFactorOf(%d)", userID)
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		tf = &TwoFactor{UserID: userID}
		row := new(twoFactorRow)
		switch err := tx.NewSelect().Model(row).Where("user_id = ?", userID).Scan(ctx); {
		case err == nil:
			tf.TOTPSecret, tf.TOTPEnabledAt, tf.TOTPLastStep = deref(row.TOTPSecret), utcPtr(row.TOTPEnabledAt), row.TOTPLastStep
			tf.TOTPPending, tf.TOTPPendingAt = deref(row.TOTPPending), utcPtr(row.TOTPPendingAt)
			tf.EmailEnabledAt = utcPtr(row.EmailEnabledAt)
		case !isNoRows(err):
			return err
		}
		n, err := tx.NewSelect().Model((*recoveryCodeRow)(nil)).Where("user_id = ? AND used_at IS NULL", userID).Count(ctx)
		tf.RecoveryCodesLeft = int(n)
		return err
	})
	return tf, err
}

// ensureTwoFactorRow inserts the user's row when it is missing. A concurrent insert by another
// request is a unique violation that makes the whole transaction retry (and then find the row).
func ensureTwoFactorRow(ctx context.Context, tx bun.Tx, userID int64, now time.Time) error {
	exists, err := tx.NewSelect().Model((*twoFactorRow)(nil)).Where("user_id = ?", userID).Exists(ctx)
	if err != nil || exists {
		return err
	}
	_, err = tx.NewInsert().Model(&twoFactorRow{UserID: userID, UpdatedAt: now}).Exec(ctx)
	return err
}

// inTxUniqueRetry is InTx that runs fn again (a few times) when it failed on a unique violation:
// the row fn inserts when missing was inserted concurrently, and the next round finds it.
func (s *Store) inTxUniqueRetry(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) (err error) {
	for range 3 {
		err = s.InTx(ctx, fn)
		if err == nil || !s.dialect.IsUniqueViolation(err) {
			return err
		}
	}
	return err
}

// SetPendingTOTP records the encrypted secret of a new, unconfirmed authenticator enrolment,
// replacing any earlier unconfirmed one. The confirmed secret, if any, keeps working.
func (s *Store) SetPendingTOTP(ctx context.Context, userID int64, encSecret string) (err error) {
	defer wrapErr(&err, "store.SetPendingTOTP(%d)", userID)
	now := utc(s.now())
	return s.inTxUniqueRetry(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := ensureTwoFactorRow(ctx, tx, userID, now); err != nil {
			return err
		}
		_, err := tx.NewUpdate().Model((*twoFactorRow)(nil)).Set("totp_pending = ?", encSecret).Set("totp_pending_at = ?", now).
			Set("updated_at = ?", now).Where("user_id = ?", userID).Exec(ctx)
		return err
	})
}

// ConfirmTOTP makes the pending secret encSecret the user's authenticator, with step as the last
// step used (the confirming code cannot be replayed at login). It is EConflict when the pending
// secret is no longer encSecret (a newer enrolment started, or this one was confirmed already).
func (s *Store) ConfirmTOTP(ctx context.Context, userID int64, encSecret string, step int64) (err error) {
	defer wrapErr(&err, "store.ConfirmTOTP(%d)", userID)
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*twoFactorRow)(nil)).
			Set("totp_secret = totp_pending").Set("totp_enabled_at = ?", now).Set("totp_last_step = ?", step).
			Set("totp_pending = NULL").Set("totp_pending_at = NULL").Set("updated_at = ?", now).
			Where("user_id = ? AND totp_pending = ?", userID, encSecret).Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return gatehouse.Errorf(gatehouse.EConflict, "this enrolment is no longer pending; start again")
		}
		return nil
	})
}

// DisableTOTP removes the user's authenticator (and any pending enrolment). It reports whether
// one was enabled.
func (s *Store) DisableTOTP(ctx context.Context, userID int64) (removed bool, err error) {
	defer wrapErr(&err, "store.DisableTOTP(%d)", userID)
	now := utc(s.now())
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*twoFactorRow)(nil)).
			Set("totp_secret = NULL").Set("totp_enabled_at = NULL").Set("totp_pending = NULL").Set("totp_pending_at = NULL").
			Set("updated_at = ?", now).Where("user_id = ? AND totp_secret IS NOT NULL", userID).Exec(ctx)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		removed = n > 0
		return err
	})
	return removed, err
}

// SetEmailTwoFactor turns emailed sign-in codes on or off for the user. It reports whether the
// state changed.
func (s *Store) SetEmailTwoFactor(ctx context.Context, userID int64, on bool) (changed bool, err error) {
	defer wrapErr(&err, "store.SetEmailTwoFactor(%d, %t)", userID, on)
	now := utc(s.now())
	err = s.inTxUniqueRetry(ctx, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewUpdate().Model((*twoFactorRow)(nil)).Set("updated_at = ?", now).Where("user_id = ?", userID)
		if on {
			if err := ensureTwoFactorRow(ctx, tx, userID, now); err != nil {
				return err
			}
			q = q.Set("email_enabled_at = ?", now).Where("email_enabled_at IS NULL")
		} else {
			q = q.Set("email_enabled_at = NULL").Where("email_enabled_at IS NOT NULL")
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		changed = n > 0
		return err
	})
	return changed, err
}

// UseTOTPStep records that a code of time step was accepted. It reports false, changing nothing,
// when a code of this step or a later one was accepted before (a replay) or the user has no
// authenticator. The conditional UPDATE makes this hold when instances race.
func (s *Store) UseTOTPStep(ctx context.Context, userID, step int64) (ok bool, err error) {
	defer wrapErr(&err, "store.UseTOTPStep(%d)", userID)
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		ok, err = useTOTPStep(ctx, tx, userID, step)
		return err
	})
	return ok, err
}

func useTOTPStep(ctx context.Context, tx bun.Tx, userID, step int64) (bool, error) {
	res, err := tx.NewUpdate().Model((*twoFactorRow)(nil)).Set("totp_last_step = ?", step).
		Where("user_id = ? AND totp_secret IS NOT NULL AND totp_last_step < ?", userID, step).Exec(ctx)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// ReplaceRecoveryCodes makes hashes the user's recovery codes; the old ones (used or not) stop
// working.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes []string) (err error) {
	defer wrapErr(&err, "store.ReplaceRecoveryCodes(%d)", userID)
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return replaceRecoveryCodes(ctx, tx, userID, hashes, now)
	})
}

func replaceRecoveryCodes(ctx context.Context, tx bun.Tx, userID int64, hashes []string, now time.Time) error {
	if _, err := tx.NewDelete().Model((*recoveryCodeRow)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return err
	}
	if len(hashes) == 0 {
		return nil
	}
	rows := make([]recoveryCodeRow, len(hashes))
	for i, h := range hashes {
		rows[i] = recoveryCodeRow{UserID: userID, CodeHash: h, CreatedAt: now}
	}
	_, err := tx.NewInsert().Model(&rows).Exec(ctx)
	return err
}

// AddRecoveryCodesIfNone stores hashes as the user's recovery codes when none is left unused,
// and reports whether it did (the caller shows the codes only then).
func (s *Store) AddRecoveryCodesIfNone(ctx context.Context, userID int64, hashes []string) (added bool, err error) {
	defer wrapErr(&err, "store.AddRecoveryCodesIfNone(%d)", userID)
	now := utc(s.now())
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		added = false
		n, err := tx.NewSelect().Model((*recoveryCodeRow)(nil)).Where("user_id = ? AND used_at IS NULL", userID).Count(ctx)
		if err != nil || n > 0 {
			return err
		}
		added = true
		return replaceRecoveryCodes(ctx, tx, userID, hashes, now)
	})
	return added, err
}

func useRecoveryCode(ctx context.Context, tx bun.Tx, userID int64, now time.Time, hash, legacy string) (bool, error) {
	hashes := []string{hash}
	if legacy != "" {
		hashes = append(hashes, legacy)
	}
	res, err := tx.NewUpdate().Model((*recoveryCodeRow)(nil)).Set("used_at = ?", now).
		Where("user_id = ? AND code_hash IN (?) AND used_at IS NULL", userID, bun.List(hashes)).Exec(ctx)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// ResetTwoFactor removes every second factor the store keeps for the user here (authenticator,
// email codes, recovery codes), their remembered devices and pending login challenges.
// WebAuthn credentials are removed by their own store method.
func (s *Store) ResetTwoFactor(ctx context.Context, userID int64) (err error) {
	defer wrapErr(&err, "store.ResetTwoFactor(%d)", userID)
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, m := range []any{(*twoFactorRow)(nil), (*recoveryCodeRow)(nil), (*challengeRow)(nil), (*rememberedDeviceRow)(nil)} {
			if _, err := tx.NewDelete().Model(m).Where("user_id = ?", userID).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
}

// RevokeOtherSessions ends every session of the user except keep (which may be "").
func (s *Store) RevokeOtherSessions(ctx context.Context, userID int64, keep, reason string) (err error) {
	defer wrapErr(&err, "store.RevokeOtherSessions(%d)", userID)
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewUpdate().Model((*sessionRow)(nil)).Set("revoked_at = ?", now).Set("revoke_reason = ?", reason).
			Where("user_id = ? AND id <> ? AND revoked_at IS NULL", userID, keep).Exec(ctx)
		return err
	})
}
