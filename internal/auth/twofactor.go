package auth

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
	"github.com/gatehousehq/gatehouse/internal/store"
)

// The second-factor method names, on the wire and in audit details (MethodWebAuthn is with the
// WebAuthn ceremonies).
const (
	MethodTOTP         = "totp"
	MethodRecoveryCode = "recovery_code"
	MethodEmail        = "email"
)

// The values of SECURITY_TWO_FACTOR_REQUIRED: who must have a second factor.
const (
	TwoFactorRequiredNone   = "none"
	TwoFactorRequiredAdmins = "admins"
	TwoFactorRequiredAll    = "all"
)

const (
	// challengeTTL is how long the second login step may take after the password step: enough
	// to open an authenticator app or a mailbox, short enough that a stolen challenge is stale.
	challengeTTL = 10 * time.Minute
	// challengeMaxFailures wrong codes end a challenge: the password must be given again. The
	// shared login throttle slows down guessing across challenges too.
	challengeMaxFailures = 5
	// emailCodeTTL is how long an emailed sign-in code works.
	emailCodeTTL = 5 * time.Minute
	// emailResendAfter is the least time between two codes mailed for one challenge.
	emailResendAfter = 30 * time.Second
	// recoveryCodeCount codes are issued at a time.
	recoveryCodeCount = 10
)

// TwoFactorChallenge is the answer to a right password when a second factor is needed: the
// client completes the login with LoginTwoFactor before ExpiresAt.
type TwoFactorChallenge struct {
	// Challenge is the opaque secret that identifies this login attempt (stored only hashed).
	Challenge string
	// Methods are the ways this account can prove the second factor now ("totp",
	// "recovery_code", "email", "webauthn").
	Methods   []string
	ExpiresAt time.Time
}

// TwoFactorInput is the second login step.
type TwoFactorInput struct {
	Challenge string
	Method    string
	// Code is the authenticator, recovery or emailed code (methods totp, recovery_code, email).
	Code string
	// Assertion is the WebAuthn assertion (method webauthn).
	Assertion json.RawMessage
	// RememberDevice asks for a token that skips the second step on later logins for
	// SECURITY_TWO_FACTOR_REMEMBER_DURATION.
	RememberDevice bool
	// Remember (remember-me) is used only when the password step did not record it.
	Remember bool
	// DeviceToken is the client's device token (see device.go), as with the password step.
	DeviceToken string
	Client      Client
}

// TwoFactorState is what a user sees of their second factors.
type TwoFactorState struct {
	TOTP, Email       bool
	WebAuthn          []WebAuthnCredentialInfo
	RecoveryCodesLeft int
	// Required: SECURITY_TWO_FACTOR_REQUIRED covers this user. SetupRequired: it does and they
	// have no second factor yet.
	Required, SetupRequired bool
}

// TOTPEnrolment is what an authenticator app needs to be set up: the secret (base32), the
// otpauth:// URI and the same URI as a QR code.
type TOTPEnrolment struct {
	Secret     string
	OTPAuthURI string
	QRPNG      string // data:image/png;base64,...
	QRSVG      string // an <svg> document
}

// ErrTwoFactorSetupRequired is the answer to every request of an account that must enrol a
// second factor first (SECURITY_TWO_FACTOR_REQUIRED), except those that let it do so.
var ErrTwoFactorSetupRequired = gatehouse.Errorf(gatehouse.EForbidden, "you must set up two-factor authentication before doing anything else").WithReason("two_factor_setup_required")

// EmailCodesAvailable reports whether sign-in codes by email can be enabled (SMTP is
// configured).
func (s *Service) EmailCodesAvailable() bool { return s.mailer != nil }

// twoFactorRequired reports whether SECURITY_TWO_FACTOR_REQUIRED covers u.
func (s *Service) twoFactorRequired(u *gatehouse.User) bool {
	// An SSO-only account never signs in with a local password, so a local second factor would
	// never be asked for; its identity provider's MFA is what applies (docs/sso.md).
	if u.SSOOnly {
		return false
	}
	switch s.opts.TwoFactorRequired {
	case TwoFactorRequiredAll:
		return true
	case TwoFactorRequiredAdmins:
		return u.HasRole(gatehouse.RoleAdmin)
	}
	return false
}

// factors is a user's second-factor situation as the login needs it.
type factors struct {
	tf       *store.TwoFactor
	webAuthn int
}

func (f factors) totp() bool  { return f.tf.TOTPSecret != "" }
func (f factors) email() bool { return f.tf.EmailEnabledAt != nil }

// any reports whether the user has a second factor (recovery codes alone are none: they only
// stand in for one).
func (f factors) any() bool { return f.totp() || f.email() || f.webAuthn > 0 }

func (s *Service) factorsOf(ctx context.Context, userID int64) (factors, error) {
	tf, err := s.store.TwoFactorOf(ctx, userID)
	if err != nil {
		return factors{}, err
	}
	creds, err := s.webAuthnCredentials(ctx, userID)
	if err != nil {
		return factors{}, err
	}
	return factors{tf: tf, webAuthn: len(creds)}, nil
}

// methods are the ways the user can pass the second step now: email codes only while SMTP is
// configured, recovery codes while any is left.
func (s *Service) methods(f factors) []string {
	var out []string
	if f.totp() {
		out = append(out, MethodTOTP)
	}
	if f.webAuthn > 0 {
		out = append(out, MethodWebAuthn)
	}
	if f.email() && s.mailer != nil {
		out = append(out, MethodEmail)
	}
	if f.tf.RecoveryCodesLeft > 0 {
		out = append(out, MethodRecoveryCode)
	}
	return out
}

// TwoFactorState returns the caller's second factors and what the policy asks of them, when the
// caller may read its own account.
func (s *Service) TwoFactorState(ctx context.Context, p *gatehouse.Principal) (*TwoFactorState, error) {
	if err := rbac.Decide(p, rbac.ActUserReadSelf, ""); err != nil {
		return nil, err
	}
	tf, err := s.store.TwoFactorOf(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	creds, err := s.webAuthnCredentials(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	f := factors{tf: tf, webAuthn: len(creds)}
	st := &TwoFactorState{
		TOTP: f.totp(), Email: f.email(), WebAuthn: creds, RecoveryCodesLeft: tf.RecoveryCodesLeft,
		Required: s.twoFactorRequired(p.User),
	}
	if st.WebAuthn == nil {
		st.WebAuthn = []WebAuthnCredentialInfo{}
	}
	st.SetupRequired = st.Required && !f.any()
	return st, nil
}

// markTwoFactorSetup sets p.TwoFactorSetupRequired. It runs on every authenticated request, so
// it costs nothing for users the policy does not cover, and one query for covered users with an
// authenticator app or email codes; only the others also have their security keys counted.
func (s *Service) markTwoFactorSetup(ctx context.Context, p *gatehouse.Principal) error {
	if !s.twoFactorRequired(p.User) {
		return nil
	}
	tf, err := s.store.TwoFactorOf(ctx, p.User.ID)
	if err != nil {
		return err
	}
	f := factors{tf: tf}
	if !f.any() {
		creds, err := s.store.WebAuthnCredentials(ctx, p.User.ID)
		if err != nil {
			return err
		}
		f.webAuthn = len(creds)
	}
	p.TwoFactorSetupRequired = !f.any()
	return nil
}

// hasMethod reports whether m is one of ms.
func hasMethod(ms []string, m string) bool { return slices.Contains(ms, m) }
