package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

func newMail(to, subject string) *gatehouse.OutboxMail {
	return &gatehouse.OutboxMail{To: to, Subject: subject, Text: "text of " + subject, HTML: "<p>" + subject + "</p>"}
}

func TestMailOutboxLifecycle(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		t0 := time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.UTC)
		hostile := `O'Brien "q" \back\slash 🦫 ` + "\u202e" + `'; DROP TABLE mail_outbox; --`
		big := strings.Repeat("<p>🦫 long body</p>\n", 1<<20/len("<p>🦫 long body</p>\n")) // ~1 MiB
		msgs := []*gatehouse.OutboxMail{
			{To: `o'hara+%_\@example.com`, Subject: hostile, Text: hostile + "\n\ttab\r\nline", HTML: big},
			newMail("b@example.com", "second"),
			newMail("c@example.com", "third"),
		}
		for i, m := range msgs {
			if err := s.EnqueueMail(ctx, m, t0.Add(time.Duration(i)*time.Second)); err != nil {
				t.Fatalf("EnqueueMail %d: %v", i, err)
			}
			if m.ID == 0 || m.Status != gatehouse.MailPending || !m.CreatedAt.Equal(t0.Add(time.Duration(i)*time.Second).Truncate(time.Microsecond)) {
				t.Fatalf("enqueued %+v", m)
			}
		}
		got, err := s.MailByID(ctx, msgs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.To != msgs[0].To || got.Subject != hostile || got.Text != msgs[0].Text || got.HTML != big ||
			got.Status != gatehouse.MailPending || got.Attempts != 0 || got.LockedUntil != nil || got.SentAt != nil ||
			!got.NextAttemptAt.Equal(msgs[0].CreatedAt) {
			t.Fatalf("MailByID did not round-trip: to %q subject %q attempts %d status %s (HTML %d bytes, want %d)",
				got.To, got.Subject, got.Attempts, got.Status, len(got.HTML), len(big))
		}

		// Due at t0+1s: the first two, oldest first, leased and counted.
		now := t0.Add(time.Second)
		claimed, err := s.ClaimDueMail(ctx, now, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(claimed) != 2 || claimed[0].ID != msgs[0].ID || claimed[1].ID != msgs[1].ID {
			t.Fatalf("claimed %v, want the first two", ids(claimed))
		}
		lease := now.Add(time.Minute).Truncate(time.Microsecond)
		for _, c := range claimed {
			if c.Attempts != 1 || c.LockedUntil == nil || !c.LockedUntil.Equal(lease) {
				t.Fatalf("claimed %d: attempts %d, lease %v; want 1, %v", c.ID, c.Attempts, c.LockedUntil, lease)
			}
		}
		// Leased messages are not claimed again while the lease holds; the third is due now.
		again, err := s.ClaimDueMail(ctx, now.Add(30*time.Second), time.Minute, 10)
		if err != nil || len(again) != 1 || again[0].ID != msgs[2].ID {
			t.Fatalf("second claim = %v, %v; want only the third", ids(again), err)
		}

		// Sent.
		if err := s.MarkMailSent(ctx, claimed[1].ID, *claimed[1].LockedUntil, now.Add(2*time.Second)); err != nil {
			t.Fatal(err)
		}
		// Retry: due again 30 s later, with the reason.
		reason := "451 4.3.0 try later \x00 bad\xffbyte " + strings.Repeat("é", 3000)
		next := now.Add(45 * time.Second)
		if err := s.MarkMailRetry(ctx, claimed[0].ID, *claimed[0].LockedUntil, next, reason); err != nil {
			t.Fatal(err)
		}
		// A lease that is not the message's (any more) changes nothing.
		if err := s.MarkMailSent(ctx, claimed[0].ID, *claimed[0].LockedUntil, now); gatehouse.ErrorCode(err) != gatehouse.EConflict {
			t.Fatalf("MarkMailSent with a released lease = %v, want conflict", err)
		}
		if err := s.MarkMailFailed(ctx, claimed[1].ID, *claimed[1].LockedUntil, "x"); gatehouse.ErrorCode(err) != gatehouse.EConflict {
			t.Fatalf("MarkMailFailed on a sent message = %v, want conflict", err)
		}

		sent, err := s.MailByID(ctx, claimed[1].ID)
		if err != nil || sent.Status != gatehouse.MailSent || sent.SentAt == nil || !sent.SentAt.Equal(now.Add(2*time.Second).Truncate(time.Microsecond)) || sent.LockedUntil != nil {
			t.Fatalf("sent message = %+v, %v", sent, err)
		}
		retry, err := s.MailByID(ctx, claimed[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if retry.Status != gatehouse.MailPending || retry.LockedUntil != nil || !retry.NextAttemptAt.Equal(next.Truncate(time.Microsecond)) ||
			!strings.HasPrefix(retry.LastError, "451 4.3.0 try later  bad\uFFFDbyte éé") || utf8.RuneCountInString(retry.LastError) != 2000 {
			t.Fatalf("retried message: status %s, lease %v, next %v, last_error %q (%d runes)",
				retry.Status, retry.LockedUntil, retry.NextAttemptAt, retry.LastError[:40], utf8.RuneCountInString(retry.LastError))
		}
		if c, err := s.ClaimDueMail(ctx, next.Add(-time.Microsecond), time.Minute, 10); err != nil || len(c) != 0 {
			t.Fatalf("claim before the retry is due = %v, %v", ids(c), err)
		}
		c, err := s.ClaimDueMail(ctx, next, time.Minute, 10)
		if err != nil || len(c) != 1 || c[0].ID != claimed[0].ID || c[0].Attempts != 2 {
			t.Fatalf("claim when the retry is due = %+v, %v", c, err)
		}
		if err := s.MarkMailFailed(ctx, c[0].ID, *c[0].LockedUntil, "550 5.1.1 no such user"); err != nil {
			t.Fatal(err)
		}
		// A failed message stays, and is never claimed again.
		if c, err := s.ClaimDueMail(ctx, next.Add(24*time.Hour), time.Minute, 10); err != nil || len(c) != 1 || c[0].ID != msgs[2].ID {
			t.Fatalf("claim a day later = %v, %v; want only the third (its lease ran out)", ids(c), err)
		}
		failed, err := s.ListMail(ctx, "failed", 0)
		if err != nil || len(failed) != 1 || failed[0].ID != msgs[0].ID || failed[0].LastError != "550 5.1.1 no such user" || failed[0].Attempts != 2 {
			t.Fatalf("ListMail(failed) = %+v, %v", failed, err)
		}
		all, err := s.ListMail(ctx, "", 0)
		if err != nil || len(all) != 3 || all[0].ID != msgs[2].ID || all[2].ID != msgs[0].ID {
			t.Fatalf("ListMail(all) = %v, %v; want newest first", ids(all), err)
		}
		if l, err := s.ListMail(ctx, "", 1); err != nil || len(l) != 1 {
			t.Fatalf("ListMail limit 1 = %v, %v", ids(l), err)
		}
		if l, err := s.ListMail(ctx, "sent", 10); err != nil || len(l) != 1 || l[0].ID != msgs[1].ID {
			t.Fatalf("ListMail(sent) = %v, %v", ids(l), err)
		}
		if _, err := s.ListMail(ctx, "bounced", 10); gatehouse.ErrorCode(err) != gatehouse.EInvalid {
			t.Fatalf("ListMail(bounced) = %v, want invalid", err)
		}
		if _, err := s.MailByID(ctx, 987654); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("MailByID(unknown) = %v", err)
		}
	})
}

func TestEnqueueMailValidates(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s := open(t, db)
		now := time.Now()
		for field, m := range map[string]*gatehouse.OutboxMail{
			"to":      {Subject: "s", Text: "t"},
			"subject": {To: "a@example.com", Subject: "s\r\nBcc: x@example.com", Text: "t"},
			"text":    {To: "a@example.com", Subject: "s"},
			"html":    {To: "a@example.com", Subject: "s", Text: "t", HTML: strings.Repeat("x", 1<<20+1)},
		} {
			if err := s.EnqueueMail(ctx, m, now); gatehouse.ErrorCode(err) != gatehouse.EInvalid || gatehouse.ErrorFields(err)[field] == "" {
				t.Errorf("%s: EnqueueMail = %v, want invalid naming %s", field, err, field)
			}
		}
		for name, m := range map[string]*gatehouse.OutboxMail{
			"long subject": {To: "a@example.com", Subject: strings.Repeat("s", 999), Text: "t"},
			"invalid utf8": {To: "a@example.com", Subject: "s", Text: "bad\xff"},
			"nul":          {To: "a@example.com", Subject: "s", Text: "nul\x00"},
		} {
			if err := s.EnqueueMail(ctx, m, now); gatehouse.ErrorCode(err) != gatehouse.EInvalid {
				t.Errorf("%s: EnqueueMail = %v, want invalid", name, err)
			}
		}
		if _, err := s.ClaimDueMail(ctx, now, 0, 1); gatehouse.ErrorCode(err) != gatehouse.EInvalid {
			t.Errorf("ClaimDueMail without a lease = %v", err)
		}
		if _, err := s.ClaimDueMail(ctx, now, time.Minute, 0); gatehouse.ErrorCode(err) != gatehouse.EInvalid {
			t.Errorf("ClaimDueMail limit 0 = %v", err)
		}
		if l, err := s.ListMail(ctx, "", 0); err != nil || len(l) != 0 {
			t.Fatalf("invalid messages were stored: %v, %v", ids(l), err)
		}
	})
}

// Dispatchers on several instances (on Galera: several nodes) claiming at once each get a
// different set of messages: every message is claimed exactly once.
func TestClaimDueMailConcurrent(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		stores := []*store.Store{open(t, nodeFirst(db, 0)), open(t, nodeFirst(db, 1)), open(t, nodeFirst(db, 2))}
		now := time.Now().UTC()
		const n = 30
		for i := range n {
			if err := stores[0].EnqueueMail(ctx, newMail("x@example.com", "m"+string(rune('A'+i))), now); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		errs := make(chan error, 6)
		for w := range 6 {
			wg.Go(func() {
				for {
					c, err := stores[w%3].ClaimDueMail(ctx, now, time.Hour, 3)
					if err != nil {
						errs <- err
						return
					}
					if len(c) == 0 {
						return
					}
					mu.Lock()
					for _, m := range c {
						seen[m.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("ClaimDueMail: %v", err)
		}
		if len(seen) != n {
			t.Fatalf("%d messages claimed, want %d", len(seen), n)
		}
		for id, k := range seen {
			if k != 1 {
				t.Errorf("message %d claimed %d times", id, k)
			}
		}
	})
}

func ids(ms []gatehouse.OutboxMail) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}
