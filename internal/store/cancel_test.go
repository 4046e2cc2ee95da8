package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// A caller that goes away in the middle of a statement (a client closing its connection cancels
// the request's context) must not cost a pooled connection: every driver loses a connection
// whose statement is cancelled (detach.go), so without the store's detached context every
// cancelled transaction here would open a new connection. The statements take 100 ms or more
// and the callers give up after 20 ms, so each cancellation lands mid-statement.
func TestCancelledCallersKeepPooledConnections(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		s := open(t, db)
		slow := map[string]string{
			"postgres": "SELECT pg_sleep(0.1)",
			"mysql":    "SELECT SLEEP(0.1)",
			// No sleep in SQLite: counting to 500,000 takes 100 ms or more.
			"sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500000) SELECT count(*) FROM c",
		}[db.Family()]
		work := func(ctx context.Context) error {
			// A read transaction: on SQLite a write one would queue the callers one by one.
			return s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
				_, err := tx.ExecContext(ctx, slow)
				return err
			})
		}
		burst := func(cancelAfter time.Duration) {
			var wg sync.WaitGroup
			for range db.PoolSize {
				wg.Go(func() {
					ctx, cancel := context.WithTimeout(context.Background(), cancelAfter)
					defer cancel()
					_ = work(ctx)
				})
			}
			wg.Wait()
		}
		burst(time.Minute)
		for range 5 {
			burst(20 * time.Millisecond)
		}
		// The detached statements finish about 80 ms after their callers left; wait until the
		// pool has them back before counting.
		deadline := time.Now().Add(10 * time.Second)
		for s.DB().Stats().InUse > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		burst(time.Minute)
		// Every connection opened is still open, or was closed by the pool for being idle or
		// old; any other was lost (a driver declared it broken).
		st := s.DB().Stats()
		if lost := s.ConnectionsOpened() - int64(st.OpenConnections) - st.MaxIdleClosed - st.MaxIdleTimeClosed - st.MaxLifetimeClosed; lost != 0 {
			t.Errorf("%d connections lost to %d cancelled transactions (pool of %d)", lost, 5*db.PoolSize, db.PoolSize)
		}
	})
}
