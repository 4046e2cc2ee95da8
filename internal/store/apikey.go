package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// apiKeyRow is the api_keys table. Only the SHA-256 hash of a key's secret is stored.
type apiKeyRow struct {
	bun.BaseModel `bun:"table:api_keys,alias:ak"`

	ID         int64      `bun:"id,pk,autoincrement"`
	UserID     int64      `bun:"user_id"`
	Name       string     `bun:"name"`
	Prefix     string     `bun:"prefix"`
	SecretHash string     `bun:"secret_hash"`
	Scopes     string     `bun:"scopes"`
	Stamp      string     `bun:"stamp"`
	CreatedAt  time.Time  `bun:"created_at"`
	ExpiresAt  *time.Time `bun:"expires_at"`
	LastUsedAt *time.Time `bun:"last_used_at"`
	RevokedAt  *time.Time `bun:"revoked_at"`
	// ParentKeyID is the key that made this one (keys made by keys, before that was refused).
	ParentKeyID *int64 `bun:"parent_key_id"`
}

func (r *apiKeyRow) toDomain() *gatehouse.APIKey {
	scopes, _ := gatehouse.ParseScopes(r.Scopes)
	return &gatehouse.APIKey{
		ID: r.ID, UserID: r.UserID, Name: r.Name, Prefix: r.Prefix, Scopes: scopes, Stamp: r.Stamp,
		CreatedAt: utc(r.CreatedAt), ExpiresAt: utcPtr(r.ExpiresAt), LastUsedAt: utcPtr(r.LastUsedAt),
		RevokedAt: utcPtr(r.RevokedAt), ParentKeyID: r.ParentKeyID,
	}
}

// APIKeyCursor is the position after which a page of APIKeys starts: the created_at and id of
// the last key of the previous page (keys are listed newest first). It is the domain's type.
type APIKeyCursor = gatehouse.APIKeyPosition

// CreateAPIKey stores k with the hash of its secret and fills in its ID and CreatedAt. The
// caller chose the secret, its prefix, the scopes and the owner's current security stamp.
func (s *Store) CreateAPIKey(ctx context.Context, k *gatehouse.APIKey, secretHash string) (err error) {
	defer wrapErr(&err, "store.CreateAPIKey(user=%d)", k.UserID)
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := &apiKeyRow{
			UserID: k.UserID, Name: k.Name, Prefix: k.Prefix, SecretHash: secretHash,
			Scopes: gatehouse.FormatScopes(k.Scopes), Stamp: k.Stamp, CreatedAt: now, ExpiresAt: utcPtr(k.ExpiresAt),
			ParentKeyID: k.ParentKeyID,
		}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return err
		}
		k.ID, k.CreatedAt, k.ExpiresAt = row.ID, now, row.ExpiresAt
		return nil
	})
}

// APIKeyBySecret is in principal.go: with Principal, it is what every request authenticates with.

// TouchAPIKey records that key id was used now, unless that was already recorded less than
// every ago, and reports whether it wrote. The condition is in the UPDATE itself, so a burst of
// concurrent requests with one key writes once, and a busy key costs one write per interval
// rather than one per request.
func (s *Store) TouchAPIKey(ctx context.Context, id int64, every time.Duration) (touched bool, err error) {
	defer wrapErr(&err, "store.TouchAPIKey(%d)", id)
	now := utc(s.now())
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*apiKeyRow)(nil)).Set("last_used_at = ?", now).
			Where("id = ?", id).Where("(last_used_at IS NULL OR last_used_at < ?)", now.Add(-every)).Exec(ctx)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		touched = n > 0
		return err
	})
	return touched, err
}

// APIKeys lists a user's keys that have not been revoked, newest first, at most limit of them,
// starting after the cursor (nil: from the newest). Expired keys and keys whose stamp is stale
// are listed too, so that their owner sees why they stopped working.
func (s *Store) APIKeys(ctx context.Context, userID int64, after *APIKeyCursor, limit int) (out []*gatehouse.APIKey, err error) {
	defer wrapErr(&err, "store.APIKeys(%d)", userID)
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []apiKeyRow
		q := tx.NewSelect().Model(&rows).Where("user_id = ?", userID).Where("revoked_at IS NULL")
		if after != nil {
			at := utc(after.CreatedAt)
			q = q.Where("(created_at < ? OR (created_at = ? AND id < ?))", at, at, after.ID)
		}
		if err := q.OrderExpr("created_at DESC, id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
			return err
		}
		out = make([]*gatehouse.APIKey, len(rows))
		for i := range rows {
			out[i] = rows[i].toDomain()
		}
		return nil
	})
	return out, err
}

// RevokeAPIKey revokes the user's key id and returns it. A key that does not exist, belongs to
// another user or is revoked already is ENotFound, so nobody learns about others' keys.
func (s *Store) RevokeAPIKey(ctx context.Context, userID, id int64) (k *gatehouse.APIKey, err error) {
	defer wrapErr(&err, "store.RevokeAPIKey(user=%d, id=%d)", userID, id)
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		k, err = revokeAPIKey(ctx, tx, userID, id, utc(s.now()))
		return err
	})
	return k, err
}

// revokeAPIKey revokes the user's key id in tx (ENotFound as for RevokeAPIKey) and returns it.
func revokeAPIKey(ctx context.Context, tx bun.Tx, userID, id int64, now time.Time) (*gatehouse.APIKey, error) {
	row := new(apiKeyRow)
	if err := tx.NewSelect().Model(row).Where("id = ?", id).Where("user_id = ?", userID).
		Where("revoked_at IS NULL").Scan(ctx); err != nil {
		return nil, notFound(err, "API key not found")
	}
	res, err := tx.NewUpdate().Model((*apiKeyRow)(nil)).Set("revoked_at = ?", now).
		Where("id = ?", id).Where("revoked_at IS NULL").Exec(ctx)
	if err != nil {
		return nil, err
	}
	if err := mustAffect(res, "API key not found"); err != nil {
		return nil, err
	}
	row.RevokedAt = &now
	return row.toDomain(), nil
}

// RevokeUserAPIKeys revokes every key of a user that is not revoked yet and reports how many.
func (s *Store) RevokeUserAPIKeys(ctx context.Context, userID int64) (n int64, err error) {
	defer wrapErr(&err, "store.RevokeUserAPIKeys(%d)", userID)
	now := utc(s.now())
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, err = revokeUserAPIKeys(ctx, tx, userID, now)
		return err
	})
	return n, err
}

// revokeUserAPIKeys is RevokeUserAPIKeys inside the caller's transaction. Deactivating a user
// should call it beside revokeSessions, so that reactivating the account does not bring its old
// keys back (an inactive owner's keys are refused either way).
func revokeUserAPIKeys(ctx context.Context, tx bun.Tx, userID int64, now time.Time) (int64, error) {
	res, err := tx.NewUpdate().Model((*apiKeyRow)(nil)).Set("revoked_at = ?", now).
		Where("user_id = ?", userID).Where("revoked_at IS NULL").Exec(ctx)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
