package store

import (
	"context"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

type sessionRow struct {
	bun.BaseModel `bun:"table:sessions,alias:ss"`

	ID           string     `bun:"id,pk"`
	UserID       int64      `bun:"user_id"`
	Scope        string     `bun:"scope"`
	Remember     bool       `bun:"remember"`
	IP           string     `bun:"ip"`
	UserAgent    string     `bun:"user_agent"`
	CreatedAt    time.Time  `bun:"created_at"`
	AuthAt       *time.Time `bun:"auth_at"` // NULL in sessions older than the column: created_at
	LastUsedAt   time.Time  `bun:"last_used_at"`
	ExpiresAt    time.Time  `bun:"expires_at"`
	RevokedAt    *time.Time `bun:"revoked_at"`
	RevokeReason string     `bun:"revoke_reason"`
}

type refreshRow struct {
	bun.BaseModel `bun:"table:refresh_tokens,alias:rt"`

	TokenHash string     `bun:"token_hash,pk"`
	SessionID string     `bun:"session_id"`
	CreatedAt time.Time  `bun:"created_at"`
	UsedAt    *time.Time `bun:"used_at"`
}

func (r *sessionRow) toDomain() *gatehouse.Session {
	authAt := r.CreatedAt
	if r.AuthAt != nil {
		authAt = *r.AuthAt
	}
	return &gatehouse.Session{
		ID: r.ID, UserID: r.UserID, Scope: r.Scope, Remember: r.Remember, IP: r.IP, UserAgent: r.UserAgent,
		CreatedAt: utc(r.CreatedAt), AuthAt: utc(authAt), LastUsedAt: utc(r.LastUsedAt), ExpiresAt: utc(r.ExpiresAt),
		RevokedAt: utcPtr(r.RevokedAt), RevokeReason: r.RevokeReason,
	}
}

// truncate makes client-supplied text (User-Agent, audit details) storable: valid UTF-8 (a
// header may carry any byte, and PostgreSQL refuses invalid UTF-8 outright) of at most n bytes.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary so the stored text stays valid UTF-8.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// CreateSession stores a new session with its first refresh token (by hash). Its AuthAt is
// sess.AuthAt, or CreatedAt when zero (the sign-in that starts the session).
func (s *Store) CreateSession(ctx context.Context, sess *gatehouse.Session, refreshHash string) (err error) {
	defer wrapErr(&err, "store.CreateSession(user=%d)", sess.UserID)
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		authAt := sess.AuthAt
		if authAt.IsZero() {
			authAt = sess.CreatedAt
		}
		authAt = utc(authAt)
		row := &sessionRow{
			ID: sess.ID, UserID: sess.UserID, Scope: sess.Scope, Remember: sess.Remember,
			IP: truncate(sess.IP, 64), UserAgent: truncate(sess.UserAgent, 512),
			CreatedAt: utc(sess.CreatedAt), AuthAt: &authAt, LastUsedAt: utc(sess.CreatedAt), ExpiresAt: utc(sess.ExpiresAt),
		}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return err
		}
		_, err := tx.NewInsert().Model(&refreshRow{TokenHash: refreshHash, SessionID: sess.ID, CreatedAt: row.CreatedAt}).Exec(ctx)
		return err
	})
}

// RefreshOutcome says what a refresh-token rotation found.
type RefreshOutcome int

// Refresh outcomes.
const (
	RefreshRotated RefreshOutcome = iota // the token was current; a new one replaces it
	RefreshRaced                         // the token was rotated moments ago (within grace): a new one is issued too
	RefreshReused                        // an old token came back after the grace window: the session is now revoked
	RefreshInvalid                       // unknown, expired, idle too long or revoked
)

// RotateRefresh replaces the refresh token oldHash with newHash in one transaction, enforcing
// the session's absolute expiry and the idle limit. A token presented again within grace of its
// rotation (racing browser tabs) still yields a new token; later, it revokes the whole session
// and reports RefreshReused, committed, so the revocation stands.
func (s *Store) RotateRefresh(ctx context.Context, oldHash, newHash string, idle, grace time.Duration) (sess *gatehouse.Session, out RefreshOutcome, err error) {
	defer wrapErr(&err, "store.RotateRefresh")
	now := utc(s.now())
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		sess, out = nil, RefreshInvalid
		tok := new(refreshRow)
		if err := tx.NewSelect().Model(tok).Where("token_hash = ?", oldHash).Scan(ctx); err != nil {
			return ignoreNoRows(err)
		}
		row := new(sessionRow)
		if err := tx.NewSelect().Model(row).Where("id = ?", tok.SessionID).Scan(ctx); err != nil {
			return ignoreNoRows(err)
		}
		if row.RevokedAt != nil || !now.Before(row.ExpiresAt) || now.Sub(row.LastUsedAt) > idle {
			return nil
		}
		outcome := RefreshRotated
		// The conditional update makes rotation single-use even when two requests race.
		res, err := tx.NewUpdate().Model((*refreshRow)(nil)).Set("used_at = ?", now).
			Where("token_hash = ? AND used_at IS NULL", oldHash).Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			used := tok.UsedAt
			if used == nil { // rotated by a concurrent request in this very moment
				used = &now
			}
			if now.Sub(*used) > grace {
				if err := revokeSessions(ctx, tx, "id = ?", row.ID, now, "refresh_reuse"); err != nil {
					return err
				}
				out, sess = RefreshReused, row.toDomain()
				return nil
			}
			outcome = RefreshRaced
		}
		if _, err := tx.NewInsert().Model(&refreshRow{TokenHash: newHash, SessionID: row.ID, CreatedAt: now}).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*sessionRow)(nil)).Set("last_used_at = ?", now).Where("id = ?", row.ID).Exec(ctx); err != nil {
			return err
		}
		row.LastUsedAt = now
		sess, out = row.toDomain(), outcome
		return nil
	})
	return sess, out, err
}

func ignoreNoRows(err error) error {
	if isNoRows(err) {
		return nil
	}
	return err
}

func revokeSessions(ctx context.Context, tx bun.Tx, where string, arg any, now time.Time, reason string) error {
	_, err := tx.NewUpdate().Model((*sessionRow)(nil)).Set("revoked_at = ?", now).Set("revoke_reason = ?", reason).
		Where(where, arg).Where("revoked_at IS NULL").Exec(ctx)
	return err
}

// SessionByRefresh returns the session a refresh token belongs to, or ENotFound.
func (s *Store) SessionByRefresh(ctx context.Context, hash string) (sess *gatehouse.Session, err error) {
	defer wrapErr(&err, "store.SessionByRefresh")
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := new(sessionRow)
		if err := tx.NewSelect().Model(row).Where("id = (SELECT session_id FROM refresh_tokens WHERE token_hash = ?)", hash).Scan(ctx); err != nil {
			return notFound(err, "session not found")
		}
		sess = row.toDomain()
		return nil
	})
	return sess, err
}

// SessionByID returns the session or ENotFound.
func (s *Store) SessionByID(ctx context.Context, id string) (sess *gatehouse.Session, err error) {
	defer wrapErr(&err, "store.SessionByID")
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := new(sessionRow)
		if err := tx.NewSelect().Model(row).Where("id = ?", id).Scan(ctx); err != nil {
			return notFound(err, "session not found")
		}
		sess = row.toDomain()
		return nil
	})
	return sess, err
}

// RevokeSession ends one session (and so its refresh and access tokens).
func (s *Store) RevokeSession(ctx context.Context, id, reason string) (err error) {
	defer wrapErr(&err, "store.RevokeSession")
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return revokeSessions(ctx, tx, "id = ?", id, now, reason)
	})
}

// RevokeUserSessions ends every session of a user.
func (s *Store) RevokeUserSessions(ctx context.Context, userID int64, reason string) (err error) {
	defer wrapErr(&err, "store.RevokeUserSessions(%d)", userID)
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return revokeSessions(ctx, tx, "user_id = ?", userID, now, reason)
	})
}

// ActiveSessions lists the user's sessions that have not ended, most recently used first.
func (s *Store) ActiveSessions(ctx context.Context, userID int64) (out []*gatehouse.Session, err error) {
	defer wrapErr(&err, "store.ActiveSessions(%d)", userID)
	now := utc(s.now())
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []sessionRow
		if err := tx.NewSelect().Model(&rows).Where("user_id = ?", userID).Where("revoked_at IS NULL").
			Where("expires_at > ?", now).OrderExpr("last_used_at DESC, id").Limit(200).Scan(ctx); err != nil {
			return err
		}
		out = make([]*gatehouse.Session, len(rows))
		for i := range rows {
			out[i] = rows[i].toDomain()
		}
		return nil
	})
	return out, err
}
