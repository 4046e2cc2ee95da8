package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// purgeBatch bounds one purge transaction, so that it stays small (Galera certifies whole write
// sets, and SQLite holds its one write lock meanwhile) however much expired at once.
const purgeBatch = 500

// PurgeReport counts the rows PurgeExpired removed, per table.
type PurgeReport map[string]int64

// PurgeExpired deletes the security records that can no longer be used and are older than
// before: sessions that expired or were revoked (their refresh tokens go with them), used or
// expired reset/confirmation tokens, second-step challenges, remembered devices, pending WebAuthn
// registrations, and brute-force counters that block nothing any more; unanswered passkey
// sign-ins go as soon as they expire. Nothing a user can still use or see is touched: a live
// session, a pending link, a running lockout all stay. Keeping rows until before (a few days
// after they died) leaves them visible to an operator investigating an incident; the audit
// trail (audit_events) is kept regardless.
func (s *Store) PurgeExpired(ctx context.Context, before time.Time) (report PurgeReport, err error) {
	defer wrapErr(&err, "store.PurgeExpired")
	before, now := utc(before), utc(s.now())
	report = PurgeReport{}
	for _, p := range []struct {
		table, key, where string
		args              []any
	}{
		{"sessions", "id", "(expires_at < ? OR revoked_at < ?)", []any{before, before}},
		{"action_tokens", "token_hash", "(expires_at < ? OR used_at < ?)", []any{before, before}},
		{"two_factor_challenges", "id_hash", "(expires_at < ? OR used_at < ?)", []any{before, before}},
		{"email_signins", "binding_hash", "(expires_at < ? OR used_at < ?)", []any{before, before}},
		{"remembered_devices", "token_hash", "expires_at < ?", []any{before}},
		{"webauthn_registrations", "user_id", "expires_at < ?", []any{before}},
		{"passkey_logins", "id_hash", "expires_at < ?", []any{now}}, // unanswered options: nothing to investigate
		{"throttles", "throttle_key", "last_failure_at < ? AND (blocked_until IS NULL OR blocked_until < ?) AND (locked_until IS NULL OR locked_until < ?)",
			[]any{before, now, now}},
	} {
		n, err := s.purge(ctx, p.table, p.key, p.where, p.args...)
		report[p.table] = n
		if err != nil {
			return report, err
		}
	}
	return report, nil
}

// purge deletes the rows of table matching where, purgeBatch at a time: it reads a batch of
// keys, then deletes those keys under the same condition (a row that came back to life in
// between stays). MySQL and MariaDB accept no LIMIT in an IN subquery, hence two statements.
func (s *Store) purge(ctx context.Context, table, key, where string, args ...any) (removed int64, err error) {
	for {
		var n int64
		err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			var keys []any
			rows, err := tx.NewSelect().TableExpr("?", bun.Ident(table)).ColumnExpr("?", bun.Ident(key)).
				Where(where, args...).Limit(purgeBatch).Rows(ctx)
			if err != nil {
				return err
			}
			defer func() { _ = rows.Close() }()
			for rows.Next() {
				var k any
				if err := rows.Scan(&k); err != nil {
					return err
				}
				if b, ok := k.([]byte); ok { // MySQL's text protocol returns VARCHAR as bytes
					k = string(b)
				}
				keys = append(keys, k)
			}
			if err := rows.Err(); err != nil {
				return err
			}
			_ = rows.Close()
			if len(keys) == 0 {
				n = 0
				return nil
			}
			res, err := tx.NewDelete().TableExpr("?", bun.Ident(table)).Where("? IN (?)", bun.Ident(key), bun.List(keys)).
				Where(where, args...).Exec(ctx)
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
		if n < purgeBatch {
			return removed, nil
		}
	}
}
