package store

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// An administrator ending one session, or revoking one API key, of a user: each with its audit
// event in the same transaction.

// EndUserSessionAudited ends session sessionID of user userID and records ev with it. A session
// that does not exist, belongs to another user or has ended already is ENotFound.
func (s *Store) EndUserSessionAudited(ctx context.Context, userID int64, sessionID, reason string, ev gatehouse.AuditEvent) (err error) {
	defer wrapErr(&err, "store.EndUserSession(user=%d)", userID)
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := utc(s.now())
		res, err := tx.NewUpdate().Model((*sessionRow)(nil)).Set("revoked_at = ?", now).Set("revoke_reason = ?", reason).
			Where("id = ?", sessionID).Where("user_id = ?", userID).Where("revoked_at IS NULL").Exec(ctx)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "session not found"); err != nil {
			return err
		}
		return insertAudits(ctx, tx, now, []gatehouse.AuditEvent{ev})
	})
}

// RevokeAPIKeyAudited revokes key id of user userID, as RevokeAPIKey does, and records the event
// audit makes of the key in the same transaction.
func (s *Store) RevokeAPIKeyAudited(ctx context.Context, userID, id int64, audit func(*gatehouse.APIKey) gatehouse.AuditEvent) (k *gatehouse.APIKey, err error) {
	defer wrapErr(&err, "store.RevokeAPIKeyAudited(user=%d, id=%d)", userID, id)
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := utc(s.now())
		if k, err = revokeAPIKey(ctx, tx, userID, id, now); err != nil {
			return err
		}
		return insertAudits(ctx, tx, now, []gatehouse.AuditEvent{audit(k)})
	})
	return k, err
}

// UserAPIKeys lists the user's keys that are not revoked, newest first, at most limit of them:
// the first page of APIKeys.
func (s *Store) UserAPIKeys(ctx context.Context, userID int64, limit int) ([]*gatehouse.APIKey, error) {
	return s.APIKeys(ctx, userID, nil, limit)
}
