package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// OutboxStats counts the pending messages (sent and failed ones are not waiting) and finds
// when the oldest of them was queued.
func TestOutboxStats(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		st, err := s.OutboxStats(ctx)
		if err != nil || st.Pending != 0 || !st.Oldest.IsZero() {
			t.Fatalf("empty outbox: %+v, %v", st, err)
		}
		t0 := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
		msgs := []string{"first", "second", "third"}
		for i, subj := range msgs {
			if err := s.EnqueueMail(ctx, newMail(subj+"@example.com", subj), t0.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		st, err = s.OutboxStats(ctx)
		if err != nil || st.Pending != 3 || !st.Oldest.Equal(t0) {
			t.Fatalf("three queued: %+v, %v; want 3 and %s", st, err, t0)
		}

		// The oldest is delivered, the next given up: only the third still waits.
		now := t0.Add(5 * time.Minute)
		claimed, err := s.ClaimDueMail(ctx, now, time.Minute, 2)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("claim: %v, %v", claimed, err)
		}
		if err := s.MarkMailSent(ctx, claimed[0].ID, *claimed[0].LockedUntil, now); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkMailFailed(ctx, claimed[1].ID, *claimed[1].LockedUntil, "550 no such user"); err != nil {
			t.Fatal(err)
		}
		st, err = s.OutboxStats(ctx)
		if want := t0.Add(2 * time.Minute); err != nil || st.Pending != 1 || !st.Oldest.Equal(want) {
			t.Fatalf("one left: %+v, %v; want 1 and %s", st, err, want)
		}
	})
}
