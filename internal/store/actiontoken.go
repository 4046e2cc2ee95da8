package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// Purposes of action tokens.
const (
	PurposeConfirm = "confirm"
	PurposeReset   = "reset"
	// PurposeEmailChange confirms a new address for an account; the token carries the address.
	PurposeEmailChange = "email_change"
)

type actionTokenRow struct {
	bun.BaseModel `bun:"table:action_tokens,alias:at"`

	TokenHash string     `bun:"token_hash,pk"`
	CodeHash  string     `bun:"code_hash"`
	Purpose   string     `bun:"purpose"`
	UserID    int64      `bun:"user_id"`
	Stamp     string     `bun:"stamp"`
	CreatedAt time.Time  `bun:"created_at"`
	ExpiresAt time.Time  `bun:"expires_at"`
	UsedAt    *time.Time `bun:"used_at"`
	NewEmail  *string    `bun:"new_email"`
}

// ActionToken is a one-time token mailed to a user: a long link token and a short code, both
// given here as hashes.
type ActionToken struct {
	TokenHash string
	CodeHash  string
	Purpose   string
	UserID    int64
	// Stamp is the user's security stamp when the token was issued; the token dies when it
	// changes (any password change or reset, admin reset-access).
	Stamp     string
	ExpiresAt time.Time
	// NewEmail is the address a change-email token confirms; empty for other purposes.
	NewEmail string
}

// CreateActionToken stores a token.
func (s *Store) CreateActionToken(ctx context.Context, t ActionToken) (err error) {
	defer wrapErr(&err, "store.CreateActionToken(%s, user=%d)", t.Purpose, t.UserID)
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewInsert().Model(&actionTokenRow{
			TokenHash: t.TokenHash, CodeHash: t.CodeHash, Purpose: t.Purpose, UserID: t.UserID,
			Stamp: t.Stamp, CreatedAt: now, ExpiresAt: utc(t.ExpiresAt), NewEmail: optString(t.NewEmail),
		}).Exec(ctx)
		return err
	})
}

// findActionToken returns the live token whose link-token hash or code hash is hash, and its
// user. A token that is used, expired, or issued under an older security stamp is ENotFound.
func (s *Store) findActionToken(ctx context.Context, tx bun.IDB, purpose, hash string, now time.Time) (*actionTokenRow, *gatehouse.User, error) {
	row := new(actionTokenRow)
	err := tx.NewSelect().Model(row).Where("purpose = ?", purpose).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("token_hash = ?", hash).WhereOr("code_hash = ?", hash)
		}).
		Where("used_at IS NULL").Where("expires_at > ?", now).Limit(1).Scan(ctx)
	if err != nil {
		return nil, nil, notFound(err, "the link or code is invalid or has expired")
	}
	u, err := s.userWhere(ctx, tx, "id = ?", row.UserID)
	if err != nil {
		return nil, nil, err
	}
	if u.SecurityStamp != row.Stamp {
		return nil, nil, gatehouse.Errorf(gatehouse.ENotFound, "the link or code is invalid or has expired")
	}
	return row, u, nil
}

// ActionTokenUser returns the user a live token belongs to, without consuming it.
func (s *Store) ActionTokenUser(ctx context.Context, purpose, hash string) (u *gatehouse.User, err error) {
	defer wrapErr(&err, "store.ActionTokenUser(%s)", purpose)
	now := utc(s.now())
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, u, err = s.findActionToken(ctx, tx, purpose, hash, now)
		return err
	})
	return u, err
}

// consumeActionToken marks the token used; a concurrent consumer makes it ENotFound.
func consumeActionToken(ctx context.Context, tx bun.Tx, tokenHash string, now time.Time) error {
	res, err := tx.NewUpdate().Model((*actionTokenRow)(nil)).Set("used_at = ?", now).
		Where("token_hash = ? AND used_at IS NULL", tokenHash).Exec(ctx)
	if err != nil {
		return err
	}
	return mustAffect(res, "the link or code is invalid or has expired")
}

// ConfirmWithToken consumes a confirmation token and marks its user confirmed, in one
// transaction.
func (s *Store) ConfirmWithToken(ctx context.Context, hash string) (u *gatehouse.User, err error) {
	defer wrapErr(&err, "store.ConfirmWithToken")
	now := utc(s.now())
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var row *actionTokenRow
		if row, u, err = s.findActionToken(ctx, tx, PurposeConfirm, hash, now); err != nil {
			return err
		}
		if err := consumeActionToken(ctx, tx, row.TokenHash, now); err != nil {
			return err
		}
		if u.ConfirmedAt == nil {
			if _, err := tx.NewUpdate().Model((*userRow)(nil)).Set("confirmed_at = ?", now).Set("updated_at = ?", now).
				Where("id = ?", u.ID).Exec(ctx); err != nil {
				return err
			}
			u.ConfirmedAt = &now
		}
		return nil
	})
	return u, err
}

// ResetWithToken consumes a reset token and sets the new password hash with a new security
// stamp (ending every session), in one transaction. check runs inside the transaction on the
// token's user before anything is written (the new password must differ from the current one).
func (s *Store) ResetWithToken(ctx context.Context, hash string, pw PasswordUpdate, check func(*gatehouse.User) error) (u *gatehouse.User, err error) {
	defer wrapErr(&err, "store.ResetWithToken")
	now := utc(s.now())
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var row *actionTokenRow
		if row, u, err = s.findActionToken(ctx, tx, PurposeReset, hash, now); err != nil {
			return err
		}
		if err := check(u); err != nil {
			return err
		}
		if err := consumeActionToken(ctx, tx, row.TokenHash, now); err != nil {
			return err
		}
		// Resetting through the mailed link also proves the address.
		pw.Confirm = true
		return s.setPassword(ctx, tx, u, pw, now, "password_reset")
	})
	return u, err
}
