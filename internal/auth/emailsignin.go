package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/mail"
	"github.com/gatehousehq/gatehouse/internal/store"
)

// Sign-in by email (SECURITY_PASSWORDLESS_EMAIL; Flask-Security's unified sign-in with the
// email method). A request mails a 6-digit code and a link, and answers the client that asked
// with a random binding secret, which the client sends back to finish. The code is stored as
// an HMAC keyed by the one-time-code key and the binding, the link token as an HMAC, the
// binding as a SHA-256: so the mail alone signs nobody in. Someone who only intercepts it can
// neither type the code anywhere nor follow the link to a signed-in session: opened in a
// browser that does not hold the binding, the link only asks whether the client that asked may
// sign in (ApproveEmailSignIn), and that client then finishes with its binding.
//
// An emailed code is one factor: the second-factor policy applies after it exactly as after a
// password. Wrong codes count against the login counters (per account, per client address,
// per device token) and lockout, as wrong passwords do; requests count against their own
// counters, like forgot-password, so that nobody can bomb a mailbox. Unknown addresses get the
// same answers, after the same statements.

// PasswordlessOptions are the settings of sign-in by email.
type PasswordlessOptions struct {
	// Email is SECURITY_PASSWORDLESS_EMAIL; it works only with a mailer.
	Email bool
	// Within is SECURITY_PASSWORDLESS_WITHIN: how long a code and link work (zero:
	// DefaultPasswordlessWithin).
	Within time.Duration
}

// DefaultPasswordlessWithin is SECURITY_PASSWORDLESS_WITHIN's default.
const DefaultPasswordlessWithin = 10 * time.Minute

// emailSignInMaxFailures wrong codes end a request; the login throttle slows guessing across
// requests too.
const emailSignInMaxFailures = 5

// ReasonEmailSignInPending is the wire code of a sign-in by email finished without a code
// before the mailed link was confirmed in another browser.
const ReasonEmailSignInPending = "email_signin_pending"

var (
	errEmailSignInOff = gatehouse.Errorf(gatehouse.EForbidden, "sign-in by email is not enabled on this server").WithReason("feature_disabled")
	// errBadEmailCode answers every code that does not sign in: wrong, expired, used, another
	// client's, or sent for an address without an account.
	errBadEmailCode = &gatehouse.Error{Code: gatehouse.EUnauthenticated, Message: "code: is not correct, has expired or was used already",
		Fields: map[string]string{"code": "is not correct, has expired or was used already"}}
	errEmailSignInPending = gatehouse.Errorf(gatehouse.EForbidden,
		"the emailed link has not been confirmed (or the request has expired): enter the code from the email, or open the link and confirm").
		WithReason(ReasonEmailSignInPending)
)

// EmailSignInEnabled reports whether sign-in by email works: SECURITY_PASSWORDLESS_EMAIL, with
// SMTP configured.
func (s *Service) EmailSignInEnabled() bool { return s.opts.Passwordless.Email && s.mailer != nil }

func (s *Service) emailSignInWithin() time.Duration {
	if d := s.opts.Passwordless.Within; d > 0 {
		return d
	}
	return DefaultPasswordlessWithin
}

// emailSignInCodeHash is the stored form of a mailed code: keyed by the binding's hash too, so
// that the six digits mean nothing to a client that does not hold the binding.
func (s *Service) emailSignInCodeHash(bindingHash, code string) string {
	return s.hashSecret("email-signin:" + bindingHash + ":" + code)
}

// EmailSignInTicket answers a request for a sign-in code: the client keeps Binding (secret)
// and sends it back with the code, or to finish after the link was confirmed elsewhere.
type EmailSignInTicket struct {
	Binding   string
	ExpiresAt time.Time
}

// RequestEmailSignIn mails a sign-in code and link when the address belongs to an active
// account that may sign in with a password (not an SSO-only one). It answers the same, with a
// fresh binding, whether or not it does.
func (s *Service) RequestEmailSignIn(ctx context.Context, email string, c Client) (*EmailSignInTicket, error) {
	if !s.EmailSignInEnabled() {
		return nil, errEmailSignInOff
	}
	email, err := ValidateEmail("email", email)
	if err != nil {
		return nil, err
	}
	keys := []string{accountKey("email-code", email)}
	if c.IP != "" {
		keys = append(keys, ipKey("email-code", c.IP))
	}
	if _, err := s.checkThrottle(ctx, keys...); err != nil {
		return nil, err
	}
	// Every request counts, as for forgot-password: one address cannot be mail-bombed.
	s.fail(ctx, "email-code", email, c, nil)
	binding, tok, code := randomToken(32), randomToken(32), newEmailCode()
	bindingHash := hashToken(binding)
	within := s.emailSignInWithin()
	m, err := mail.Render(mail.Brand{Name: s.opts.BrandName}, email, mail.EmailSignIn{Link: s.link("/login/email/link", tok), Code: code, ValidFor: within})
	if err != nil {
		return nil, err
	}
	expires := s.now().Add(within)
	// The same statements whatever the address (see store.RequestEmailSignIn).
	if err := s.store.RequestEmailSignIn(ctx, store.EmailSignInRequest{
		Email: email, BindingHash: bindingHash, TokenHash: s.HashOneTimeSecret(tok), CodeHash: s.emailSignInCodeHash(bindingHash, code),
		ExpiresAt: expires, IP: c.IP, UserAgent: c.UserAgent,
		Mail:  &gatehouse.OutboxMail{Subject: m.Subject, Text: m.Text, HTML: m.HTML},
		Audit: gatehouse.AuditEvent{Event: gatehouse.AuditEmailSignInRequested, Email: email, IP: c.IP, UserAgent: c.UserAgent},
	}); err != nil {
		return nil, err
	}
	if w, ok := s.mailer.(interface{ Wake() }); ok {
		w.Wake() // deliver now rather than at the next poll
	}
	return &EmailSignInTicket{Binding: binding, ExpiresAt: expires}, nil
}

// EmailSignInInput finishes a sign-in by email with the mailed code, or without one once the
// mailed link was confirmed in another browser.
type EmailSignInInput struct {
	Email   string
	Binding string // from RequestEmailSignIn's answer
	Code    string // the 6-digit code; "" to finish after the link was confirmed elsewhere
	Scope   string // as LoginInput's
	// Remember, RememberDeviceToken and DeviceToken are LoginInput's.
	Remember            bool
	RememberDeviceToken string
	DeviceToken         string
	Client              Client
}

// VerifyEmailSignIn finishes a sign-in by email and answers like Login: a token pair, or the
// second-factor challenge when the account has a second factor.
func (s *Service) VerifyEmailSignIn(ctx context.Context, in EmailSignInInput) (*TokenPair, error) {
	if !s.EmailSignInEnabled() {
		return nil, errEmailSignInOff
	}
	email, err := ValidateEmail("email", in.Email)
	if err != nil {
		return nil, err
	}
	if in.Binding == "" {
		return nil, gatehouse.FieldError("binding", "is required")
	}
	code := normalizeDigits(in.Code)
	if code != "" && !sixDigits(code) {
		return nil, errCodeFormat
	}
	requested, err := parseRequestedScopes(in.Scope)
	if err != nil {
		return nil, err
	}
	// The account is looked up for the device token's trust and the audit trail only.
	gate, u, locked, err := s.signInStart(ctx, email, in.Client, in.DeviceToken)
	if err != nil {
		return nil, err
	}
	refused := errBadEmailCode
	if code == "" {
		refused = errEmailSignInPending // nothing was guessed: not a failure
	}
	if u != nil && (locked || !u.Active) {
		detail := "email code: account locked"
		if !u.Active {
			detail = "email code: account inactive"
		}
		s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditLoginFailure, SubjectID: idPtr(u.ID), Email: email, Detail: detail}, in.Client)
		return nil, refused
	}
	proof := store.EmailSignInProof{BindingHash: hashToken(in.Binding), Email: email}
	via := "email link"
	if code != "" {
		proof.CodeHash, via = s.emailSignInCodeHash(proof.BindingHash, code), "email code"
	}
	res, err := s.store.ConsumeEmailSignIn(ctx, proof, emailSignInMaxFailures, store.NewSecurityStamp())
	if err != nil {
		return nil, err
	}
	if res.Outcome != store.EmailSignInDone {
		if code == "" {
			return nil, refused
		}
		var subject *int64
		detail := "email code: unknown email"
		if u != nil {
			subject, detail = idPtr(u.ID), "email code: wrong code"
		}
		s.failLogin(ctx, gate, email, in.Client, subject)
		s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditLoginFailure, SubjectID: subject, Email: email, Detail: detail}, in.Client)
		return nil, refused
	}
	return s.finishEmailSignIn(ctx, res, gate, requested, in, via)
}

// finishEmailSignIn opens the session of a sign-in by email whose request was used up, or
// answers with the second-factor challenge.
func (s *Service) finishEmailSignIn(ctx context.Context, res store.EmailSignInResult, gate *loginGate, requested []gatehouse.Scope, in EmailSignInInput, via string) (*TokenPair, error) {
	u := res.User
	if res.Secured {
		removed := "no password was set"
		if res.HadPassword {
			removed = "password removed"
		}
		s.log.Warn("email sign-in to an account that was never confirmed; its password, factors, sessions and API keys were removed", "user_id", u.ID)
		s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditEmailSignInSecured, SubjectID: idPtr(u.ID), ActorID: idPtr(u.ID), Email: u.Email,
			Detail: fmt.Sprintf("the address had never been confirmed: %s; second factors and pending one-time tokens removed; every session ended; %d API keys revoked (%s)",
				removed, res.APIKeysRevoked, via)}, in.Client)
	}
	allowed, err := s.allowedScopes(ctx, u)
	if err != nil {
		return nil, err
	}
	scopes := capScopes(requested, allowed)
	if len(scopes) == 0 {
		return nil, gatehouse.FieldError("scope", "none of the requested scopes is allowed for this account")
	}
	// One factor so far: a second factor is asked for as after a password, and the counters
	// stay as they are until it passes. It must be another one than the mailbox: codes by
	// email are left out of the second step (as the app is after an authenticator code).
	if ch, err := s.secondStep(ctx, u, scopes, LoginInput{Remember: in.Remember, RememberDeviceToken: in.RememberDeviceToken,
		firstFactor: MethodEmail}); err != nil || ch != nil {
		if ch != nil {
			return &TokenPair{TwoFactor: ch}, nil
		}
		return nil, err
	}
	s.passed(ctx, gate)
	if err := s.store.ClearThrottle(ctx, accountKey("email-code", u.Email)); err != nil {
		s.log.Error("throttle not cleared", "error", err)
	}
	if s.opts.Trackable {
		if err := s.store.RecordLogin(ctx, u.ID, in.Client.IP); err != nil {
			return nil, err
		}
	}
	pair, err := s.openSession(ctx, u, scopes, in.Remember, in.Client)
	if err != nil {
		return nil, err
	}
	pair.DeviceToken = s.issueDeviceToken(u)
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditLoginSuccess, SubjectID: idPtr(u.ID), ActorID: idPtr(u.ID), Email: u.Email, Detail: via}, in.Client)
	return pair, nil
}
