package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

type ssoReplayRow struct {
	bun.BaseModel `bun:"table:sso_replay,alias:sr"`

	IDHash    string    `bun:"id_hash,pk"`
	ExpiresAt time.Time `bun:"expires_at"`
}

// errReplayed is what ConsumeOnce returns for an id it has seen.
var errReplayed = gatehouse.Errorf(gatehouse.EConflict, "this sign-in message has been used already").WithReason("replayed")

// ConsumeOnce records that the one-time message id (a SAML assertion id) has been accepted and
// may not be accepted again before expiresAt; after that the message is refused as expired
// anyway, so its row may go. It is EConflict (reason "replayed") when id was recorded already,
// by this instance or any other: the unique key decides, on every engine and across Galera
// nodes. Rows past their expiry are purged now and then, outside the caller's transaction.
func (s *Store) ConsumeOnce(ctx context.Context, id string, expiresAt time.Time) (err error) {
	defer wrapErr(&err, "store.ConsumeOnce")
	sum := sha256.Sum256([]byte(id))
	row := &ssoReplayRow{IDHash: hex.EncodeToString(sum[:]), ExpiresAt: utc(expiresAt)}
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			if s.dialect.IsUniqueViolation(err) {
				return errReplayed
			}
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Purge in a transaction of its own, and only from one call in sixteen (by the hash, which
	// is random enough), so that concurrent sign-ins rarely delete the same rows (a conflict on
	// Galera) and a failed purge never refuses a sign-in.
	if row.IDHash[0] == '0' {
		if perr := s.PurgeReplay(ctx); perr != nil {
			s.log.Warn("purging expired SSO replay records failed", "error", perr)
		}
	}
	return nil
}

// PurgeReplay deletes the replay records whose messages have expired.
func (s *Store) PurgeReplay(ctx context.Context) (err error) {
	defer wrapErr(&err, "store.PurgeReplay")
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewDelete().Model((*ssoReplayRow)(nil)).Where("expires_at < ?", now).Exec(ctx)
		return err
	})
}
