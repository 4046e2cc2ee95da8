package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// webSessionRow is the web_sessions table: the server-side half of a page session (see
// internal/web). The key is a hash of the cookie's token, never the token itself.
type webSessionRow struct {
	bun.BaseModel `bun:"table:web_sessions,alias:ws"`

	TokenHash string    `bun:"token_hash,pk"`
	Data      []byte    `bun:"data"`
	ExpiresAt time.Time `bun:"expires_at"`
}

// WebSessionMaxTokenLen is the longest token key the table holds.
const WebSessionMaxTokenLen = 64

var errInvalidWebToken = gatehouse.Errorf(gatehouse.EInvalid, "web session token must be 1 to 64 characters")

// FindWebSession returns the data of an unexpired web session. An unknown, expired or
// malformed token is found=false with a nil error, as the session library expects.
func (s *Store) FindWebSession(ctx context.Context, tokenHash string) (data []byte, found bool, err error) {
	defer wrapErr(&err, "store.FindWebSession")
	if tokenHash == "" || len(tokenHash) > WebSessionMaxTokenLen {
		return nil, false, nil
	}
	now := utc(s.now())
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := new(webSessionRow)
		err := tx.NewSelect().Model(row).Where("token_hash = ?", tokenHash).Where("expires_at > ?", now).Scan(ctx)
		if isNoRows(err) {
			return nil
		}
		if err != nil {
			return err
		}
		data, found = row.Data, true
		return nil
	})
	return data, found, err
}

// CommitWebSession stores (or replaces) a web session's data and expiry. Every instance shares
// the table, so a session started on one is known to all.
func (s *Store) CommitWebSession(ctx context.Context, tokenHash string, data []byte, expiresAt time.Time) (err error) {
	defer wrapErr(&err, "store.CommitWebSession")
	if tokenHash == "" || len(tokenHash) > WebSessionMaxTokenLen {
		return errInvalidWebToken
	}
	if data == nil {
		data = []byte{} // NOT NULL: an empty session is still a session
	}
	exp := utc(expiresAt)
	for range 3 {
		err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			// Update first: a session is committed on most requests that change it, and created
			// once. Rows affected counts matched rows on every engine (ClientFoundRows on MySQL).
			res, err := tx.NewUpdate().Model((*webSessionRow)(nil)).Set("data = ?", data).Set("expires_at = ?", exp).
				Where("token_hash = ?", tokenHash).Exec(ctx)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n > 0 {
				return err
			}
			_, err = tx.NewInsert().Model(&webSessionRow{TokenHash: tokenHash, Data: data, ExpiresAt: exp}).Exec(ctx)
			return err
		})
		// Two requests of a new session racing to create it: the loser updates instead.
		if err == nil || !s.dialect.IsUniqueViolation(err) {
			break
		}
	}
	return err
}

// DeleteWebSession removes a web session; an unknown token is not an error.
func (s *Store) DeleteWebSession(ctx context.Context, tokenHash string) (err error) {
	defer wrapErr(&err, "store.DeleteWebSession")
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewDelete().Model((*webSessionRow)(nil)).Where("token_hash = ?", tokenHash).Exec(ctx)
		return err
	})
}

// webSessionCleanupBatch bounds one cleanup transaction, so that it stays small (Galera
// certifies whole write sets) however many sessions expired meanwhile.
const webSessionCleanupBatch = 500

// DeleteExpiredWebSessions removes web sessions that expired, in small batches, and returns how
// many it removed. Expired rows are never found anyway; this only keeps the table small.
func (s *Store) DeleteExpiredWebSessions(ctx context.Context) (removed int64, err error) {
	defer wrapErr(&err, "store.DeleteExpiredWebSessions")
	now := utc(s.now())
	for {
		var n int64
		err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			var hashes []string
			if err := tx.NewSelect().Model((*webSessionRow)(nil)).Column("token_hash").Where("expires_at <= ?", now).
				OrderExpr("expires_at").Limit(webSessionCleanupBatch).Scan(ctx, &hashes); err != nil {
				return err
			}
			if len(hashes) == 0 {
				n = 0
				return nil
			}
			res, err := tx.NewDelete().Model((*webSessionRow)(nil)).Where("token_hash IN (?)", bun.List(hashes)).
				Where("expires_at <= ?", now).Exec(ctx)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return removed, err
		}
		removed += n
		if n < webSessionCleanupBatch {
			return removed, nil
		}
	}
}

// WebSessionStore is the web_sessions table as the pages' session manager (scs) wants it:
// Find, Commit and Delete, with and without a context. Get it with (*Store).WebSessions.
type WebSessionStore struct{ s *Store }

// WebSessions returns the page-session store over this store.
func (s *Store) WebSessions() WebSessionStore { return WebSessionStore{s: s} }

// FindCtx returns the data of an unexpired session (scs.CtxStore).
func (w WebSessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	return w.s.FindWebSession(ctx, token)
}

// CommitCtx stores a session's data and expiry (scs.CtxStore).
func (w WebSessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	return w.s.CommitWebSession(ctx, token, b, expiry)
}

// DeleteCtx removes a session (scs.CtxStore).
func (w WebSessionStore) DeleteCtx(ctx context.Context, token string) error {
	return w.s.DeleteWebSession(ctx, token)
}

// Find is FindCtx without a context (scs.Store).
func (w WebSessionStore) Find(token string) ([]byte, bool, error) {
	return w.FindCtx(context.Background(), token)
}

// Commit is CommitCtx without a context (scs.Store).
func (w WebSessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return w.CommitCtx(context.Background(), token, b, expiry)
}

// Delete is DeleteCtx without a context (scs.Store).
func (w WebSessionStore) Delete(token string) error { return w.DeleteCtx(context.Background(), token) }
