package mail_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/mail"
	"github.com/gatehousehq/gatehouse/internal/mail/mailtest"
)

const wait = 20 * time.Second

func testMessage(to string) mail.Message {
	return mail.Message{
		To:      to,
		Subject: "Grüße from Gatehouse 🦫",
		Text:    "Hello,\nline two with ümlauts and a long line " + strings.Repeat("x", 200) + "\n",
		HTML:    `<p>Hello <b>there</b> & ümlauts</p>`,
	}
}

func send(t *testing.T, o mail.SMTPOptions, m mail.Message) error {
	t.Helper()
	s, err := mail.NewSMTPSender(o)
	if err != nil {
		t.Fatalf("NewSMTPSender: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	return s.Send(ctx, m)
}

func checkArrived(t *testing.T, got mailtest.Message, want mail.Message) {
	t.Helper()
	if got.To != want.To || got.Subject != want.Subject || got.Text != want.Text || got.HTML != want.HTML {
		t.Fatalf("arrived:\n To %q\n Subject %q\n Text %q\n HTML %q\nwant %+v", got.To, got.Subject, got.Text, got.HTML, want)
	}
	if got.From != "noreply@gatehouse.test" || len(got.Rcpt) != 1 || got.Rcpt[0] != want.To {
		t.Errorf("envelope from %q to %v", got.From, got.Rcpt)
	}
	if h := got.Header["Auto-Submitted"]; len(h) != 1 || h[0] != "auto-generated" {
		t.Errorf("Auto-Submitted = %v", h)
	}
	if id := strings.Join(got.Header["Message-Id"], ""); !strings.HasSuffix(id, "@gatehouse.test>") {
		t.Errorf("Message-ID = %q, want one in the sender's domain", id)
	}
}

func TestSMTPSenderPlain(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	m := testMessage("alice@example.com")
	if err := send(t, srv.SMTPOptions(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitFor(t, "alice@example.com", wait)
	checkArrived(t, got, m)
	if got.TLS || got.AuthUser != "" {
		t.Errorf("TLS %v, auth %q; want neither", got.TLS, got.AuthUser)
	}
	// A message without HTML is a single text part.
	m2 := mail.Message{To: "ALICE@example.com", Subject: "Text only", Text: "just text\n"}
	if err := send(t, srv.SMTPOptions(), m2); err != nil {
		t.Fatal(err)
	}
	if got := srv.WaitFor(t, "alice@example.com", wait); got.Text != "just text\n" || got.HTML != "" {
		t.Errorf("text-only message arrived as %q / %q", got.Text, got.HTML)
	}
}

func TestSMTPSenderStartTLS(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{StartTLS: true})
	m := testMessage("bob@example.com")
	if err := send(t, srv.SMTPOptions(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitFor(t, "bob@example.com", wait)
	checkArrived(t, got, m)
	if !got.TLS {
		t.Fatal("the session was not encrypted")
	}

	// The self-signed certificate is refused unless verification is switched off.
	o := srv.SMTPOptions()
	o.InsecureSkipVerify = false
	if err := send(t, o, m); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("self-signed certificate with verification: %v, want a certificate error", err)
	}
}

// STARTTLS is mandatory when chosen: a server that does not offer it gets nothing, rather than
// the message in plain text.
func TestSMTPSenderStartTLSMandatory(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	o := srv.SMTPOptions()
	o.TLS = mail.TLSStartTLS
	err := send(t, o, testMessage("carol@example.com"))
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("Send = %v, want an error about STARTTLS", err)
	}
	if n := srv.Attempts(); n != 0 {
		t.Fatalf("%d deliveries reached the server in plain text", n)
	}
}

func TestSMTPSenderImplicitTLS(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{ImplicitTLS: true, User: "relay", Pass: "s3cret"})
	m := testMessage("dave@example.com")
	if err := send(t, srv.SMTPOptions(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitFor(t, "dave@example.com", wait)
	checkArrived(t, got, m)
	if !got.TLS || got.AuthUser != "relay" {
		t.Fatalf("TLS %v, auth %q", got.TLS, got.AuthUser)
	}
}

func TestSMTPSenderAuth(t *testing.T) {
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		t.Run(mech, func(t *testing.T) {
			srv := mailtest.Start(t, mailtest.Options{StartTLS: true, User: "relay@example.com", Pass: "p@ss w0rd", AuthMechanisms: []string{mech}})
			m := testMessage("erin@example.com")
			if err := send(t, srv.SMTPOptions(), m); err != nil {
				t.Fatal(err)
			}
			got := srv.WaitFor(t, "erin@example.com", wait)
			checkArrived(t, got, m)
			if got.AuthUser != "relay@example.com" || !got.TLS {
				t.Fatalf("auth %q, TLS %v", got.AuthUser, got.TLS)
			}

			bad := srv.SMTPOptions()
			bad.Pass = "wrong"
			err := send(t, bad, m)
			if err == nil || !strings.Contains(err.Error(), "AUTH") || strings.Contains(err.Error(), "wrong") {
				t.Fatalf("wrong password: %v, want an AUTH error that does not repeat the password", err)
			}
			anon := srv.SMTPOptions()
			anon.User, anon.Pass = "", ""
			if err := send(t, anon, m); err == nil {
				t.Fatal("a server requiring AUTH accepted mail without it")
			}
			if n := len(srv.Messages()); n != 1 {
				t.Fatalf("%d messages arrived, want only the authenticated one", n)
			}
		})
	}
}

// Without TLS, PLAIN is used only towards a loopback host, where the password stays on the
// machine.
func TestSMTPSenderAuthWithoutTLSOnLoopback(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{User: "relay", Pass: "pw", AllowInsecureAuth: true})
	o := srv.SMTPOptions()
	if o.TLS != mail.TLSNone {
		t.Fatalf("TLS = %q", o.TLS)
	}
	if err := send(t, o, testMessage("frank@example.com")); err != nil {
		t.Fatal(err)
	}
	if got := srv.WaitFor(t, "frank@example.com", wait); got.AuthUser != "relay" || got.TLS {
		t.Fatalf("auth %q, TLS %v", got.AuthUser, got.TLS)
	}
}

func TestSMTPSenderRejectsBadMessages(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	for name, m := range map[string]mail.Message{
		"subject injection":   {To: "a@example.com", Subject: "Hi\r\nBcc: victim@example.com", Text: "x"},
		"recipient injection": {To: "a@example.com\r\nBcc: victim@example.com", Subject: "Hi", Text: "x"},
		"two recipients":      {To: "a@example.com, victim@example.com", Subject: "Hi", Text: "x"},
	} {
		if err := send(t, srv.SMTPOptions(), m); gatehouse.ErrorCode(err) != gatehouse.EInvalid {
			t.Errorf("%s: Send = %v, want invalid", name, err)
		}
	}
	if n := srv.Attempts(); n != 0 {
		t.Fatalf("%d bad messages reached the server", n)
	}
}

func TestSMTPSenderServerErrors(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	srv.SetFailing(true)
	err := send(t, srv.SMTPOptions(), testMessage("gina@example.com"))
	if err == nil || !strings.Contains(err.Error(), "554") {
		t.Fatalf("Send to a rejecting server = %v, want the 554", err)
	}
	srv.SetFailing(false)
	srv.FailNext(1)
	if err := send(t, srv.SMTPOptions(), testMessage("gina@example.com")); err == nil || !strings.Contains(err.Error(), "451") {
		t.Fatalf("Send = %v, want the 451", err)
	}
	if err := send(t, srv.SMTPOptions(), testMessage("gina@example.com")); err != nil {
		t.Fatalf("Send after the failures: %v", err)
	}
	if n, a := len(srv.Messages()), srv.Attempts(); n != 1 || a != 3 {
		t.Fatalf("%d messages after %d attempts, want 1 after 3", n, a)
	}

	// Nothing listening: a connection error, within the timeout.
	o := srv.SMTPOptions()
	o.Port = 1
	o.Timeout = 2 * time.Second
	if err := send(t, o, testMessage("gina@example.com")); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("Send to a closed port = %v", err)
	}
}

func TestSMTPOptionsValidate(t *testing.T) {
	good := mail.SMTPOptions{Host: "smtp.example.com", From: "Gatehouse <noreply@example.com>"}
	if err := good.Validate(); err != nil {
		t.Fatalf("minimal options: %v", err)
	}
	for _, h := range []string{"127.0.0.1", "::1", "[::1]", "mail-relay"} {
		o := good
		o.Host = h
		if err := o.Validate(); err != nil {
			t.Errorf("host %q: %v", h, err)
		}
	}
	for name, tc := range map[string]struct {
		o    mail.SMTPOptions
		want []string
	}{
		"everything wrong": {mail.SMTPOptions{Port: 70000, TLS: "ssl", Pass: "x", Timeout: -1},
			[]string{"SMTP_HOST", "SMTP_PORT", "SMTP_TLS", "SMTP_FROM", "SMTP_PASS", "timeout"}},
		"host with scheme": {mail.SMTPOptions{Host: "smtp://mail.example.com", From: "a@example.com"}, []string{"SMTP_HOST"}},
		"host with port":   {mail.SMTPOptions{Host: "mail.example.com:25", From: "a@example.com"}, []string{"SMTP_HOST"}},
		"bad from":         {mail.SMTPOptions{Host: "mail.example.com", From: "not an address"}, []string{"SMTP_FROM"}},
		"two froms":        {mail.SMTPOptions{Host: "mail.example.com", From: "a@example.com, b@example.com"}, []string{"SMTP_FROM"}},
		"negative port":    {mail.SMTPOptions{Host: "mail.example.com", From: "a@example.com", Port: -1}, []string{"SMTP_PORT"}},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.o.Validate()
			if err == nil {
				t.Fatal("Validate = nil")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not name %s: %v", w, err)
				}
			}
			if _, err := mail.NewSMTPSender(tc.o); err == nil {
				t.Error("NewSMTPSender accepted the options")
			}
		})
	}
}

// The context bounds the whole delivery, not only the connect: a server that stops answering
// midway does not hold the sender for the SMTP timeout.
func TestSMTPSenderHonoursContextDeadline(t *testing.T) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // the listener closed at cleanup
			}
			conns = append(conns, c)
			_, _ = c.Write([]byte("220 localhost ESMTP stalling\r\n")) // then never answers EHLO
		}
	}()
	s, err := mail.NewSMTPSender(mail.SMTPOptions{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port,
		From: "noreply@gatehouse.test", TLS: mail.TLSNone, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Send(ctx, testMessage("hank@example.com"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send to a stalling server = %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Send returned after %s with a 300ms context", d)
	}
}
