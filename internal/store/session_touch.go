package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// TouchSession records that a session was used at now, unless it was already recorded as used
// at or after notBefore. Page sessions are not refreshed through refresh tokens, so this is what
// keeps them in the active-session list and inside the idle limit; the condition makes it one
// cheap UPDATE that usually changes nothing, and never moves last_used_at backwards.
func (s *Store) TouchSession(ctx context.Context, id string, now, notBefore time.Time) (err error) {
	defer wrapErr(&err, "store.TouchSession")
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewUpdate().Model((*sessionRow)(nil)).Set("last_used_at = ?", utc(now)).
			Where("id = ?", id).Where("last_used_at < ?", utc(notBefore)).Exec(ctx)
		return err
	})
}

// RenewSessionAuth records that the account proved its password (or a factor) again in session
// id at at: the session's auth time, which later access tokens of the session carry as
// auth_time and which makes it fresh for credential changes. It never moves backwards. An
// unknown or revoked session is ENotFound.
func (s *Store) RenewSessionAuth(ctx context.Context, id string, at time.Time) (err error) {
	defer wrapErr(&err, "store.RenewSessionAuth")
	at = utc(at)
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*sessionRow)(nil)).Set("auth_at = ?", at).
			Where("id = ? AND revoked_at IS NULL", id).Where("(auth_at IS NULL OR auth_at < ?)", at).Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		// Nothing changed: a later time is there already, or the session is gone.
		exists, err := tx.NewSelect().Model((*sessionRow)(nil)).Where("id = ? AND revoked_at IS NULL", id).Exists(ctx)
		if err != nil {
			return err
		}
		if !exists {
			return gatehouse.Errorf(gatehouse.ENotFound, "session not found")
		}
		return nil
	})
}
