package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// OutboxStatsLimit bounds the work of OutboxStats: at most this many pending messages are
// looked at, so a scrape stays cheap even when the outbox has grown huge (the depth then reads
// as this number: "at least").
const OutboxStatsLimit = 10000

// OutboxStats describes the messages waiting in the outbox.
type OutboxStats struct {
	// Pending is the number of messages not yet sent nor given up (capped at OutboxStatsLimit).
	Pending int
	// Oldest is when the oldest of them was queued; zero when none is pending.
	Oldest time.Time
}

// OutboxStats counts the pending messages and finds the oldest, for the outbox gauges. One
// statement over the (status, next_attempt_at) index reads at most OutboxStatsLimit rows.
func (s *Store) OutboxStats(ctx context.Context) (st OutboxStats, err error) {
	defer wrapErr(&err, "store.OutboxStats")
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		pending := tx.NewSelect().Model((*mailRow)(nil)).Column("created_at").
			Where("status = ?", string(gatehouse.MailPending)).Limit(OutboxStatsLimit)
		var oldest bun.NullTime
		if err := tx.NewSelect().TableExpr("(?) AS q", pending).ColumnExpr("COUNT(*)").ColumnExpr("MIN(q.created_at)").
			Scan(ctx, &st.Pending, &oldest); err != nil {
			return err
		}
		st.Oldest = time.Time{}
		if !oldest.IsZero() {
			st.Oldest = oldest.UTC()
		}
		return nil
	})
	return st, err
}
