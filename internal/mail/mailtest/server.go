// Package mailtest runs a real SMTP server in the test process (github.com/emersion/go-smtp on
// 127.0.0.1, a free port) that records every message it accepts, so tests send mail the way
// production does and read what arrived. It can require AUTH, offer STARTTLS or speak implicit
// TLS with a self-signed certificate, and fail deliveries on demand to exercise retries.
package mailtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/gatehousehq/gatehouse/internal/mail"
)

// Options configure a Server. The zero value is a plain server without AUTH or TLS.
type Options struct {
	// User and Pass, when User is set, make AUTH (PLAIN, LOGIN) mandatory before MAIL.
	User, Pass string
	// AuthMechanisms restricts the mechanisms offered: "PLAIN", "LOGIN" (both by default).
	AuthMechanisms []string
	// AllowInsecureAuth offers AUTH before TLS (by default only after STARTTLS or with
	// ImplicitTLS).
	AllowInsecureAuth bool
	// StartTLS offers STARTTLS with a self-signed certificate for 127.0.0.1 and localhost.
	StartTLS bool
	// ImplicitTLS speaks TLS from the first byte (SMTP_TLS=tls).
	ImplicitTLS bool
}

// Message is one message the server accepted.
type Message struct {
	From     string   // envelope sender (MAIL FROM)
	Rcpt     []string // envelope recipients (RCPT TO)
	To       string   // the address in the To header
	Subject  string   // decoded
	Text     string   // the text/plain part, decoded
	HTML     string   // the text/html part, decoded
	Header   map[string][]string
	Raw      []byte // the message as received
	TLS      bool   // whether the session was encrypted
	AuthUser string // who authenticated, if anyone
}

// Server is a recording SMTP server. Its methods are safe for concurrent use.
type Server struct {
	opts Options
	srv  *smtp.Server
	ln   net.Listener
	pool *x509.CertPool

	mu       sync.Mutex
	msgs     []Message
	taken    map[int]bool // messages WaitFor has returned
	changed  chan struct{}
	attempts int
	failNext int
	failing  bool
}

// Start starts a server on 127.0.0.1 with a free port and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, taken: map[int]bool{}, changed: make(chan struct{})}
	var tlsConf *tls.Config
	if opts.StartTLS || opts.ImplicitTLS {
		cert, pool, err := selfSigned()
		if err != nil {
			t.Fatalf("mailtest: certificate: %v", err)
		}
		s.pool = pool
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	if opts.ImplicitTLS {
		ln = tls.NewListener(ln, tlsConf)
	}
	s.ln = ln
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout = 30 * time.Second
	s.srv.WriteTimeout = 30 * time.Second
	s.srv.MaxMessageBytes = 8 << 20
	s.srv.MaxRecipients = 10
	s.srv.AllowInsecureAuth = opts.AllowInsecureAuth
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	if opts.StartTLS {
		s.srv.TLSConfig = tlsConf
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.srv.Serve(ln) // returns when Close is called
	}()
	t.Cleanup(func() {
		_ = s.srv.Close()
		// Serve may not have registered the listener with the server yet; closing it here
		// makes that Serve return at once.
		_ = ln.Close()
		<-done
	})
	return s
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Port returns the server's port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// CertPool returns a pool holding the server's self-signed certificate (nil without TLS).
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// SMTPOptions returns sender options that reach this server: its host, port, TLS mode and
// credentials, InsecureSkipVerify for the self-signed certificate, and a test sender address.
func (s *Server) SMTPOptions() mail.SMTPOptions {
	o := mail.SMTPOptions{
		Host: "127.0.0.1", Port: s.Port(), User: s.opts.User, Pass: s.opts.Pass,
		From: "Gatehouse <noreply@gatehouse.test>", TLS: mail.TLSNone, Timeout: 10 * time.Second,
	}
	switch {
	case s.opts.ImplicitTLS:
		o.TLS, o.InsecureSkipVerify = mail.TLSImplicit, true
	case s.opts.StartTLS:
		o.TLS, o.InsecureSkipVerify = mail.TLSStartTLS, true
	}
	return o
}

// FailNext makes the next n deliveries fail with a temporary error (451) after the data is
// sent; nothing is recorded for them.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// SetFailing makes every delivery fail with a permanent error (554) while on is true.
func (s *Server) SetFailing(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing = on
}

// Attempts returns how many deliveries reached the end of DATA, failed ones included.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Messages returns every message accepted so far, in order of arrival.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// WaitFor returns the first message to the address to (compared case-insensitively, envelope or
// To header) that an earlier WaitFor has not returned, waiting up to timeout for it to arrive;
// it fails the test when none does. So successive calls return successive messages.
func (s *Server) WaitFor(t testing.TB, to string, timeout time.Duration) Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		for i, m := range s.msgs {
			if !s.taken[i] && m.sentTo(to) {
				s.taken[i] = true
				s.mu.Unlock()
				return m
			}
		}
		changed := s.changed
		n := len(s.msgs)
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("mailtest: no message to %s within %s (%d message(s) arrived, %d delivery attempt(s))", to, timeout, n, s.Attempts())
			return Message{}
		}
	}
}

func (m Message) sentTo(addr string) bool {
	if strings.EqualFold(m.To, addr) {
		return true
	}
	for _, r := range m.Rcpt {
		if strings.EqualFold(r, addr) {
			return true
		}
	}
	return false
}

func (s *Server) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

// deliveryError decides whether the delivery now ending fails, and counts the attempt.
func (s *Server) deliveryError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	switch {
	case s.failing:
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 3, 0}, Message: "mailtest: delivery rejected"}
	case s.failNext > 0:
		s.failNext--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "mailtest: temporary failure"}
	}
	return nil
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, conn: c}, nil
}

type session struct {
	s        *Server
	conn     *smtp.Conn
	authUser string
	from     string
	rcpt     []string
}

func (se *session) AuthMechanisms() []string {
	if se.s.opts.User == "" {
		return nil
	}
	if len(se.s.opts.AuthMechanisms) > 0 {
		return se.s.opts.AuthMechanisms
	}
	return []string{sasl.Plain, sasl.Login}
}

func (se *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != se.s.opts.User || pass != se.s.opts.Pass {
			return smtp.ErrAuthFailed
		}
		se.authUser = user
		return nil
	}
	offered := false
	for _, m := range se.AuthMechanisms() {
		offered = offered || strings.EqualFold(m, mech)
	}
	switch {
	case !offered:
		return nil, smtp.ErrAuthUnknownMechanism
	case strings.EqualFold(mech, sasl.Plain):
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case strings.EqualFold(mech, sasl.Login):
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.s.opts.User != "" && se.authUser == "" {
		return smtp.ErrAuthRequired
	}
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.rcpt = append(se.rcpt, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := se.s.deliveryError(); err != nil {
		return err
	}
	m, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "mailtest: unparsable message: " + err.Error()}
	}
	m.From, m.Rcpt, m.AuthUser = se.from, append([]string(nil), se.rcpt...), se.authUser
	_, m.TLS = se.conn.TLSConnectionState()
	se.s.record(m)
	return nil
}

func (se *session) Reset() { se.from, se.rcpt = "", nil }

func (se *session) Logout() error { return nil }

// loginServer is the server side of the LOGIN mechanism, which go-sasl does not provide.
type loginServer struct {
	step  int
	user  string
	check func(user, pass string) error
}

func (l *loginServer) Next(resp []byte) (challenge []byte, done bool, err error) {
	switch l.step {
	case 0:
		l.step++
		if resp == nil {
			return []byte("Username:"), false, nil
		}
		fallthrough // the client sent the user name as its initial response
	case 1:
		l.step = 2
		l.user = string(resp)
		return []byte("Password:"), false, nil
	case 2:
		l.step++
		return nil, true, l.check(l.user, string(resp))
	}
	return nil, false, errors.New("unexpected LOGIN response")
}

// selfSigned makes a short-lived ECDSA certificate for 127.0.0.1, ::1 and localhost.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}

// String describes the server for test logs.
func (s *Server) String() string { return fmt.Sprintf("mailtest server at %s", s.Addr()) }
