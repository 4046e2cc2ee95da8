package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

type throttleRow struct {
	bun.BaseModel `bun:"table:throttles,alias:th"`

	Key           string     `bun:"throttle_key,pk"`
	Failures      int        `bun:"failures"`
	LastFailureAt time.Time  `bun:"last_failure_at"`
	BlockedUntil  *time.Time `bun:"blocked_until"`
	LockedUntil   *time.Time `bun:"locked_until"`
}

// ThrottleState is what the counters say about one key.
type ThrottleState struct {
	Failures     int
	BlockedUntil time.Time // zero when not blocked
	LockedUntil  time.Time // zero when not locked
}

// ThrottlePolicy decides, from the failure count after a failure, until when the key waits
// (backoff) and until when it is locked (nil: not).
type ThrottlePolicy func(failures int, now time.Time) (blockedUntil, lockedUntil *time.Time)

// Throttle returns the state of each key (keys without a row are absent).
func (s *Store) Throttle(ctx context.Context, keys ...string) (st map[string]ThrottleState, err error) {
	defer wrapErr(&err, "store.Throttle")
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []throttleRow
		if err := tx.NewSelect().Model(&rows).Where("throttle_key IN (?)", bun.List(keys)).Scan(ctx); err != nil {
			return err
		}
		st = make(map[string]ThrottleState, len(rows))
		for _, r := range rows {
			ts := ThrottleState{Failures: r.Failures}
			if r.BlockedUntil != nil {
				ts.BlockedUntil = utc(*r.BlockedUntil)
			}
			if r.LockedUntil != nil {
				ts.LockedUntil = utc(*r.LockedUntil)
			}
			st[r.Key] = ts
		}
		return nil
	})
	return st, err
}

// RecordFailure counts one failure for key (forgetting failures older than window) and applies
// policy. It reports the new state. Concurrent failures from several instances all count: the
// increment is one UPDATE, and a first failure racing another retries into that UPDATE.
func (s *Store) RecordFailure(ctx context.Context, key string, window time.Duration, policy ThrottlePolicy) (st ThrottleState, err error) {
	defer wrapErr(&err, "store.RecordFailure")
	now := utc(s.now())
	for range 3 {
		err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			row := new(throttleRow)
			err := tx.NewSelect().Model(row).Where("throttle_key = ?", key).Scan(ctx)
			switch {
			case isNoRows(err):
				row = &throttleRow{Key: key, Failures: 1, LastFailureAt: now}
				row.BlockedUntil, row.LockedUntil = policy(1, now)
				if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
					return err
				}
			case err != nil:
				return err
			default:
				failures := row.Failures + 1
				if now.Sub(row.LastFailureAt) > window {
					failures = 1
				}
				blocked, locked := policy(failures, now)
				if locked == nil && row.LockedUntil != nil && row.LockedUntil.After(now) {
					locked = row.LockedUntil // a running lock is never shortened by a later failure
				}
				// failures is recomputed in SQL from the row as it is at commit time, so that a
				// concurrent increment is never overwritten.
				expr := "failures = failures + 1"
				if failures == 1 {
					expr = "failures = 1"
				}
				if _, err := tx.NewUpdate().Model((*throttleRow)(nil)).Set(expr).Set("last_failure_at = ?", now).
					Set("blocked_until = ?", blocked).Set("locked_until = ?", locked).
					Where("throttle_key = ?", key).Exec(ctx); err != nil {
					return err
				}
				row.Failures, row.BlockedUntil, row.LockedUntil = failures, blocked, locked
			}
			st = ThrottleState{Failures: row.Failures}
			if row.BlockedUntil != nil {
				st.BlockedUntil = utc(*row.BlockedUntil)
			}
			if row.LockedUntil != nil {
				st.LockedUntil = utc(*row.LockedUntil)
			}
			return nil
		})
		if err == nil || !s.dialect.IsUniqueViolation(err) {
			break
		}
	}
	return st, err
}

// ClearThrottle forgets the failures of keys (after a success, or an admin unlock).
func (s *Store) ClearThrottle(ctx context.Context, keys ...string) (err error) {
	defer wrapErr(&err, "store.ClearThrottle")
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewDelete().Model((*throttleRow)(nil)).Where("throttle_key IN (?)", bun.List(keys)).Exec(ctx)
		return err
	})
}
