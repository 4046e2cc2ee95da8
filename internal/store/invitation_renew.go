package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// errInvitationFinal refuses to renew an invitation that was accepted or revoked.
var errInvitationFinal = gatehouse.Errorf(gatehouse.EConflict, "this invitation was accepted or revoked; invite the address again instead").WithReason("invitation_final")

// RenewInvitation gives a pending or expired invitation of the team a new link token and code,
// valid until expiresAt, and writes the audit event audit makes of it and its email (to the
// invited address), in one transaction: the old link and code stop working at once. An unknown
// invitation is ENotFound; an accepted or revoked one EConflict (invitation_final).
func (s *Store) RenewInvitation(ctx context.Context, teamID, id int64, tokenHash, codeHash string, expiresAt time.Time,
	mail *gatehouse.OutboxMail, audit func(*gatehouse.Invitation) gatehouse.AuditEvent) (inv *gatehouse.Invitation, err error) {
	defer wrapErr(&err, "store.RenewInvitation(team=%d, %d)", teamID, id)
	if tokenHash == "" || codeHash == "" {
		return nil, gatehouse.Errorf(gatehouse.EInternal, "an invitation needs its token and code hashes")
	}
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := utc(s.now())
		row := new(invitationRow)
		if err := tx.NewSelect().Model(row).Where("team_id = ? AND id = ?", teamID, id).Scan(ctx); err != nil {
			return notFound(err, "invitation not found")
		}
		res, err := tx.NewUpdate().Model((*invitationRow)(nil)).
			Set("token_hash = ?", tokenHash).Set("code_hash = ?", codeHash).Set("expires_at = ?", utc(expiresAt)).
			Where("id = ? AND accepted_at IS NULL AND revoked_at IS NULL", id).Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errInvitationFinal
		}
		row.TokenHash, row.CodeHash, row.ExpiresAt = tokenHash, codeHash, utc(expiresAt)
		inv = row.toInvitation()
		if audit != nil {
			if err := insertAuditAt(ctx, tx, audit(inv), now); err != nil {
				return err
			}
		}
		if mail == nil {
			return nil
		}
		m := *mail
		m.To = row.Email
		if err := validateMail(&m); err != nil {
			return err
		}
		return insertMail(ctx, tx, &m, now)
	})
	return inv, err
}
