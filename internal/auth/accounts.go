package auth

import (
	"context"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/mail"
)

// What the user administration (internal/users) needs of the account rules: the password
// policy and hashing, the confirmation of a new address, the lockout keys of an account and
// the notices it mails. The rules stay here, written once; users writes the rows, events and
// mails they produce in its own transactions.

// HashNewPassword checks password against the policy (reported on field) for an account with
// this email, and returns its hash and the scheme that made it.
func (s *Service) HashNewPassword(ctx context.Context, field, password, email string) (hash, scheme string, err error) {
	if err := s.opts.Policy.CheckContext(ctx, field, password, email); err != nil {
		return "", "", err
	}
	return s.hasher.Hash(ctx, password)
}

// NewAccountConfirmation returns the confirmation token (hashed) and mail of a new account's
// address, or nil, nil when confirmation is off (SECURITY_CONFIRMABLE, or no SMTP).
func (s *Service) NewAccountConfirmation(email string) (*gatehouse.OneTimeToken, *gatehouse.OutboxMail, error) {
	if !s.opts.Confirmable {
		return nil, nil, nil
	}
	tok, code := randomToken(32), newCode()
	m, err := mail.Render(mail.Brand{Name: s.opts.BrandName}, email, mail.Confirm{Link: s.link("/confirm", tok), Code: code, ValidFor: s.opts.ConfirmWithin})
	if err != nil {
		return nil, nil, err
	}
	t := &gatehouse.OneTimeToken{TokenHash: s.HashOneTimeSecret(tok), CodeHash: s.HashOneTimeSecret(code), ExpiresAt: s.now().Add(s.opts.ConfirmWithin)}
	return t, &gatehouse.OutboxMail{To: email, Subject: m.Subject, Text: m.Text, HTML: m.HTML}, nil
}

// NewAccountInvite is the token and mail of an account an administrator creates by invitation:
// a password-reset token, valid for SECURITY_CONFIRM_EMAIL_WITHIN (it also confirms the
// address, as a confirmation link would), and the mail that lets the owner choose the password
// on the reset page. Without password recovery by email (SMTP, SECURITY_RECOVERABLE) there is
// no invitation: feature_disabled.
func (s *Service) NewAccountInvite(email string) (*gatehouse.OneTimeToken, *gatehouse.OutboxMail, error) {
	if !s.RecoveryEnabled() {
		return nil, nil, gatehouse.Errorf(gatehouse.EForbidden, "inviting needs outgoing mail (SMTP) and password recovery (SECURITY_RECOVERABLE)").WithReason("feature_disabled")
	}
	tok, code := randomToken(32), newCode()
	m, err := mail.Render(mail.Brand{Name: s.opts.BrandName}, email, mail.AccountInvite{Link: s.link("/reset-password", tok), Code: code, ValidFor: s.opts.ConfirmWithin})
	if err != nil {
		return nil, nil, err
	}
	t := &gatehouse.OneTimeToken{TokenHash: s.HashOneTimeSecret(tok), CodeHash: s.HashOneTimeSecret(code), ExpiresAt: s.now().Add(s.opts.ConfirmWithin)}
	return t, &gatehouse.OutboxMail{To: email, Subject: m.Subject, Text: m.Text, HTML: m.HTML}, nil
}

// Unlock lifts a lockout and the login backoff of an account (the command line's "user
// unlock"; the API's is the users service).
func (s *Service) Unlock(ctx context.Context, actor *int64, u *gatehouse.User, c Client) error {
	// The event is written with the change, in one transaction.
	return s.store.ClearThrottleAudited(ctx, s.LockoutKeys(u.Email),
		gatehouse.AuditEvent{Event: gatehouse.AuditUnlock, SubjectID: idPtr(u.ID), ActorID: actor, Email: u.Email, IP: c.IP, UserAgent: c.UserAgent})
}

// LockoutKeys are the throttle keys whose failures lock the account of email or slow it down:
// clearing them unlocks it.
func (s *Service) LockoutKeys(email string) []string {
	return []string{accountKey("login", email), accountKey("change", email)}
}

// TwoFactorResetNotice is the mail telling u that an administrator removed every second factor
// of the account, or nil when no mail can be sent.
func (s *Service) TwoFactorResetNotice(u *gatehouse.User) (*gatehouse.OutboxMail, error) {
	if s.mailer == nil {
		return nil, nil
	}
	m, err := mail.Render(mail.Brand{Name: s.opts.BrandName}, u.Email,
		mail.TwoFactorNotice{Method: "every second factor", ByAdmin: true, At: s.now(), Link: s.url("/profile")})
	if err != nil {
		return nil, err
	}
	return &gatehouse.OutboxMail{To: u.Email, Subject: m.Subject, Text: m.Text, HTML: m.HTML}, nil
}

// MailQueued tells the mail dispatcher that a transaction queued mail, so that it delivers now
// rather than at its next poll.
func (s *Service) MailQueued() {
	if w, ok := s.mailer.(interface{ Wake() }); ok {
		w.Wake()
	}
}
