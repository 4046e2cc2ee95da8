package auth

import (
	"context"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/mail"
	"github.com/gatehousehq/gatehouse/internal/store"
)

var errSamePassword = gatehouse.FieldError("new_password", "must differ from the current password")

// ChangePassword sets a new password for the caller after checking the current one. Every
// other session and token ends (the security stamp changes); the caller gets a fresh token pair
// so it stays signed in. It needs no SMTP; a notice is mailed when SMTP is configured. An
// account without a password sets its first one without current (see setFirstPassword).
func (s *Service) ChangePassword(ctx context.Context, p *gatehouse.Principal, current, next string, c Client) (*TokenPair, error) {
	if !s.opts.Changeable {
		return nil, gatehouse.Errorf(gatehouse.EForbidden, "changing passwords is disabled").WithReason("feature_disabled")
	}
	if !p.User.PasswordSet() {
		// No current password to check: the first one is set like any credential change.
		return s.setFirstPassword(ctx, p, next, c)
	}
	problems := map[string]string{}
	if current == "" {
		problems["current_password"] = "is required"
	}
	if next == "" {
		problems["new_password"] = "is required"
	}
	if len(problems) > 0 {
		return nil, &gatehouse.Error{Code: gatehouse.EInvalid, Message: "missing fields", Fields: problems}
	}
	u := p.User
	key := accountKey("change", u.Email)
	if _, err := s.checkThrottle(ctx, key); err != nil {
		return nil, err
	}
	if ok, _ := s.hasher.Verify(ctx, u.PasswordHash, u.PasswordScheme, current); !ok {
		s.fail(ctx, "change", u.Email, c, idPtr(u.ID))
		return nil, gatehouse.FieldError("current_password", "is not correct")
	}
	if same, _ := s.hasher.Verify(ctx, u.PasswordHash, u.PasswordScheme, next); same {
		return nil, errSamePassword
	}
	if err := s.opts.Policy.CheckContext(ctx, "new_password", next, u.Email); err != nil {
		return nil, err
	}
	hash, scheme, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return nil, err
	}
	stamp := store.NewSecurityStamp()
	if err := s.store.SetPassword(ctx, u.ID, store.PasswordUpdate{Hash: hash, Scheme: scheme, NewStamp: stamp, ClearMustChange: true}); err != nil {
		return nil, err
	}
	_ = s.store.ClearThrottle(ctx, key)
	u.PasswordHash, u.PasswordScheme, u.SecurityStamp, u.MustChangePassword = hash, scheme, stamp, false
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditPasswordChange, SubjectID: idPtr(u.ID), ActorID: idPtr(u.ID), Email: u.Email}, c)
	if s.mailer != nil && s.opts.SendChangeNotice {
		s.send(ctx, u.Email, mail.ChangeNotice{At: s.now(), Link: s.url("/forgot-password")})
	}
	return s.openSession(ctx, u, p.Scopes, false, c)
}

func (s *Service) send(ctx context.Context, to string, content mail.Content) {
	if err := s.mailer.EnqueueTemplate(ctx, to, content); err != nil {
		// The outbox is in the database: failing to queue means the database failed, and the
		// flow has already done its work. Log loudly; never drop silently.
		s.log.Error("email not queued", "kind", content.Kind(), "error", err)
	}
}

// errRecoveryDisabled answers forgot/reset when SMTP or recovery is off.
var errRecoveryDisabled = gatehouse.Errorf(gatehouse.EForbidden, "password recovery by email is not available on this server").WithReason("feature_disabled")

// ForgotPassword mails a reset link and code when the email belongs to an active account. It
// answers the same whether or not it does.
func (s *Service) ForgotPassword(ctx context.Context, email string, c Client) error {
	if !s.RecoveryEnabled() {
		return errRecoveryDisabled
	}
	email, err := ValidateEmail("email", email)
	if err != nil {
		return err
	}
	keys := []string{accountKey("forgot", email)}
	if c.IP != "" {
		keys = append(keys, ipKey("forgot", c.IP))
	}
	if _, err := s.checkThrottle(ctx, keys...); err != nil {
		return err
	}
	// Every request counts as an attempt, so one address cannot be mail-bombed.
	s.fail(ctx, "forgot", email, c, nil)
	// From here on the work is the same whether or not the address has an account, so that
	// the answer takes the same time (issue 12): a token, a rendered mail and one transaction
	// of the same statements (store.RequestReset), which issue the token and queue the mail
	// only for an active account. The account is never looked up in Go.
	req := store.ResetRequest{Email: email,
		Audit: gatehouse.AuditEvent{Event: gatehouse.AuditResetRequested, Email: email, IP: c.IP, UserAgent: c.UserAgent}}
	if s.opts.SendResetEmail {
		// Without the email there is no way to deliver a token: issue none.
		tok, code := randomToken(32), newCode()
		m, err := mail.Render(mail.Brand{Name: s.opts.BrandName}, email, mail.Reset{Link: s.link("/reset-password", tok), Code: code, ValidFor: s.opts.ResetWithin})
		if err != nil {
			return err
		}
		req.TokenHash, req.CodeHash, req.ExpiresAt = s.HashOneTimeSecret(tok), s.HashOneTimeSecret(code), s.now().Add(s.opts.ResetWithin)
		req.Mail = &gatehouse.OutboxMail{Subject: m.Subject, Text: m.Text, HTML: m.HTML}
	}
	if err := s.store.RequestReset(ctx, req); err != nil {
		return err
	}
	if w, ok := s.mailer.(interface{ Wake() }); ok {
		w.Wake() // deliver now rather than at the next poll
	}
	return nil
}

func (s *Service) issueActionToken(ctx context.Context, purpose string, u *gatehouse.User, within time.Duration) (tok, code string, err error) {
	tok, code = randomToken(32), newCode()
	err = s.store.CreateActionToken(ctx, store.ActionToken{
		TokenHash: s.HashOneTimeSecret(tok), CodeHash: s.HashOneTimeSecret(code), Purpose: purpose, UserID: u.ID,
		Stamp: u.SecurityStamp, ExpiresAt: s.now().Add(within),
	})
	return tok, code, err
}

var errBadActionToken = gatehouse.FieldError("token", "is invalid or has expired")

// ResetPassword sets a new password with a mailed reset token or code. The token is consumed in
// the same transaction; the new password must differ from the current one; every session ends.
func (s *Service) ResetPassword(ctx context.Context, tok, next string, c Client) error {
	if !s.RecoveryEnabled() {
		return errRecoveryDisabled
	}
	if tok == "" {
		return gatehouse.FieldError("token", "is required")
	}
	if next == "" {
		return gatehouse.FieldError("new_password", "is required")
	}
	keys := []string{}
	if c.IP != "" {
		keys = append(keys, ipKey("reset", c.IP))
		if _, err := s.checkThrottle(ctx, keys...); err != nil {
			return err
		}
	}
	hash := s.HashOneTimeSecret(tok)
	u, err := s.store.ActionTokenUser(ctx, store.PurposeReset, hash)
	if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
		s.failIP(ctx, "reset", c)
		return errBadActionToken
	}
	if err != nil {
		return err
	}
	if err := s.opts.Policy.CheckContext(ctx, "new_password", next, u.Email); err != nil {
		return err
	}
	newHash, scheme, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	u, err = s.store.ResetWithToken(ctx, hash, store.PasswordUpdate{Hash: newHash, Scheme: scheme, NewStamp: store.NewSecurityStamp(), ClearMustChange: true},
		func(cur *gatehouse.User) error {
			if !cur.Active {
				return errBadActionToken // deactivated since the token was mailed
			}
			if same, _ := s.hasher.Verify(ctx, cur.PasswordHash, cur.PasswordScheme, next); same {
				return errSamePassword
			}
			return nil
		})
	if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
		return errBadActionToken
	}
	if err != nil {
		return err
	}
	// A successful reset also lifts the login backoff of the account: the owner proved control.
	_ = s.store.ClearLockout(ctx, u.ID, accountKey("login", u.Email), accountKey("forgot", u.Email))
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditPasswordReset, SubjectID: idPtr(u.ID), ActorID: idPtr(u.ID), Email: u.Email}, c)
	if s.opts.SendResetNotice {
		s.send(ctx, u.Email, mail.ResetNotice{At: s.now(), Link: s.url("/forgot-password")})
	}
	return nil
}

func (s *Service) failIP(ctx context.Context, action string, c Client) {
	if c.IP == "" {
		return
	}
	if _, err := s.store.RecordFailure(ctx, ipKey(action, c.IP), failureWindow, s.policyFor(s.opts.BackoffAfter, 0)); err != nil {
		s.log.Error("failure not counted", "action", action, "error", err)
	}
}
