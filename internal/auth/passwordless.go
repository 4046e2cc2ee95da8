package auth

import (
	"context"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/mail"
	"github.com/gatehousehq/gatehouse/internal/store"
)

// Accounts without a password. Where a password is not the only way in (sign-in by email
// today), an account may be created without one, by an administrator or by registration, and
// sign in with emailed codes (or a passkey, or SSO). Its password hash is empty: a password
// login fails for it exactly like a wrong password (Hasher.Verify spends the same bcrypt work
// on an empty hash). It may set a password later, as a normal change that needs no current
// password but a fresh sign-in, like every credential change.

// PasswordlessSignIn reports whether an account can sign in without a password on this
// server, so that accounts may be created without one.
func (s *Service) PasswordlessSignIn() bool { return s.EmailSignInEnabled() }

// optionalPassword reports whether password may be left out: it is empty and password-less
// sign-in is on. Otherwise the caller checks and hashes it as always.
func (s *Service) optionalPassword(password string) bool {
	return password == "" && s.PasswordlessSignIn()
}

// setFirstPassword gives an account without a password its first one (ChangePassword of such
// an account): no current password, but the rules of credential changes (a signed-in session,
// a write-capable token, a sign-in within SECURITY_FRESHNESS). Every other session ends, as
// after any password change; the caller gets a new token pair.
func (s *Service) setFirstPassword(ctx context.Context, p *gatehouse.Principal, next string, c Client) (*TokenPair, error) {
	if next == "" {
		return nil, gatehouse.FieldError("new_password", "is required")
	}
	if err := s.requireCredentialChange(ctx, p, "the password", "", c); err != nil {
		return nil, err
	}
	u := p.User
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
	u.PasswordHash, u.PasswordScheme, u.SecurityStamp, u.MustChangePassword = hash, scheme, stamp, false
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditPasswordChange, SubjectID: idPtr(u.ID), ActorID: idPtr(u.ID), Email: u.Email,
		Detail: "first password set (the account had none)"}, c)
	if s.mailer != nil && s.opts.SendChangeNotice {
		s.send(ctx, u.Email, mail.ChangeNotice{At: s.now(), Link: s.url("/forgot-password")})
	}
	return s.openSession(ctx, u, p.Scopes, false, c)
}
