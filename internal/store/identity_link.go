package store

import (
	"context"
	"errors"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// LinkOptions say how LinkIdentity treats the account it links an identity to.
type LinkOptions struct {
	// Check, when set, sees the account inside the transaction before anything changes; an
	// error from it aborts the link and is returned as it is (an inactive account, an admin
	// account that may not be linked automatically).
	Check func(u *gatehouse.User) error
	// NewStamp is the security stamp a never-confirmed account gets (NewSecurityStamp()).
	// Required.
	NewStamp string
	// Audit, when set, returns the audit events of the outcome; they are recorded in the same
	// transaction as the link. Their At is the transaction's time.
	Audit func(LinkOutcome) []gatehouse.AuditEvent
}

// LinkOutcome is what LinkIdentity did.
type LinkOutcome struct {
	// User is the account as it is after the link.
	User *gatehouse.User
	// Secured reports that the account had never been confirmed. Whoever registered it may not
	// own the address the identity provider vouches for (a pre-hijacked account), so everything
	// they could have set was taken away before the address counted as confirmed: the password,
	// the second factors (authenticator, email codes, recovery codes, security keys, remembered
	// devices), the pending one-time tokens and email changes (through the new security stamp),
	// every session and refresh token, and every API key.
	Secured bool
	// HadPassword says whether a password was removed.
	HadPassword bool
	// APIKeysRevoked is the number of API keys revoked.
	APIKeysRevoked int64
}

// LinkIdentity links id to the existing account id.UserID and marks the account's address
// confirmed. An account that had never been confirmed is secured first, in the same
// transaction (see LinkOutcome.Secured); a confirmed account keeps its credentials. A subject
// linked already is EConflict with reason identity_taken; an unknown user is ENotFound.
func (s *Store) LinkIdentity(ctx context.Context, id *Identity, o LinkOptions) (out LinkOutcome, err error) {
	defer wrapErr(&err, "store.LinkIdentity(user=%d, %q)", id.UserID, id.Provider)
	if err := validateIdentity(id); err != nil {
		return out, err
	}
	if o.NewStamp == "" {
		return out, errors.New("no new security stamp")
	}
	now := utc(s.now())
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		out = LinkOutcome{}
		u, err := s.userWhere(ctx, tx, "id = ?", id.UserID)
		if err != nil {
			return err
		}
		if o.Check != nil {
			if err := o.Check(u); err != nil {
				return err
			}
		}
		if u.ConfirmedAt == nil {
			out.Secured, out.HadPassword = true, u.PasswordHash != ""
			if out.APIKeysRevoked, err = s.secureUnconfirmed(ctx, tx, u.ID, o.NewStamp, "sso_link_unconfirmed"); err != nil {
				return err
			}
		}
		// The identity provider vouched for the address.
		if _, err := tx.NewUpdate().Model((*userRow)(nil)).Set("confirmed_at = ?", now).Set("updated_at = ?", now).
			Where("id = ? AND confirmed_at IS NULL", u.ID).Exec(ctx); err != nil {
			return err
		}
		if err := s.insertIdentity(ctx, tx, id); err != nil {
			return err
		}
		if out.User, err = s.userWhere(ctx, tx, "id = ?", u.ID); err != nil {
			return err
		}
		if o.Audit != nil {
			for _, ev := range o.Audit(out) {
				ev.At = now
				if err := insertAudit(ctx, tx, ev); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out, err
}

// secureUnconfirmed takes from a never-confirmed account everything its registrant could have
// set or obtained (see LinkOutcome.Secured), and returns how many API keys it revoked. reason
// is recorded on the revoked sessions.
func (s *Store) secureUnconfirmed(ctx context.Context, tx bun.Tx, userID int64, newStamp, reason string) (int64, error) {
	now := utc(s.now())
	// The new stamp ends every access token and remembered device, and voids every pending
	// one-time token (reset, confirmation, email change) issued under the old one.
	if _, err := tx.NewUpdate().Model((*userRow)(nil)).Set("password_hash = ''").Set("password_scheme = ''").
		Set("must_change_password = ?", false).Set("security_stamp = ?", newStamp).Set("updated_at = ?", now).
		Where("id = ?", userID).Exec(ctx); err != nil {
		return 0, err
	}
	if err := revokeSessions(ctx, tx, "user_id = ?", userID, now, reason); err != nil {
		return 0, err
	}
	n, err := revokeUserAPIKeys(ctx, tx, userID, now)
	if err != nil {
		return 0, err
	}
	for _, m := range []any{(*twoFactorRow)(nil), (*recoveryCodeRow)(nil), (*challengeRow)(nil), (*rememberedDeviceRow)(nil), (*actionTokenRow)(nil)} {
		if _, err := tx.NewDelete().Model(m).Where("user_id = ?", userID).Exec(ctx); err != nil {
			return 0, err
		}
	}
	if _, err := deleteUserWebAuthn(ctx, tx, userID); err != nil {
		return 0, err
	}
	return n, nil
}
