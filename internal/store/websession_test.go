package store_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testclock"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

func TestWebSessions(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		clk := testclock.New(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
		s := open(t, db, store.WithClock(clk.Now))

		// Unknown, empty and oversized tokens are simply not found.
		for _, tok := range []string{"unknown", "", string(bytes.Repeat([]byte("x"), 65))} {
			if data, found, err := s.FindWebSession(ctx, tok); err != nil || found || data != nil {
				t.Fatalf("Find(%q) = %q, %v, %v", tok, data, found, err)
			}
		}

		// Binary data round-trips exactly, including bytes that are not UTF-8 and quotes.
		data := []byte("\x00\xff'\"\\ gob\x01")
		if err := s.CommitWebSession(ctx, "tok-1", data, clk.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, found, err := s.FindWebSession(ctx, "tok-1"); err != nil || !found || !bytes.Equal(got, data) {
			t.Fatalf("Find = %q, %v, %v; want %q", got, found, err, data)
		}
		// A commit of the same data and expiry is an update, not a duplicate.
		if err := s.CommitWebSession(ctx, "tok-1", data, clk.Now().Add(time.Hour)); err != nil {
			t.Fatalf("recommit unchanged: %v", err)
		}
		// Commit replaces data and expiry.
		if err := s.CommitWebSession(ctx, "tok-1", []byte("v2"), clk.Now().Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := s.FindWebSession(ctx, "tok-1"); string(got) != "v2" {
			t.Fatalf("after recommit: %q", got)
		}
		// Empty data is a session too.
		if err := s.CommitWebSession(ctx, "tok-empty", nil, clk.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, found, err := s.FindWebSession(ctx, "tok-empty"); err != nil || !found || len(got) != 0 {
			t.Fatalf("empty session = %q, %v, %v", got, found, err)
		}
		if err := s.CommitWebSession(ctx, "", data, clk.Now().Add(time.Hour)); gatehouse.ErrorCode(err) != gatehouse.EInvalid {
			t.Fatalf("commit without token: %v, want invalid", err)
		}

		// Expiry: a session is not found from its expiry on.
		if err := s.CommitWebSession(ctx, "tok-short", []byte("short"), clk.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		if _, found, _ := s.FindWebSession(ctx, "tok-short"); found {
			t.Fatal("found an expired session")
		}
		if _, found, _ := s.FindWebSession(ctx, "tok-1"); !found {
			t.Fatal("lost an unexpired session")
		}

		// Delete; deleting twice or an unknown token is fine.
		for range 2 {
			if err := s.DeleteWebSession(ctx, "tok-1"); err != nil {
				t.Fatal(err)
			}
		}
		if _, found, _ := s.FindWebSession(ctx, "tok-1"); found {
			t.Fatal("found a deleted session")
		}

		// Cleanup removes the expired rows only.
		clk.Advance(2 * time.Hour) // tok-empty (1 h) expires too
		if err := s.CommitWebSession(ctx, "tok-live", []byte("live"), clk.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		n, err := s.DeleteExpiredWebSessions(ctx)
		if err != nil || n != 2 {
			t.Fatalf("DeleteExpiredWebSessions = %d, %v; want 2 (tok-short, tok-empty)", n, err)
		}
		if n, err := s.DeleteExpiredWebSessions(ctx); err != nil || n != 0 {
			t.Fatalf("second cleanup = %d, %v", n, err)
		}
		if _, found, _ := s.FindWebSession(ctx, "tok-live"); !found {
			t.Fatal("cleanup removed a live session")
		}

		// Concurrent first commits of one new session (two tabs) both succeed.
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for i := range 4 {
			wg.Go(func() {
				errs <- s.CommitWebSession(ctx, "tok-race", fmt.Appendf(nil, "v%d", i), clk.Now().Add(time.Hour))
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("racing commit: %v", err)
			}
		}
		if _, found, _ := s.FindWebSession(ctx, "tok-race"); !found {
			t.Fatal("racing commits left no session")
		}
	})
}

// TestWebSessionCleanupBatches removes more expired rows than one batch holds.
func TestWebSessionCleanupBatches(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		clk := testclock.New(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
		s := open(t, db, store.WithClock(clk.Now))
		const total = 1001
		for i := range total {
			if err := s.CommitWebSession(ctx, fmt.Sprintf("t%04d", i), []byte("x"), clk.Now().Add(time.Duration(i+1)*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
		}
		clk.Advance(time.Hour)
		n, err := s.DeleteExpiredWebSessions(ctx)
		if err != nil || n != total {
			t.Fatalf("DeleteExpiredWebSessions = %d, %v; want %d", n, err, total)
		}
	})
}
