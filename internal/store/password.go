package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// PasswordUpdate is a new password hash for a user.
type PasswordUpdate struct {
	Hash   string
	Scheme string
	// NewStamp, when set, replaces the security stamp: every session and token of the user ends.
	NewStamp string
	// ClearMustChange lifts the must-change-password flag.
	ClearMustChange bool
	// Confirm marks the email confirmed (a reset by mail proves the address).
	Confirm bool
}

// SetPassword stores a new password hash. With NewStamp set, it also revokes every session.
func (s *Store) SetPassword(ctx context.Context, userID int64, pw PasswordUpdate) (err error) {
	defer wrapErr(&err, "store.SetPassword(%d)", userID)
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		u, err := s.userWhere(ctx, tx, "id = ?", userID)
		if err != nil {
			return err
		}
		return s.setPassword(ctx, tx, u, pw, now, "password_change")
	})
}

func (s *Store) setPassword(ctx context.Context, tx bun.Tx, u *gatehouse.User, pw PasswordUpdate, now time.Time, reason string) error {
	q := tx.NewUpdate().Model((*userRow)(nil)).Set("password_hash = ?", pw.Hash).Set("password_scheme = ?", pw.Scheme).
		Set("updated_at = ?", now).Where("id = ?", u.ID)
	if pw.NewStamp != "" {
		q = q.Set("security_stamp = ?", pw.NewStamp)
		u.SecurityStamp = pw.NewStamp
	}
	if pw.ClearMustChange {
		q = q.Set("must_change_password = ?", false)
		u.MustChangePassword = false
	}
	if pw.Confirm && u.ConfirmedAt == nil {
		q = q.Set("confirmed_at = ?", now)
		u.ConfirmedAt = &now
	}
	if _, err := q.Exec(ctx); err != nil {
		return err
	}
	u.PasswordHash, u.PasswordScheme = pw.Hash, pw.Scheme
	if pw.NewStamp != "" {
		return revokeSessions(ctx, tx, "user_id = ?", u.ID, now, reason)
	}
	return nil
}

// ResetAccess gives the user a new security stamp and revokes every session: every token and
// session ends at once (admin "reset access", logout-all).
func (s *Store) ResetAccess(ctx context.Context, userID int64, newStamp, reason string) (err error) {
	defer wrapErr(&err, "store.ResetAccess(%d)", userID)
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*userRow)(nil)).Set("security_stamp = ?", newStamp).Set("updated_at = ?", now).
			Where("id = ?", userID).Exec(ctx)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "user not found"); err != nil {
			return err
		}
		return revokeSessions(ctx, tx, "user_id = ?", userID, now, reason)
	})
}

// SetActive activates or deactivates a user; deactivation revokes every session and API key.
func (s *Store) SetActive(ctx context.Context, userID int64, active bool) (err error) {
	defer wrapErr(&err, "store.SetActive(%d, %v)", userID, active)
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*userRow)(nil)).Set("active = ?", active).Set("updated_at = ?", now).
			Where("id = ?", userID).Exec(ctx)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "user not found"); err != nil {
			return err
		}
		if !active {
			// Deactivation ends every session and revokes every API key for good: reactivating
			// the account does not bring them back.
			if _, err := revokeUserAPIKeys(ctx, tx, userID, now); err != nil {
				return err
			}
			return revokeSessions(ctx, tx, "user_id = ?", userID, now, "deactivated")
		}
		return nil
	})
}

// ListUsers returns users ordered by id, at most limit after the id after.
func (s *Store) ListUsers(ctx context.Context, after int64, limit int) (users []*gatehouse.User, err error) {
	defer wrapErr(&err, "store.ListUsers")
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []userRow
		if err := tx.NewSelect().Model(&rows).Where("id > ?", after).OrderExpr("id").Limit(int64(limit)).Scan(ctx); err != nil {
			return err
		}
		users = make([]*gatehouse.User, 0, len(rows))
		for i := range rows {
			roles, err := s.rolesOf(ctx, tx, rows[i].ID)
			if err != nil {
				return err
			}
			users = append(users, rows[i].toDomain(roles))
		}
		return nil
	})
	return users, err
}
