package auth

import (
	"context"
	"errors"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
)

// Credential changes (ASVS 3.7.1, 4.1.3): enrolling, replacing or removing a second factor,
// regenerating recovery codes, creating API keys and changing the email address. Each needs
//
//  1. a signed-in session: an API key is refused (403 session_required), so a leaked key can
//     neither lock its owner out nor mint more keys;
//  2. a write-capable token: a token narrowed to read (the account may write, the token may
//     not) is refused (403 insufficient_scope). An account whose roles allow only read (a
//     viewer) passes with its read token: it has nothing wider, and must still be able to
//     protect itself with a second factor;
//  3. a fresh authentication: the session proved the password (or a factor) within
//     SECURITY_FRESHNESS (the principal's AuthTime: the sign-in, a re-authentication, or the
//     web pages' password prompt), or the request carries the right current password, which
//     renews the session's auth time. Otherwise 403 reauthentication_required.
//
// Every transport reaches these rules through the service methods below; none repeats them.

// ReasonReauthenticationRequired is the wire code of a credential change refused because the
// session's last authentication is older than SECURITY_FRESHNESS and no current password came
// with the request.
const ReasonReauthenticationRequired = "reauthentication_required"

// ReasonSessionRequired is the wire code of a credential change attempted with an API key.
const ReasonSessionRequired = "session_required"

// ErrReauthenticationRequired answers a credential change of a session that is not fresh. It
// is 403, not 401: the token is fine, and a 401 would make clients discard it.
var ErrReauthenticationRequired = gatehouse.Errorf(gatehouse.EForbidden,
	"this change needs a recent sign-in: send current_password with the request, re-authenticate (POST /api/v1/auth/reauth), or sign in again").
	WithReason(ReasonReauthenticationRequired)

// errWrongCurrentPassword answers a wrong current_password (403 like errPasswordWrong: the
// caller's token is fine).
var errWrongCurrentPassword = &gatehouse.Error{Code: gatehouse.EForbidden, Message: "current_password: is not correct",
	Fields: map[string]string{"current_password": "is not correct"}}

// requireWriteSession checks rules 1 and 2 above: a signed-in session with a write-capable
// token. what names the thing being changed, for the message.
func (s *Service) requireWriteSession(ctx context.Context, p *gatehouse.Principal, what string) error {
	if p == nil || p.User == nil {
		return gatehouse.Errorf(gatehouse.EUnauthenticated, "authentication required")
	}
	if p.APIKeyID != 0 || p.SessionID == "" {
		return gatehouse.Errorf(gatehouse.EForbidden, "%s can only be changed from a signed-in session, not with an API key", what).
			WithReason(ReasonSessionRequired)
	}
	if p.HasScope(gatehouse.ScopeWrite) {
		return nil
	}
	allowed, err := s.allowedScopes(ctx, p.User)
	if err != nil {
		return err
	}
	for _, sc := range allowed {
		if !p.HasScope(sc) {
			// The token is narrower than the account: a delegated, read-only token.
			return &gatehouse.Error{
				Code:      gatehouse.EForbidden,
				Message:   "changing " + what + " needs a token with the \"write\" scope; this one was issued read-only",
				Reason:    rbac.ReasonInsufficientScope,
				Challenge: `Bearer error="insufficient_scope", scope="write"`,
			}
		}
	}
	return nil
}

// fresh reports whether p proved the password (or a factor) within SECURITY_FRESHNESS.
func (s *Service) fresh(p *gatehouse.Principal) bool {
	return !p.AuthTime.IsZero() && s.now().Sub(p.AuthTime) < s.opts.Freshness
}

// requireCredentialChange applies every rule above. currentPassword is what the request
// carries ("" for none); a right one makes the session fresh (see reauthenticated).
func (s *Service) requireCredentialChange(ctx context.Context, p *gatehouse.Principal, what, currentPassword string, c Client) error {
	if err := s.requireWriteSession(ctx, p, what); err != nil {
		return err
	}
	if currentPassword != "" {
		if err := s.checkPassword(ctx, p.User, currentPassword, c); err != nil {
			if errors.Is(err, errPasswordWrong) {
				return errWrongCurrentPassword
			}
			return err
		}
		return s.reauthenticated(ctx, p)
	}
	if !s.fresh(p) {
		return ErrReauthenticationRequired
	}
	return nil
}

// requirePasswordChange is requireCredentialChange for the changes that always ask for the
// password (removing a factor, changing the email address): rules 1 and 2, then the password,
// whatever the session's freshness. A right password renews the session's auth time.
func (s *Service) requirePasswordChange(ctx context.Context, p *gatehouse.Principal, what, password string, c Client) error {
	if err := s.requireWriteSession(ctx, p, what); err != nil {
		return err
	}
	if password == "" && !p.User.PasswordSet() {
		// No password to ask for (passwordless.go): a recent sign-in is the proof there is.
		if !s.fresh(p) {
			return ErrReauthenticationRequired
		}
		return nil
	}
	if err := s.checkPassword(ctx, p.User, password, c); err != nil {
		return err
	}
	return s.reauthenticated(ctx, p)
}

// reauthenticated records that p just proved the password: the session's auth time moves to
// now (so the next access token, and the next request with this one, are fresh) and so does
// p.AuthTime.
func (s *Service) reauthenticated(ctx context.Context, p *gatehouse.Principal) error {
	now := s.now()
	if p.SessionID != "" {
		if err := s.store.RenewSessionAuth(ctx, p.SessionID, now); err != nil {
			return err
		}
	}
	p.AuthTime = now
	return nil
}
