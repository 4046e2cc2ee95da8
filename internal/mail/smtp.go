package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	gomailsmtp "github.com/wneessen/go-mail/smtp"
)

// The values of SMTP_TLS.
const (
	// TLSStartTLS connects in plain text and upgrades with STARTTLS, which the server must offer:
	// there is no silent fall-back to plain text. The default; port 587 unless set.
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte ("SMTPS"); port 465 unless set.
	TLSImplicit = "tls"
	// TLSNone never encrypts; port 25 unless set. The password is then only sent to a loopback
	// host, or with a mechanism that does not reveal it (CRAM-MD5, SCRAM).
	TLSNone = "none"
)

// DefaultSMTPTimeout bounds one delivery (connect, TLS, AUTH, and the transfer) when
// SMTPOptions.Timeout is zero.
const DefaultSMTPTimeout = 30 * time.Second

// SMTPOptions configure an SMTPSender. The comments name the environment variables the
// configuration reads them from.
type SMTPOptions struct {
	Host string // SMTP_HOST
	Port int    // SMTP_PORT; 0 means the usual port of TLS
	User string // SMTP_USER; AUTH is used only when set
	Pass string // SMTP_PASS or SMTP_PASS_FILE
	From string // SMTP_FROM: an address, optionally with a name: "Gatehouse <noreply@example.com>"
	TLS  string // SMTP_TLS: starttls (the default when empty), tls or none
	// Timeout bounds one delivery; 0 means DefaultSMTPTimeout.
	Timeout time.Duration
	// InsecureSkipVerify accepts any server certificate. For tests against a self-signed
	// server only; never set it from configuration.
	InsecureSkipVerify bool
}

// withDefaults fills in the TLS mode, the port and the timeout.
func (o SMTPOptions) withDefaults() SMTPOptions {
	o.TLS = strings.ToLower(strings.TrimSpace(o.TLS))
	if o.TLS == "" {
		o.TLS = TLSStartTLS
	}
	if o.Port == 0 {
		switch o.TLS {
		case TLSStartTLS:
			o.Port = 587
		case TLSImplicit:
			o.Port = 465
		case TLSNone:
			o.Port = 25
		}
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultSMTPTimeout
	}
	return o
}

// Validate reports every problem with the options at once, each naming its variable.
func (o SMTPOptions) Validate() error {
	o = o.withDefaults()
	var errs []error
	switch host := strings.TrimSpace(o.Host); {
	case host == "":
		errs = append(errs, errors.New("SMTP_HOST is required to send email"))
	case host != o.Host || strings.ContainsAny(host, " /:@") && net.ParseIP(strings.Trim(host, "[]")) == nil:
		errs = append(errs, fmt.Errorf("SMTP_HOST=%q: want a host name or IP address, without scheme, port or spaces", o.Host))
	}
	if o.Port < 1 || o.Port > 65535 {
		errs = append(errs, fmt.Errorf("SMTP_PORT=%d: want a port between 1 and 65535", o.Port))
	}
	switch o.TLS {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		errs = append(errs, fmt.Errorf("SMTP_TLS=%q: want starttls, tls or none", o.TLS))
	}
	if strings.TrimSpace(o.From) == "" {
		errs = append(errs, errors.New(`SMTP_FROM is required: the sender address, such as "Gatehouse <noreply@example.com>"`))
	} else if _, err := mail.ParseAddress(o.From); err != nil || strings.ContainsAny(o.From, "\r\n") {
		errs = append(errs, fmt.Errorf(`SMTP_FROM=%q: want one email address, such as "Gatehouse <noreply@example.com>"`, o.From))
	}
	if o.User == "" && o.Pass != "" {
		errs = append(errs, errors.New("SMTP_PASS is set but SMTP_USER is empty: set both to authenticate, or neither"))
	}
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("SMTP timeout %s: must not be negative", o.Timeout))
	}
	return errors.Join(errs...)
}

// SMTPSender delivers messages to one SMTP server with go-mail, one connection per message.
// It is safe for concurrent use.
type SMTPSender struct {
	o        SMTPOptions
	fromAddr string // the bare address of From, for Message-IDs
	tlsConf  *tls.Config
	opts     []gomail.Option
}

// NewSMTPSender validates o and returns a sender. It does not connect.
func NewSMTPSender(o SMTPOptions) (*SMTPSender, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("mail: invalid SMTP settings: %w", err)
	}
	o = o.withDefaults()
	from, _ := mail.ParseAddress(o.From) // validated above
	s := &SMTPSender{o: o, fromAddr: from.Address}
	s.tlsConf = &tls.Config{
		ServerName:         strings.Trim(o.Host, "[]"),
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: o.InsecureSkipVerify, // #nosec G402 -- tests only, documented on the option
	}
	s.opts = []gomail.Option{
		gomail.WithPort(o.Port),
		gomail.WithTimeout(o.Timeout),
		gomail.WithTLSConfig(s.tlsConf),
	}
	switch o.TLS {
	case TLSStartTLS:
		// Mandatory: a server that does not offer STARTTLS fails the delivery.
		s.opts = append(s.opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		// The connection is TLS from the start: Send's dialer makes the handshake.
		s.opts = append(s.opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSNone:
		s.opts = append(s.opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if o.User != "" {
		s.opts = append(s.opts, gomail.WithUsername(o.User), gomail.WithPassword(o.Pass),
			gomail.WithOpportunisticSMTPAuth(authMechanisms(o)...))
	}
	return s, nil
}

// authMechanisms lists the AUTH mechanisms to use, strongest first; the first one the server
// offers is used. go-mail's PLAIN and LOGIN refuse to send the password over an unencrypted
// connection; only towards a loopback host with SMTP_TLS=none are they allowed to, as the
// password then does not leave the machine.
func authMechanisms(o SMTPOptions) []gomail.SMTPAuthType {
	switch {
	case o.TLS != TLSNone:
		return []gomail.SMTPAuthType{gomail.SMTPAuthSCRAMSHA256PLUS, gomail.SMTPAuthSCRAMSHA256,
			gomail.SMTPAuthSCRAMSHA1PLUS, gomail.SMTPAuthSCRAMSHA1, gomail.SMTPAuthCramMD5,
			gomail.SMTPAuthPlain, gomail.SMTPAuthLogin}
	case isLoopback(o.Host):
		return []gomail.SMTPAuthType{gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1, gomail.SMTPAuthCramMD5,
			gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc}
	default:
		return []gomail.SMTPAuthType{gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1, gomail.SMTPAuthCramMD5,
			gomail.SMTPAuthPlain, gomail.SMTPAuthLogin}
	}
}

func isLoopback(host string) bool {
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send delivers m now. ctx bounds the whole delivery, not only the connect: when it ends, the
// connection is closed. The error says why a delivery failed (connection, TLS, AUTH or the
// server's answer) and never contains the password.
func (s *SMTPSender) Send(ctx context.Context, m Message) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("mail: send %q via %s:%d: %w", m.Subject, s.o.Host, s.o.Port, err)
		}
	}()
	if err := m.Validate(); err != nil {
		return err
	}
	msg := gomail.NewMsg()
	if err := msg.From(s.o.From); err != nil {
		return fmt.Errorf("from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(messageID(s.fromAddr))
	// RFC 3834: tells vacation responders and the like not to answer.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}

	var (
		mu    sync.Mutex
		stops []func() bool
	)
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, stop := range stops {
			stop()
		}
	}()
	// go-mail uses the context it is given only to connect; afterwards each command has its own
	// deadline. Closing the connection when ctx ends makes ctx bound the whole delivery, which
	// the dispatcher's lease relies on.
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		nd := &net.Dialer{}
		var c net.Conn
		var err error
		if s.o.TLS == TLSImplicit {
			c, err = (&tls.Dialer{NetDialer: nd, Config: s.tlsConf}).DialContext(dctx, network, addr)
		} else {
			c, err = nd.DialContext(dctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		mu.Lock()
		stops = append(stops, context.AfterFunc(ctx, func() { _ = c.Close() }))
		mu.Unlock()
		return c, nil
	}
	c, err := gomail.NewClient(s.o.Host, append(slices.Clip(s.opts), gomail.WithDialContextFunc(dial))...)
	if err != nil {
		return err
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%w: %w", ctxErr, err)
		}
		if s.o.TLS == TLSNone && (errors.Is(err, gomailsmtp.ErrUnencrypted) || errors.Is(err, gomail.ErrNoSupportedAuthDiscovered)) {
			return fmt.Errorf("%w (with SMTP_TLS=none the password is sent only to a loopback host or with a mechanism that keeps it secret; use SMTP_TLS=starttls or tls)", err)
		}
		return err
	}
	return nil
}

// messageID returns a unique Message-ID in the sender's domain (without the angle brackets
// go-mail adds).
func messageID(from string) string {
	domain := "gatehouse.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		domain = from[i+1:]
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b) + "@" + domain
}
