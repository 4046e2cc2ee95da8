package auth

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/mail"
)

// methodWords names a method in notice emails.
func methodWords(method string) string {
	switch method {
	case MethodTOTP:
		return "an authenticator app"
	case MethodEmail:
		return "sign-in codes by email"
	case MethodWebAuthn:
		return "a security key or passkey"
	}
	return "a second factor"
}

// factorAdded finishes enabling a second factor: audit, a notice email (when SMTP is
// configured), the end of the user's other sessions (keeping p's) and remembered devices, and
// recovery codes when the user has none left — returned to be shown once, else nil.
func (s *Service) factorAdded(ctx context.Context, p *gatehouse.Principal, method string, c Client) (recoveryCodes []string, err error) {
	u := p.User
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditTwoFactorEnabled, SubjectID: idPtr(u.ID), ActorID: idPtr(u.ID), Email: u.Email, Detail: method}, c)
	if err := s.afterFactorChange(ctx, p, method, true, c); err != nil {
		return nil, err
	}
	codes, hashes := s.newRecoveryCodes()
	added, err := s.store.AddRecoveryCodesIfNone(ctx, u.ID, hashes)
	if err != nil || !added {
		return nil, err
	}
	return codes, nil
}

// factorRemoved finishes removing a second factor: audit, notice, the end of other sessions and
// remembered devices; when no factor is left, the recovery codes go too (they stand in for a
// factor that no longer exists, and the next enrolment issues fresh ones).
func (s *Service) factorRemoved(ctx context.Context, p *gatehouse.Principal, method string, c Client) error {
	u := p.User
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditTwoFactorDisabled, SubjectID: idPtr(u.ID), ActorID: idPtr(u.ID), Email: u.Email, Detail: method}, c)
	if err := s.afterFactorChange(ctx, p, method, false, c); err != nil {
		return err
	}
	f, err := s.factorsOf(ctx, u.ID)
	if err != nil {
		return err
	}
	if !f.any() && f.tf.RecoveryCodesLeft > 0 {
		return s.store.ReplaceRecoveryCodes(ctx, u.ID, nil)
	}
	return nil
}

func (s *Service) afterFactorChange(ctx context.Context, p *gatehouse.Principal, method string, added bool, c Client) error {
	u := p.User
	if err := s.store.RevokeOtherSessions(ctx, u.ID, p.SessionID, "two_factor_change"); err != nil {
		return err
	}
	if err := s.store.ForgetDevices(ctx, u.ID); err != nil {
		return err
	}
	if s.mailer != nil {
		s.send(ctx, u.Email, mail.TwoFactorNotice{Method: methodWords(method), Added: added, At: s.now(), Link: s.url("/profile")})
	}
	return nil
}

// errPasswordWrong answers a wrong password when re-authenticating for a sensitive change:
// 403 (the caller's token is fine; a 401 would make clients sign out) naming the field.
var errPasswordWrong = &gatehouse.Error{Code: gatehouse.EForbidden, Message: "password: is not correct",
	Fields: map[string]string{"password": "is not correct"}}

// checkPassword re-authenticates u for a sensitive change (removing a second factor, changing
// the email address, a stale web sign-in). Wrong passwords count against the same throttle as
// password changes, so it cannot be used to guess the password of a stolen session faster than
// the change-password endpoint allows.
func (s *Service) checkPassword(ctx context.Context, u *gatehouse.User, password string, c Client) error {
	if password == "" {
		return gatehouse.FieldError("password", "is required")
	}
	key := accountKey("change", u.Email)
	if _, err := s.checkThrottle(ctx, key); err != nil {
		return err
	}
	if ok, _ := s.hasher.Verify(ctx, u.PasswordHash, u.PasswordScheme, password); !ok {
		s.fail(ctx, "change", u.Email, c, idPtr(u.ID))
		return errPasswordWrong
	}
	return nil
}

// newRecoveryCodes returns fresh recovery codes (XXXXX-XXXXX, ~49 bits each) and their
// stored hashes (HMAC under the token key, see onetime.go).
func (s *Service) newRecoveryCodes() (codes, hashes []string) {
	codes, hashes = make([]string, recoveryCodeCount), make([]string, recoveryCodeCount)
	for i := range codes {
		codes[i] = newCode()
		hashes[i] = s.hashSecret(codes[i])
	}
	return codes, hashes
}

// normalizeRecoveryCode maps what a user typed to the stored form, or "" when it cannot be a
// recovery code.
//
// Codes imported from Flask-Security-Too keep working: those are 12 hexadecimal digits in
// groups of four ("c8bf-1a74-6413"), a form Gatehouse's own codes (10 characters of
// codeAlphabet) never take; their stored form is the lower-case grouped one.
func normalizeRecoveryCode(s string) string {
	c := strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(s)))
	if len(c) == 12 && strings.Trim(c, "0123456789ABCDEF") == "" {
		c = strings.ToLower(c)
		return c[:4] + "-" + c[4:8] + "-" + c[8:]
	}
	if len(c) != 10 || strings.Trim(c, codeAlphabet) != "" {
		return ""
	}
	return c[:5] + "-" + c[5:]
}

// RegenerateRecoveryCodes replaces the caller's recovery codes with new ones, returned to be
// shown once. It needs an enrolled second factor.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, p *gatehouse.Principal, currentPassword string, c Client) ([]string, error) {
	if err := s.requireCredentialChange(ctx, p, "second factors", currentPassword, c); err != nil {
		return nil, err
	}
	f, err := s.factorsOf(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	if !f.any() {
		return nil, gatehouse.Errorf(gatehouse.EConflict, "set up a second factor first; recovery codes stand in for one")
	}
	codes, hashes := s.newRecoveryCodes()
	if err := s.store.ReplaceRecoveryCodes(ctx, p.User.ID, hashes); err != nil {
		return nil, err
	}
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditRecoveryCodesRenewed, SubjectID: idPtr(p.User.ID), ActorID: idPtr(p.User.ID), Email: p.User.Email}, c)
	return codes, nil
}

// errEmailCodesOff answers email-code requests when SMTP is not configured.
var errEmailCodesOff = gatehouse.Errorf(gatehouse.EForbidden, "sign-in codes by email need SMTP, which is not configured on this server").WithReason("feature_disabled")

// EnableEmailTwoFactor turns on sign-in codes by email for the caller (SMTP must be
// configured). Recovery codes are returned when this is the caller's first factor.
func (s *Service) EnableEmailTwoFactor(ctx context.Context, p *gatehouse.Principal, currentPassword string, c Client) ([]string, error) {
	if s.mailer == nil {
		return nil, errEmailCodesOff
	}
	if err := s.requireCredentialChange(ctx, p, "second factors", currentPassword, c); err != nil {
		return nil, err
	}
	changed, err := s.store.SetEmailTwoFactor(ctx, p.User.ID, true)
	if err != nil {
		return nil, err
	}
	if !changed {
		return nil, gatehouse.Errorf(gatehouse.EConflict, "sign-in codes by email are already enabled")
	}
	return s.factorAdded(ctx, p, MethodEmail, c)
}

// DisableEmailTwoFactor turns off sign-in codes by email after checking the password.
func (s *Service) DisableEmailTwoFactor(ctx context.Context, p *gatehouse.Principal, password string, c Client) error {
	if err := s.requirePasswordChange(ctx, p, "second factors", password, c); err != nil {
		return err
	}
	changed, err := s.store.SetEmailTwoFactor(ctx, p.User.ID, false)
	if err != nil {
		return err
	}
	if !changed {
		return gatehouse.Errorf(gatehouse.ENotFound, "sign-in codes by email are not enabled")
	}
	return s.factorRemoved(ctx, p, MethodEmail, c)
}

// newEmailCode returns a uniformly random 6-digit code.
func newEmailCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // never happens on supported platforms
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// sixDigits reports whether code is exactly six ASCII digits.
func sixDigits(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ImportedRecoveryCodeHash returns the stored form of a recovery code brought over from
// Flask-Security-Too, or "" when it is not one Gatehouse can accept.
func ImportedRecoveryCodeHash(code string) string {
	c := normalizeRecoveryCode(code)
	if c == "" {
		return ""
	}
	return hashToken(c)
}

// SealImportedTOTP encrypts an imported authenticator secret (base32) for userID exactly as an
// enrolment in Gatehouse would store it. It fails when no TOTP key is configured.
func (s *Service) SealImportedTOTP(userID int64, secret string) (string, error) {
	return s.sealTOTP(userID, secret)
}
