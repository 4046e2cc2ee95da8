package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"
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
