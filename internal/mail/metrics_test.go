package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/mail"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

func storeStats(s *store.Store) mail.OutboxStatsFunc {
	return func(ctx context.Context) (int, time.Time, error) {
		st, err := s.OutboxStats(ctx)
		return st.Pending, st.Oldest, err
	}
}

// The outbox gauges are measured at scrape time from the database: depth and the age of the
// oldest waiting message; a database that cannot answer leaves them out and says so.
func TestOutboxGauges(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := openStore(t, db)
		t0 := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
		now := t0
		c := mail.OutboxCollector(storeStats(s), func() time.Time { return now }, 0, nil)
		expect := func(want string) {
			t.Helper()
			if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
				t.Fatal(err)
			}
		}
		const help = `
# HELP gatehouse_outbox_depth Emails waiting in the outbox to be sent (pending, including those being retried); counted up to 10000.
# TYPE gatehouse_outbox_depth gauge
# HELP gatehouse_outbox_oldest_age_seconds Seconds since the oldest email still waiting in the outbox was queued; 0 when none waits.
# TYPE gatehouse_outbox_oldest_age_seconds gauge
# HELP gatehouse_outbox_stats_up 1 when the outbox could be measured at this scrape, 0 when its query failed (then the two outbox gauges are absent).
# TYPE gatehouse_outbox_stats_up gauge
`
		expect(help + "gatehouse_outbox_depth 0\ngatehouse_outbox_oldest_age_seconds 0\ngatehouse_outbox_stats_up 1\n")

		for i := range 2 {
			m := &gatehouse.OutboxMail{To: "a@example.com", Subject: "s", Text: "t"}
			if err := s.EnqueueMail(ctx, m, t0.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		now = t0.Add(10 * time.Minute)
		expect(help + "gatehouse_outbox_depth 2\ngatehouse_outbox_oldest_age_seconds 600\ngatehouse_outbox_stats_up 1\n")

		_ = s.Close() // the database is away
		expect(`
# HELP gatehouse_outbox_stats_up 1 when the outbox could be measured at this scrape, 0 when its query failed (then the two outbox gauges are absent).
# TYPE gatehouse_outbox_stats_up gauge
gatehouse_outbox_stats_up 0
`)
	})
}

// A scrape does not wait on a database that does not answer: the query is given up after the
// timeout (the test would hang otherwise) and the scrape says the outbox was not measured.
func TestOutboxGaugesTimeout(t *testing.T) {
	slow := func(ctx context.Context) (int, time.Time, error) {
		<-ctx.Done()
		return 0, time.Time{}, ctx.Err()
	}
	c := mail.OutboxCollector(slow, nil, 50*time.Millisecond, nil)
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || mfs[0].GetName() != "gatehouse_outbox_stats_up" {
		t.Fatalf("gathered %v, %v", mfs, err)
	}
}
