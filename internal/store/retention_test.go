package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testclock"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// PurgeExpired removes what died before the cutoff — in batches — and keeps everything still
// usable: a live session, a pending link, a counter that still blocks.
func TestPurgeExpired(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		clk := testclock.New(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
		s := open(t, db, store.WithClock(clk.Now))
		u := mkUser(t, s, "purge@example.com", true)
		start := clk.Now()

		session := func(id string, life time.Duration) {
			t.Helper()
			sess := &gatehouse.Session{ID: id, UserID: u.ID, Scope: "read", CreatedAt: clk.Now(), ExpiresAt: clk.Now().Add(life)}
			if err := s.CreateSession(ctx, sess, "refresh-"+id); err != nil {
				t.Fatal(err)
			}
		}
		// More dead sessions than one batch, so the loop is exercised.
		const dead = 501
		for i := range dead {
			session(fmt.Sprintf("dead-%03d", i), time.Hour)
		}
		session("revoked", 30*24*time.Hour)
		if err := s.RevokeSession(ctx, "revoked", "logout"); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateActionToken(ctx, store.ActionToken{TokenHash: "old-link", CodeHash: "c1", Purpose: "reset", UserID: u.ID, Stamp: u.SecurityStamp, ExpiresAt: clk.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		never := func(int, time.Time) (*time.Time, *time.Time) { return nil, nil }
		locked := func(_ int, now time.Time) (*time.Time, *time.Time) { l := now.Add(60 * 24 * time.Hour); return nil, &l }
		if _, err := s.RecordFailure(ctx, "login:old", time.Hour, never); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordFailure(ctx, "login:locked", time.Hour, locked); err != nil {
			t.Fatal(err)
		}

		// Twenty days later: what was made then is dead for 19 days; add what is still alive.
		clk.Advance(20 * 24 * time.Hour)
		session("live", 30*24*time.Hour)
		if err := s.CreateActionToken(ctx, store.ActionToken{TokenHash: "new-link", CodeHash: "c2", Purpose: "reset", UserID: u.ID, Stamp: u.SecurityStamp, ExpiresAt: clk.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordFailure(ctx, "login:recent", time.Hour, never); err != nil {
			t.Fatal(err)
		}

		// A cutoff before anything died removes nothing.
		if rep, err := s.PurgeExpired(ctx, start); err != nil || total(rep) != 0 {
			t.Fatalf("PurgeExpired(start) = %v, %v", rep, err)
		}
		rep, err := s.PurgeExpired(ctx, clk.Now().Add(-7*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if rep["sessions"] != dead+1 || rep["action_tokens"] != 1 || rep["throttles"] != 1 {
			t.Fatalf("PurgeExpired = %v; want %d sessions, 1 action token, 1 throttle", rep, dead+1)
		}
		for _, id := range []string{"dead-000", "dead-500", "revoked"} {
			if _, err := s.SessionByID(ctx, id); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
				t.Errorf("session %s: %v, want not found", id, err)
			}
		}
		if _, err := s.SessionByID(ctx, "live"); err != nil {
			t.Errorf("live session: %v", err)
		}
		var refresh int
		if err := s.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM refresh_tokens").Scan(&refresh); err != nil || refresh != 1 {
			t.Errorf("refresh tokens left = %d, %v; want the live session's 1", refresh, err)
		}
		if u2, err := s.ActionTokenUser(ctx, "reset", "new-link"); err != nil || u2.ID != u.ID {
			t.Errorf("pending link: %v", err)
		}
		st, err := s.Throttle(ctx, "login:old", "login:locked", "login:recent")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := st["login:old"]; ok || st["login:locked"].Failures != 1 || st["login:recent"].Failures != 1 {
			t.Errorf("throttles after purge = %+v; want old gone, locked and recent kept", st)
		}
		// Running again finds nothing more.
		if rep, err := s.PurgeExpired(ctx, clk.Now().Add(-7*24*time.Hour)); err != nil || total(rep) != 0 {
			t.Fatalf("second PurgeExpired = %v, %v", rep, err)
		}
	})
}

func total(r store.PurgeReport) (n int64) {
	for _, v := range r {
		n += v
	}
	return n
}
