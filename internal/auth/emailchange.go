package auth

import (
	"context"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/mail"
	"github.com/gatehousehq/gatehouse/internal/store"
)

// Changing one's email address (Flask-Security-Too's SECURITY_CHANGE_EMAIL): the signed-in
// user asks with the password, a link and code go to the new address, and only that link or
// code moves the account. The old address is told at once, so that a stolen session cannot
// quietly take the account away.

// EmailChangeWithin is how long a change-email link and code work.
const EmailChangeWithin = time.Hour

// EmailChangePath is the page the mailed link opens (PUBLIC_URL + path + ?token=…).
const EmailChangePath = "/confirm-email"

// errEmailChangeDisabled answers when SMTP is not configured: the new address cannot be proven.
var errEmailChangeDisabled = gatehouse.Errorf(gatehouse.EForbidden, "changing the email address needs SMTP, which is not configured on this server").WithReason("feature_disabled")

// EmailChangeEnabled reports whether users can change their address (SMTP is configured).
func (s *Service) EmailChangeEnabled() bool { return s.mailer != nil }

// RequestEmailChange checks the caller's password and mails a confirmation link and code to the
// new address, and a notice to the current one. It answers the same whether or not the new
// address belongs to another account: when it does, nothing is mailed to it (its owner did not
// ask for anything) and no token is issued; only the notice to the current address goes out.
func (s *Service) RequestEmailChange(ctx context.Context, p *gatehouse.Principal, newEmail, password string, c Client) error {
	if !s.EmailChangeEnabled() {
		return errEmailChangeDisabled
	}
	if err := s.requireWriteSession(ctx, p, "the email address"); err != nil {
		return err
	}
	u := p.User
	if u.SSOOnly {
		return gatehouse.Errorf(gatehouse.EForbidden, "this account signs in through single sign-on; its address comes from the identity provider")
	}
	next, err := ValidateNewEmail("new_email", newEmail)
	if err != nil {
		return err
	}
	if store.NormalizeEmail(next) == store.NormalizeEmail(u.Email) {
		return gatehouse.FieldError("new_email", "is already the address of this account")
	}
	if err := s.requirePasswordChange(ctx, p, "the email address", password, c); err != nil {
		return err
	}
	// Every request mails someone: count them all, so that one account cannot mail-bomb an
	// address (or its own old one) faster than the backoff allows.
	key := accountKey("email_change", u.Email)
	if _, err := s.checkThrottle(ctx, key); err != nil {
		return err
	}
	s.fail(ctx, "email_change", u.Email, c, nil)
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditEmailChangeRequested, SubjectID: idPtr(u.ID), ActorID: idPtr(u.ID), Email: u.Email,
		Detail: "to " + next}, c)
	notice := mail.EmailChangeNotice{NewEmail: next, At: s.now(), Link: s.url("/profile")}
	taken, err := s.emailUnavailable(ctx, next, u.ID)
	if err != nil {
		return err
	}
	if taken {
		s.send(ctx, u.Email, notice) // taken: the same notice, and no link (see above)
		return nil
	}
	tok, code := randomToken(32), newCode()
	if err := s.store.CreateActionToken(ctx, store.ActionToken{
		TokenHash: s.HashOneTimeSecret(tok), CodeHash: s.HashOneTimeSecret(code), Purpose: store.PurposeEmailChange, UserID: u.ID,
		Stamp: u.SecurityStamp, ExpiresAt: s.now().Add(EmailChangeWithin), NewEmail: next,
	}); err != nil {
		return err // before any mail: nobody is told of a change that could never be confirmed
	}
	s.send(ctx, u.Email, notice)
	s.send(ctx, next, mail.EmailChange{Link: s.link(EmailChangePath, tok), Code: code, ValidFor: EmailChangeWithin})
	return nil
}

// ConfirmEmailChange consumes a change-email token or code and moves the account to the new
// address, marked confirmed. The security stamp changes, so every session, token and other
// pending link of the account ends. An address another account took meanwhile is EConflict
// naming new_email, and nothing changes.
func (s *Service) ConfirmEmailChange(ctx context.Context, tok string, c Client) (*gatehouse.User, error) {
	if !s.EmailChangeEnabled() {
		return nil, errEmailChangeDisabled
	}
	if tok == "" {
		return nil, gatehouse.FieldError("token", "is required")
	}
	if c.IP != "" {
		if _, err := s.checkThrottle(ctx, ipKey("email_confirm", c.IP)); err != nil {
			return nil, err
		}
	}
	ch, err := s.store.ChangeEmailWithToken(ctx, s.HashOneTimeSecret(tok), store.NewSecurityStamp(), func(cur *gatehouse.User) error {
		if !cur.Active {
			return errBadActionToken // deactivated since the token was mailed
		}
		return nil
	})
	if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
		s.failIP(ctx, "email_confirm", c)
		return nil, errBadActionToken
	}
	if err != nil {
		return nil, err
	}
	u := ch.User
	// Throttles are keyed by address: the new address starts clean, the old one's entries age out.
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditEmailChanged, SubjectID: idPtr(u.ID), ActorID: idPtr(u.ID), Email: u.Email,
		Detail: "from " + ch.OldEmail}, c)
	return u, nil
}

// emailUnavailable reports whether another account has the address, or one that looks like it
// (UTS #39 skeleton, see store.EmailSkeleton).
func (s *Service) emailUnavailable(ctx context.Context, email string, self int64) (bool, error) {
	_, err := s.store.UserByEmail(ctx, email)
	switch gatehouse.ErrorCode(err) {
	case "":
		return true, nil
	case gatehouse.ENotFound:
		return s.store.EmailConfusable(ctx, email, self)
	default:
		return false, err
	}
}
