package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// The audit trail's filters combine: by actor, by subject, by kind and by a time range (from
// Since, up to but not including Until), newest first, paged by id.
func TestAuditFilters(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		one, two := int64(1), int64(2)
		for i, ev := range []gatehouse.AuditEvent{
			{Event: "a", ActorID: &one, SubjectID: &two},
			{Event: "b", ActorID: &one},
			{Event: "a", ActorID: &two, SubjectID: &one},
			{Event: "a", ActorID: &one, SubjectID: &two},
		} {
			ev.At = t0.Add(time.Duration(i) * time.Hour)
			if err := s.RecordAudit(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		ids := func(q store.AuditQuery) []time.Time {
			t.Helper()
			q.Limit = 10
			evs, _, err := s.ListAuditPage(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			at := make([]time.Time, len(evs))
			for i, e := range evs {
				at[i] = e.At
			}
			return at
		}
		h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
		for name, c := range map[string]struct {
			q    store.AuditQuery
			want []time.Time
		}{
			"actor":               {store.AuditQuery{ActorID: 1}, []time.Time{h(3), h(1), h(0)}},
			"actor and kind":      {store.AuditQuery{ActorID: 1, Event: "a"}, []time.Time{h(3), h(0)}},
			"actor and subject":   {store.AuditQuery{ActorID: 2, SubjectID: 1}, []time.Time{h(2)}},
			"since":               {store.AuditQuery{Since: h(2)}, []time.Time{h(3), h(2)}},
			"until (exclusive)":   {store.AuditQuery{Until: h(1)}, []time.Time{h(0)}},
			"range and kind":      {store.AuditQuery{Since: h(1), Until: h(3), Event: "a"}, []time.Time{h(2)}},
			"range with no event": {store.AuditQuery{Since: h(10)}, []time.Time{}},
		} {
			got := ids(c.q)
			if len(got) != len(c.want) {
				t.Fatalf("%s: %v, want %v", name, got, c.want)
			}
			for i := range got {
				if !got[i].Equal(c.want[i]) {
					t.Fatalf("%s: %v, want %v", name, got, c.want)
				}
			}
		}
	})
}
