package auth

import (
	"context"
	"fmt"
	"slices"

	"github.com/gatehousehq/gatehouse"
)

// An authenticator-app code in the password's place (Flask-Security's unified sign-in with
// the "authenticator" method), where SECURITY_PASSWORDLESS_AUTHENTICATOR allows it. The code
// is one factor, so the second-factor rules still apply after it: the account's other second
// factors (a security key or passkey, email codes, a recovery code) answer the challenge; a
// remembered device skips it as after a password. The app cannot be both factors, and an
// account whose only other way in is its recovery codes signs in with its password instead.

// MethodAuthenticator names an authenticator-code sign-in in audit details.
const MethodAuthenticator = "authenticator"

// AuthenticatorLoginInput is a sign-in with an authenticator-app code instead of a password.
type AuthenticatorLoginInput struct {
	Email string
	Code  string
	Scope string // as in LoginInput
	// Remember, RememberDeviceToken and DeviceToken are as in LoginInput.
	Remember            bool
	RememberDeviceToken string
	DeviceToken         string
	Client              Client
}

// errInvalidEmailOrCode is the one answer to a failed authenticator sign-in, whatever failed
// (unknown email, no authenticator app, wrong or replayed code, locked or inactive account).
var errInvalidEmailOrCode = gatehouse.Errorf(gatehouse.EUnauthenticated, "invalid email or code")

var errAuthenticatorSignInOff = gatehouse.Errorf(gatehouse.EForbidden,
	"signing in with an authenticator code is turned off on this server (SECURITY_PASSWORDLESS_AUTHENTICATOR)").WithReason("feature_disabled")

// errNoOtherFactor answers a right first factor when the account has no second factor besides
// the method that gave it (recovery codes aside): the password is then the way in.
var errNoOtherFactor = gatehouse.Errorf(gatehouse.EForbidden,
	"this account has no second factor besides the one just used; sign in with your password").WithReason("two_factor_unavailable")

// dummyTOTPSecret keeps the work of a sign-in for an unknown address or an account without an
// app close to that of a real one.
const dummyTOTPSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// AuthenticatorSignInEnabled reports whether an authenticator code may replace the password.
func (s *Service) AuthenticatorSignInEnabled() bool {
	return s.opts.AuthenticatorSignIn && len(s.opts.TOTPKeys) > 0
}

// LoginAuthenticator checks an authenticator-app code as the first factor. The answer is that
// of a password login with a second factor: the challenge (methods other than totp), or tokens
// from a remembered device. Wrong codes count against the login throttle like wrong passwords.
func (s *Service) LoginAuthenticator(ctx context.Context, in AuthenticatorLoginInput) (*TokenPair, error) {
	if !s.AuthenticatorSignInEnabled() {
		return nil, errAuthenticatorSignInOff
	}
	email, err := ValidateEmail("email", in.Email)
	if err != nil {
		return nil, err
	}
	code := normalizeDigits(in.Code)
	if code == "" {
		return nil, gatehouse.FieldError("code", "is required")
	}
	if !sixDigits(code) {
		return nil, errCodeFormat
	}
	requested, bad := gatehouse.ParseScopes(in.Scope)
	if len(bad) > 0 {
		return nil, gatehouse.FieldError("scope", fmt.Sprintf("unknown scope %q (use read, write, admin)", bad[0]))
	}
	gate, err := s.openGate(ctx, email, in.Client, in.DeviceToken)
	if err != nil {
		return nil, err
	}
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENotFound {
		return nil, err
	}
	if err != nil {
		u = nil
	}
	gate.trust(u, s.now())
	locked, err := s.verdict(gate)
	if err != nil {
		return nil, err
	}
	failed := func(subject *int64, detail string, count bool) error {
		if count {
			s.failLogin(ctx, gate, email, in.Client, subject)
		}
		s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditLoginFailure, SubjectID: subject, Email: email,
			Detail: MethodAuthenticator + ": " + detail}, in.Client)
		return errInvalidEmailOrCode
	}
	if u == nil {
		totpStep(dummyTOTPSecret, code, s.now())
		return nil, failed(nil, "unknown email", true)
	}
	tf, err := s.store.TwoFactorOf(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if tf.TOTPSecret == "" {
		totpStep(dummyTOTPSecret, code, s.now())
		return nil, failed(idPtr(u.ID), "no authenticator app", true)
	}
	secret, err := s.openTOTP(u.ID, tf.TOTPSecret)
	if err != nil {
		return nil, err
	}
	step, ok := totpStep(secret, code, s.now())
	switch {
	case !ok:
		return nil, failed(idPtr(u.ID), "wrong code", true)
	case locked:
		return nil, failed(idPtr(u.ID), "account locked", false)
	case !u.Active:
		return nil, failed(idPtr(u.ID), "account inactive", false)
	case u.SSOOnly:
		return nil, failed(idPtr(u.ID), "the account signs in only through SSO", false)
	}
	if used, err := s.store.UseTOTPStep(ctx, u.ID, step); err != nil {
		return nil, err
	} else if !used {
		return nil, failed(idPtr(u.ID), "code already used", true)
	}
	if s.opts.Confirmable && !s.opts.LoginWithoutConfirmation && u.ConfirmedAt == nil {
		return nil, gatehouse.Errorf(gatehouse.EForbidden, "confirm your email address first; check your inbox for the link").WithReason("confirmation_required")
	}
	allowed, err := s.allowedScopes(ctx, u)
	if err != nil {
		return nil, err
	}
	scopes := capScopes(requested, allowed)
	if len(scopes) == 0 {
		return nil, gatehouse.FieldError("scope", "none of the requested scopes is allowed for this account")
	}
	// One factor so far: as after a password, the throttle stays as it is until the second step
	// passes.
	ch, err := s.secondStep(ctx, u, scopes, LoginInput{
		Email: email, Remember: in.Remember, RememberDeviceToken: in.RememberDeviceToken,
		DeviceToken: in.DeviceToken, Client: in.Client, firstFactor: MethodTOTP,
	})
	if err != nil {
		return nil, err
	}
	if ch != nil {
		return &TokenPair{TwoFactor: ch}, nil
	}
	return s.completeSignIn(ctx, gate, u, scopes, in.Remember, in.Client, MethodAuthenticator+", remembered device")
}

// withoutMethod returns ms without m (the first factor of a sign-in: it cannot be the second).
func withoutMethod(ms []string, m string) []string {
	if m == "" {
		return ms
	}
	return slices.DeleteFunc(slices.Clone(ms), func(x string) bool { return x == m })
}
