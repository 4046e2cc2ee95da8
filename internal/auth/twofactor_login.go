package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/mail"
	"github.com/gatehousehq/gatehouse/internal/store"
)

// errBadChallenge answers a second step whose challenge is unknown, used, expired, spent by
// wrong codes, or no longer matches the account (password changed, deactivated).
var errBadChallenge = &gatehouse.Error{Code: gatehouse.EUnauthenticated, Message: "challenge: is invalid or has expired; sign in again",
	Fields: map[string]string{"challenge": "is invalid or has expired; sign in again"}}

// errBadCode answers a wrong, expired or already used code.
var errBadCode = &gatehouse.Error{Code: gatehouse.EUnauthenticated, Message: "code: is not correct, has expired or was used already",
	Fields: map[string]string{"code": "is not correct, has expired or was used already"}}

// secondStep decides, after a right password, whether a second factor is needed. It returns
// the challenge to answer with, or nil when the user has no second factor or presented a
// valid remember-device token.
func (s *Service) secondStep(ctx context.Context, u *gatehouse.User, scopes []gatehouse.Scope, in LoginInput) (*TwoFactorChallenge, error) {
	f, err := s.factorsOf(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if !f.any() {
		return nil, nil
	}
	if in.RememberDeviceToken != "" && s.opts.TwoFactorRememberFor > 0 {
		ok, err := s.store.RememberedDevice(ctx, hashToken(in.RememberDeviceToken), u.ID, u.SecurityStamp)
		if err != nil {
			return nil, err
		}
		if ok {
			return nil, nil
		}
	}
	methods := withoutMethod(s.methods(f), in.firstFactor)
	if in.firstFactor != "" && len(withoutMethod(methods, MethodRecoveryCode)) == 0 {
		// Recovery codes stand in for a lost factor; they are no routine second step.
		return nil, errNoOtherFactor
	}
	if len(methods) == 0 {
		// Email codes are the only factor and SMTP was turned off since: failing closed is the
		// only safe answer; an administrator can reset the account's second factors.
		return nil, gatehouse.Errorf(gatehouse.EForbidden, "no second factor of this account can be used on this server now; ask an administrator to reset it").WithReason("two_factor_unavailable")
	}
	tok := randomToken(32)
	ch := &store.Challenge{
		IDHash: hashToken(tok), UserID: u.ID, Stamp: u.SecurityStamp, Scope: gatehouse.FormatScopes(scopes),
		Remember: in.Remember, ExpiresAt: s.now().Add(challengeTTL), FirstFactor: in.firstFactor,
	}
	if err := s.store.CreateChallenge(ctx, ch); err != nil {
		return nil, err
	}
	// With email codes as the only way in (recovery codes aside), the code goes out at once;
	// otherwise the client asks for one (SendTwoFactorEmailCode) if the user picks email.
	if hasMethod(methods, MethodEmail) && !hasMethod(methods, MethodTOTP) && !hasMethod(methods, MethodWebAuthn) {
		if err := s.sendEmailCode(ctx, ch.IDHash, u); err != nil {
			return nil, err
		}
	}
	return &TwoFactorChallenge{Challenge: tok, Methods: methods, ExpiresAt: ch.ExpiresAt}, nil
}

// emailCodeHash binds an emailed code to its challenge: the same six digits mean nothing
// for another login attempt.
func (s *Service) emailCodeHash(challengeHash, code string) string {
	return s.hashSecret("email:" + challengeHash + ":" + code)
}

func (s *Service) sendEmailCode(ctx context.Context, challengeHash string, u *gatehouse.User) error {
	code := newEmailCode()
	if err := s.store.SetChallengeEmailCode(ctx, challengeHash, s.emailCodeHash(challengeHash, code), s.now().Add(emailCodeTTL)); err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
			return errBadChallenge
		}
		return err
	}
	s.send(ctx, u.Email, mail.EmailCode{Code: code, ValidFor: emailCodeTTL})
	return nil
}

// liveChallenge returns the challenge and its user when the challenge can still be answered.
func (s *Service) liveChallenge(ctx context.Context, challenge string) (*store.Challenge, *gatehouse.User, error) {
	if challenge == "" {
		return nil, nil, gatehouse.FieldError("challenge", "is required")
	}
	if len(challenge) > 128 {
		return nil, nil, errBadChallenge
	}
	ch, err := s.store.ChallengeByHash(ctx, hashToken(challenge))
	if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
		return nil, nil, errBadChallenge
	}
	if err != nil {
		return nil, nil, err
	}
	if ch.UsedAt != nil || !s.now().Before(ch.ExpiresAt) || ch.Failures >= challengeMaxFailures {
		return nil, nil, errBadChallenge
	}
	u, err := s.store.UserByID(ctx, ch.UserID)
	if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
		return nil, nil, errBadChallenge
	}
	if err != nil {
		return nil, nil, err
	}
	if !u.Active || u.SecurityStamp != ch.Stamp {
		return nil, nil, errBadChallenge
	}
	return ch, u, nil
}

// SendTwoFactorEmailCode mails a (new) sign-in code for a pending challenge; the earlier code
// stops working. Codes go out at most every 30 seconds per challenge.
func (s *Service) SendTwoFactorEmailCode(ctx context.Context, challenge string, c Client) error {
	if s.mailer == nil {
		return errEmailCodesOff
	}
	ch, u, err := s.liveChallenge(ctx, challenge)
	if err != nil {
		return err
	}
	tf, err := s.store.TwoFactorOf(ctx, u.ID)
	if err != nil {
		return err
	}
	if tf.EmailEnabledAt == nil {
		return gatehouse.FieldError("method", "sign-in codes by email are not enabled for this account")
	}
	if ch.EmailSentAt != nil {
		if wait := ch.EmailSentAt.Add(emailResendAfter).Sub(s.now()); wait > 0 {
			return &gatehouse.Error{Code: gatehouse.ERateLimited, Message: "a code was just sent; wait a moment before asking for another", RetryAfter: wait}
		}
	}
	return s.sendEmailCode(ctx, ch.IDHash, u)
}

// WebAuthnLoginOptions starts the second step with a security key or passkey: it returns the
// PublicKeyCredentialRequestOptions and keeps the ceremony's data with the challenge.
func (s *Service) WebAuthnLoginOptions(ctx context.Context, challenge string) (json.RawMessage, error) {
	ch, u, err := s.liveChallenge(ctx, challenge)
	if err != nil {
		return nil, err
	}
	options, data, err := s.beginWebAuthnLogin(ctx, u)
	if err != nil {
		return nil, err
	}
	if err := s.store.SetChallengeWebAuthn(ctx, ch.IDHash, data); err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
			return nil, errBadChallenge
		}
		return nil, err
	}
	return options, nil
}

// LoginTwoFactor is the second login step: it checks the proof for the challenge and opens
// the session. Wrong codes count against the same throttle as wrong passwords (backoff and
// lockout) and against the challenge, which dies after a few.
func (s *Service) LoginTwoFactor(ctx context.Context, in TwoFactorInput) (*TokenPair, error) {
	switch in.Method {
	case MethodTOTP, MethodRecoveryCode, MethodEmail, MethodWebAuthn:
	case "":
		return nil, gatehouse.FieldError("method", "is required")
	default:
		return nil, gatehouse.FieldError("method", "must be one of totp, recovery_code, email, webauthn")
	}
	var use store.FactorUse
	code := in.Code
	switch in.Method {
	case MethodTOTP, MethodEmail:
		code = normalizeDigits(code)
		if code == "" {
			return nil, gatehouse.FieldError("code", "is required")
		}
		if !sixDigits(code) {
			return nil, errCodeFormat
		}
	case MethodRecoveryCode:
		if code == "" {
			return nil, gatehouse.FieldError("code", "is required")
		}
		if code = normalizeRecoveryCode(code); code == "" {
			return nil, gatehouse.FieldError("code", "must be a recovery code such as ABCDE-FGHJK")
		}
		// Codes made before one-time codes were keyed are stored as plain SHA-256; they keep
		// working until used or replaced (docs/two-factor.md).
		use.RecoveryHash, use.LegacyRecoveryHash = s.hashSecret(code), hashToken(code)
	case MethodWebAuthn:
		if len(in.Assertion) == 0 || string(in.Assertion) == "null" {
			return nil, gatehouse.FieldError("assertion", "is required")
		}
	}
	ch, u, err := s.liveChallenge(ctx, in.Challenge)
	if err != nil {
		return nil, err
	}
	gate, err := s.gateFor(ctx, u, in.Client, in.DeviceToken)
	if err != nil {
		return nil, err
	}
	locked, err := s.verdict(gate)
	if err != nil {
		return nil, err
	}
	if locked {
		return nil, s.secondStepFailed(ctx, ch, u, in, "account locked", false)
	}
	f, err := s.factorsOf(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if !hasMethod(withoutMethod(s.methods(f), ch.FirstFactor), in.Method) {
		return nil, gatehouse.FieldError("method", "is not available for this account")
	}
	switch in.Method {
	case MethodTOTP:
		secret, err := s.openTOTP(u.ID, f.tf.TOTPSecret)
		if err != nil {
			return nil, err
		}
		step, ok := totpStep(secret, code, s.now())
		if !ok {
			return nil, s.secondStepFailed(ctx, ch, u, in, "wrong code", true)
		}
		use.TOTPStep = step
	case MethodEmail:
		use.EmailCodeHash = s.emailCodeHash(ch.IDHash, code)
	case MethodWebAuthn:
		if err := s.finishWebAuthnLogin(ctx, u, ch.WebAuthnSession, in.Assertion); err != nil {
			if c := gatehouse.ErrorCode(err); c == gatehouse.EUnauthenticated {
				_ = s.secondStepFailed(ctx, ch, u, in, "assertion refused", true)
			}
			return nil, err
		}
	}
	out, err := s.store.ConsumeChallenge(ctx, ch.IDHash, u.ID, challengeMaxFailures, use)
	if err != nil {
		return nil, err
	}
	switch out {
	case store.ChallengeGone:
		return nil, errBadChallenge
	case store.ChallengeBadProof:
		detail := "wrong code"
		if in.Method == MethodTOTP {
			detail = "code already used"
		}
		return nil, s.secondStepFailed(ctx, ch, u, in, detail, true)
	}
	return s.finishSecondStep(ctx, ch, u, f, in)
}

// secondStepFailed records a failed second step: against the challenge, the login throttle
// (count) and the audit log. It returns the error for the client.
func (s *Service) secondStepFailed(ctx context.Context, ch *store.Challenge, u *gatehouse.User, in TwoFactorInput, detail string, count bool) error {
	failures := ch.Failures
	if count {
		n, err := s.store.ChallengeFailed(ctx, ch.IDHash)
		if err != nil {
			s.log.Error("challenge failure not counted", "error", err)
		}
		failures = n
		if gate, err := s.gateFor(ctx, u, in.Client, in.DeviceToken); err == nil {
			s.failLogin(ctx, gate, u.Email, in.Client, idPtr(u.ID))
		}
	}
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditTwoFactorFailure, SubjectID: idPtr(u.ID), Email: u.Email,
		Detail: fmt.Sprintf("method=%s: %s", in.Method, detail)}, in.Client)
	if failures >= challengeMaxFailures {
		return errBadChallenge
	}
	return errBadCode
}

// finishSecondStep opens the session of a login whose second step passed.
func (s *Service) finishSecondStep(ctx context.Context, ch *store.Challenge, u *gatehouse.User, f factors, in TwoFactorInput) (*TokenPair, error) {
	if gate, err := s.gateFor(ctx, u, in.Client, in.DeviceToken); err == nil {
		s.passed(ctx, gate)
	}
	if in.Method == MethodRecoveryCode {
		s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditRecoveryCodeUsed, SubjectID: idPtr(u.ID), ActorID: idPtr(u.ID), Email: u.Email,
			Detail: fmt.Sprintf("%d recovery codes left", max(f.tf.RecoveryCodesLeft-1, 0))}, in.Client)
	}
	// Roles may have changed during the few minutes since the password step.
	allowed, err := s.allowedScopes(ctx, u)
	if err != nil {
		return nil, err
	}
	have, _ := gatehouse.ParseScopes(ch.Scope)
	scopes := capScopes(have, allowed)
	if len(scopes) == 0 {
		return nil, errBadChallenge
	}
	if s.opts.Trackable {
		if err := s.store.RecordLogin(ctx, u.ID, in.Client.IP); err != nil {
			return nil, err
		}
	}
	pair, err := s.openSession(ctx, u, scopes, ch.Remember || in.Remember, in.Client)
	if err != nil {
		return nil, err
	}
	pair.DeviceToken = s.issueDeviceToken(u)
	if in.RememberDevice && s.opts.TwoFactorRememberFor > 0 {
		tok := randomToken(32)
		if err := s.store.AddRememberedDevice(ctx, hashToken(tok), u.ID, u.SecurityStamp, s.now().Add(s.opts.TwoFactorRememberFor)); err != nil {
			return nil, err
		}
		pair.RememberDeviceToken = tok
	}
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditLoginSuccess, SubjectID: idPtr(u.ID), ActorID: idPtr(u.ID), Email: u.Email,
		Detail: "second factor: " + in.Method}, in.Client)
	return pair, nil
}

// sessionTouchEvery bounds how often a page session's use is written: once per few minutes is
// plenty for the idle limit (days) and the session list, and keeps page views read-only.
const sessionTouchEvery = 5 * time.Minute

// AuthenticateSession returns the principal of a server-side session (the web pages keep the
// session id instead of a JWT): the session must exist, not be revoked or expired, and its user
// be active, and it must have been used within the idle limit. Flags are set as Authenticate sets them.
func (s *Service) AuthenticateSession(ctx context.Context, sessionID string) (*gatehouse.Principal, error) {
	if sessionID == "" {
		return nil, errBadToken
	}
	sess, err := s.store.SessionByID(ctx, sessionID)
	if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
		return nil, errBadToken
	}
	if err != nil {
		return nil, err
	}
	u, sess, err := s.store.Principal(ctx, sess.UserID, sess.ID)
	if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
		return nil, errBadToken
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	// A page session is used, not refreshed: the idle limit of refresh tokens applies to it
	// through last_used_at, which is recorded at most every sessionTouchEvery.
	if !u.Active || sess == nil || sess.RevokedAt != nil || sess.UserID != u.ID || !now.Before(sess.ExpiresAt) ||
		(s.opts.RefreshMaxIdle > 0 && now.Sub(sess.LastUsedAt) > s.opts.RefreshMaxIdle) {
		return nil, errBadToken
	}
	if now.Sub(sess.LastUsedAt) >= sessionTouchEvery {
		if err := s.store.TouchSession(ctx, sess.ID, now, now.Add(-sessionTouchEvery)); err != nil {
			// Not worth failing the request: the next one tries again.
			s.log.Warn("session use not recorded", "error", err)
		}
	}
	scopes, _ := gatehouse.ParseScopes(sess.Scope)
	p := &gatehouse.Principal{User: u, SessionID: sess.ID, Scopes: scopes, AuthTime: sess.AuthAt}
	if err := s.markTwoFactorSetup(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}
