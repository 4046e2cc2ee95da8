package store

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// optString maps "" to NULL.
func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// errEmailTaken is the EConflict a change of address gets when another account has the new
// address. It names the field new_email.
func errEmailTaken(cause error) error {
	return &gatehouse.Error{Code: gatehouse.EConflict, Message: "new_email: is already used by another account",
		Fields: map[string]string{"new_email": "is already used by another account"}, Err: cause}
}

// EmailChange is the outcome of ChangeEmailWithToken.
type EmailChange struct {
	User     *gatehouse.User // the account, with its new address and security stamp
	OldEmail string
}

// ChangeEmailWithToken consumes a change-email token and moves its user to the address the
// token carries, in one transaction: the address is marked confirmed (the link or code proved
// it), the security stamp becomes newStamp and every session ends. check runs inside the
// transaction on the token's user before anything is written. An address another account has
// meanwhile is EConflict naming new_email, and nothing changes (the token stays usable).
func (s *Store) ChangeEmailWithToken(ctx context.Context, hash, newStamp string, check func(*gatehouse.User) error) (ch *EmailChange, err error) {
	defer wrapErr(&err, "store.ChangeEmailWithToken")
	now := utc(s.now())
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row, u, err := s.findActionToken(ctx, tx, PurposeEmailChange, hash, now)
		if err != nil {
			return err
		}
		if row.NewEmail == nil || *row.NewEmail == "" {
			return gatehouse.Errorf(gatehouse.ENotFound, "the link or code is invalid or has expired")
		}
		if err := check(u); err != nil {
			return err
		}
		if err := consumeActionToken(ctx, tx, row.TokenHash, now); err != nil {
			return err
		}
		next := *row.NewEmail
		// Checked before the UPDATE so that PostgreSQL's transaction is not aborted by the
		// violation in the common case; the unique index still decides under a race.
		taken, err := tx.NewSelect().Model((*userRow)(nil)).Where("email_lower = ?", NormalizeEmail(next)).Where("id <> ?", u.ID).Exists(ctx)
		if err != nil {
			return err
		}
		if taken {
			return errEmailTaken(nil)
		}
		if confusable, err := confusableTaken(ctx, tx, next, u.ID); err != nil {
			return err
		} else if confusable {
			return errEmailConfusable("new_email")
		}
		_, err = tx.NewUpdate().Model((*userRow)(nil)).Set("email = ?", next).Set("email_lower = ?", NormalizeEmail(next)).
			Set("email_skeleton = ?", EmailSkeleton(next)).
			Set("confirmed_at = ?", now).Set("security_stamp = ?", newStamp).Set("updated_at = ?", now).
			Where("id = ?", u.ID).Exec(ctx)
		if err != nil {
			if s.dialect.IsUniqueViolation(err) {
				return errEmailTaken(err)
			}
			return err
		}
		if err := revokeSessions(ctx, tx, "user_id = ?", u.ID, now, "email_change"); err != nil {
			return err
		}
		old := u.Email
		u.Email, u.ConfirmedAt, u.SecurityStamp, u.UpdatedAt = next, &now, newStamp, now
		ch = &EmailChange{User: u, OldEmail: old}
		return nil
	})
	return ch, err
}
