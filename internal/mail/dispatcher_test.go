package mail_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/mail"
	"github.com/gatehousehq/gatehouse/internal/mail/mailtest"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testclock"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

func openStore(t *testing.T, db config.DB) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, db)
	if err != nil {
		t.Fatalf("open %s: %v", db.Type, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", db.Type, err)
	}
	return s
}

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// fast are dispatcher options for tests with the real clock: short intervals, so that retries
// happen within milliseconds.
func fast(st mail.OutboxStore, srv *mailtest.Server, t *testing.T) mail.DispatcherOptions {
	sender, err := mail.NewSMTPSender(srv.SMTPOptions())
	if err != nil {
		t.Fatal(err)
	}
	return mail.DispatcherOptions{
		Store: st, Sender: sender, Brand: mail.Brand{Name: "Acme ID"},
		PollInterval: 10 * time.Millisecond, SendTimeout: 10 * time.Second, Lease: time.Minute,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, MaxAttempts: 10,
	}
}

// run starts d.Run and returns a function that stops it and waits until Run has returned, which
// means any delivery in progress has been recorded.
func run(t *testing.T, d *mail.Dispatcher) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run = %v, want nil after cancel", err)
				}
			case <-time.After(wait):
				t.Errorf("Run did not return within %s of cancel", wait)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func newDispatcher(t *testing.T, o mail.DispatcherOptions) *mail.Dispatcher {
	t.Helper()
	d, err := mail.NewDispatcher(o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDispatcherDelivers(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		st := openStore(t, db)
		srv := mailtest.Start(t, mailtest.Options{StartTLS: true, User: "relay", Pass: "pw"})
		o := fast(st, srv, t)
		o.PollInterval = time.Hour // only Enqueue's wake-up can make this delivery quick
		d := newDispatcher(t, o)
		stop := run(t, d)

		link := "https://id.example.com/confirm?token=abc&u=1"
		if err := d.EnqueueTemplate(ctx, "alice@example.com", mail.Confirm{Link: link, Code: "K7Q2", ValidFor: time.Hour}); err != nil {
			t.Fatal(err)
		}
		got := srv.WaitFor(t, "alice@example.com", wait)
		if got.Subject != "Confirm your email address for Acme ID" || !strings.Contains(got.Text, link) ||
			!strings.Contains(got.HTML, strings.ReplaceAll(link, "&", "&amp;")) || !got.TLS || got.AuthUser != "relay" {
			t.Fatalf("arrived: subject %q TLS %v auth %q\n%s", got.Subject, got.TLS, got.AuthUser, got.Text)
		}
		if err := d.Run(ctx); err == nil {
			t.Error("a second Run on the same dispatcher was allowed")
		}
		stop()
		ms, err := st.ListMail(ctx, "", 0)
		if err != nil || len(ms) != 1 || ms[0].Status != gatehouse.MailSent || ms[0].Attempts != 1 || ms[0].SentAt == nil {
			t.Fatalf("outbox = %+v, %v", ms, err)
		}

		// An invalid message is refused at once and never stored.
		if err := d.Enqueue(ctx, mail.Message{To: "bob@example.com", Subject: "a\r\nBcc: x@example.com", Text: "t"}); gatehouse.ErrorCode(err) != gatehouse.EInvalid {
			t.Fatalf("Enqueue(bad) = %v, want invalid", err)
		}
		if err := d.EnqueueTemplate(ctx, "bob@example.com", mail.Reset{Link: "/relative"}); gatehouse.ErrorCode(err) != gatehouse.EInvalid {
			t.Fatalf("EnqueueTemplate(bad) = %v, want invalid", err)
		}
		if ms, _ := st.ListMail(ctx, "", 0); len(ms) != 1 {
			t.Fatalf("%d messages in the outbox, want 1", len(ms))
		}
	})
}

func TestDispatcherRetriesUntilTheServerRecovers(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		st := openStore(t, db)
		srv := mailtest.Start(t, mailtest.Options{})
		srv.FailNext(3)
		var logs syncBuffer
		o := fast(st, srv, t)
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		d := newDispatcher(t, o)
		stop := run(t, d)
		if err := d.EnqueueTemplate(ctx, "carol@example.com", mail.EmailCode{Code: "482913"}); err != nil {
			t.Fatal(err)
		}
		got := srv.WaitFor(t, "carol@example.com", wait)
		if !strings.Contains(got.Text, "482913") {
			t.Fatalf("arrived:\n%s", got.Text)
		}
		stop()
		ms, err := st.ListMail(ctx, "", 0)
		if err != nil || len(ms) != 1 {
			t.Fatalf("outbox = %+v, %v", ms, err)
		}
		if m := ms[0]; m.Status != gatehouse.MailSent || m.Attempts != 4 || !strings.Contains(m.LastError, "451") {
			t.Fatalf("after 3 failures and a success: status %s, attempts %d, last error %q", m.Status, m.Attempts, m.LastError)
		}
		if n := srv.Attempts(); n != 4 {
			t.Fatalf("the server saw %d attempts, want 4", n)
		}
		if n := strings.Count(logs.String(), "mail delivery failed, will retry"); n != 3 {
			t.Fatalf("%d retry warnings logged, want 3:\n%s", n, logs.String())
		}
	})
}

// With a fake clock: the backoff schedule is followed to the second, and after MaxAttempts the
// message is marked failed, logged at error level with the reason, and kept.
func TestDispatcherGivesUpAndKeepsTheMessage(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		st := openStore(t, db)
		srv := mailtest.Start(t, mailtest.Options{})
		srv.SetFailing(true)
		clock := testclock.New(time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC))
		var logs syncBuffer
		o := fast(st, srv, t)
		o.Now = clock.Now
		o.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
		o.MinBackoff, o.MaxBackoff, o.MaxAttempts = 30*time.Second, time.Hour, 3
		d := newDispatcher(t, o)
		if err := d.Enqueue(ctx, mail.Message{To: "dave@example.com", Subject: "Hello", Text: "body"}); err != nil {
			t.Fatal(err)
		}
		start := clock.Now()
		deliver := func(wantSent, wantAttempts int) {
			t.Helper()
			n, err := d.DeliverDue(ctx)
			if err != nil || n != wantSent || srv.Attempts() != wantAttempts {
				t.Fatalf("DeliverDue at +%s = %d, %v with %d server attempts; want %d with %d",
					clock.Now().Sub(start), n, err, srv.Attempts(), wantSent, wantAttempts)
			}
		}
		outbox := func() gatehouse.OutboxMail {
			t.Helper()
			ms, err := st.ListMail(ctx, "", 0)
			if err != nil || len(ms) != 1 {
				t.Fatalf("outbox = %+v, %v", ms, err)
			}
			return ms[0]
		}

		deliver(0, 1)
		if m := outbox(); m.Status != gatehouse.MailPending || !m.NextAttemptAt.Equal(start.Add(30*time.Second)) || !strings.Contains(m.LastError, "554") {
			t.Fatalf("after attempt 1: %s, next %s, error %q", m.Status, m.NextAttemptAt, m.LastError)
		}
		clock.Advance(29 * time.Second)
		deliver(0, 1) // not due yet
		clock.Advance(time.Second)
		deliver(0, 2)
		if m := outbox(); !m.NextAttemptAt.Equal(start.Add(30*time.Second + time.Minute)) {
			t.Fatalf("after attempt 2: next %s, want +1m30s", m.NextAttemptAt)
		}
		clock.Advance(time.Minute)
		deliver(0, 3)
		m := outbox()
		if m.Status != gatehouse.MailFailed || m.Attempts != 3 || !strings.Contains(m.LastError, "554") || m.LockedUntil != nil {
			t.Fatalf("after the last attempt: %+v", m)
		}
		clock.Advance(24 * time.Hour)
		srv.SetFailing(false)
		deliver(0, 3) // a failed message is never tried again

		l := logs.String()
		if !strings.Contains(l, `"level":"ERROR","msg":"mail undeliverable, giving up; it stays in the outbox as failed"`) ||
			!strings.Contains(l, `"mail_id":`+fmt.Sprint(m.ID)) || !strings.Contains(l, `"reason":"mail: send \"Hello\"`) || !strings.Contains(l, "554") {
			t.Fatalf("the give-up is not logged at error level with the reason:\n%s", l)
		}
	})
}

// Two dispatchers on one database (two instances; on Galera two nodes) deliver each message
// exactly once.
func TestDispatchersShareADatabase(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		db2 := db
		if len(db.Hosts) > 1 {
			db2.Hosts = append(append([]string(nil), db.Hosts[1:]...), db.Hosts[0])
		}
		st1, st2 := openStore(t, db), openStore(t, db2)
		srv := mailtest.Start(t, mailtest.Options{})
		d1, d2 := newDispatcher(t, fast(st1, srv, t)), newDispatcher(t, fast(st2, srv, t))
		stop1, stop2 := run(t, d1), run(t, d2)
		const n = 20
		for i := range n {
			d := d1
			if i%2 == 1 {
				d = d2
			}
			if err := d.Enqueue(ctx, mail.Message{To: fmt.Sprintf("user%d@example.com", i), Subject: fmt.Sprintf("message %d", i), Text: "body"}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range n {
			srv.WaitFor(t, fmt.Sprintf("user%d@example.com", i), wait)
		}
		stop1()
		stop2()
		seen := map[string]int{}
		for _, m := range srv.Messages() {
			seen[m.Subject]++
		}
		if len(seen) != n || len(srv.Messages()) != n {
			t.Fatalf("%d messages arrived (%d distinct), want %d once each", len(srv.Messages()), len(seen), n)
		}
		for s, k := range seen {
			if k != 1 {
				t.Errorf("%s arrived %d times", s, k)
			}
		}
		sent, err := st1.ListMail(ctx, "sent", 0)
		if err != nil || len(sent) != n {
			t.Fatalf("%d messages marked sent, %v; want %d", len(sent), err, n)
		}
	})
}

// A message enqueued before a restart is delivered by the next process, and so is one whose
// dispatcher died while holding its lease, once the lease ends.
func TestDispatcherDeliversAfterRestart(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		srv := mailtest.Start(t, mailtest.Options{})

		before, err := store.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := before.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		d := newDispatcher(t, fast(before, srv, t)) // never runs: the process "stops" first
		for _, to := range []string{"erin@example.com", "frank@example.com"} {
			if err := d.Enqueue(ctx, mail.Message{To: to, Subject: "queued before the restart", Text: "body"}); err != nil {
				t.Fatal(err)
			}
		}
		// A dispatcher that claimed one of them and died before sending it.
		claimed, err := before.ClaimDueMail(ctx, time.Now(), 300*time.Millisecond, 1)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim = %v, %v", claimed, err)
		}
		if err := before.Close(); err != nil {
			t.Fatal(err)
		}

		after := openStore(t, db)
		run(t, newDispatcher(t, fast(after, srv, t)))
		srv.WaitFor(t, "erin@example.com", wait)
		srv.WaitFor(t, "frank@example.com", wait)
		if n := len(srv.Messages()); n != 2 {
			t.Fatalf("%d messages arrived, want 2", n)
		}
	})
}

func TestNewDispatcherValidates(t *testing.T) {
	if _, err := mail.NewDispatcher(mail.DispatcherOptions{}); err == nil ||
		!strings.Contains(err.Error(), "Store") || !strings.Contains(err.Error(), "Sender") {
		t.Fatalf("NewDispatcher without store and sender = %v", err)
	}
	srv := mailtest.Start(t, mailtest.Options{})
	o := fast(nil, srv, t)
	o.Store = (*store.Store)(nil)
	o.Lease, o.SendTimeout = time.Second, time.Minute
	if _, err := mail.NewDispatcher(o); err == nil || !strings.Contains(err.Error(), "lease") {
		t.Fatalf("a lease shorter than the send timeout = %v, want an error", err)
	}
}
