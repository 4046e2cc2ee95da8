package auth

import (
	"context"
	"encoding/json"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehousehq/gatehouse"
)

// Passkeys are WebAuthn credentials that sign in on their own: discoverable (the authenticator
// keeps the account's user handle, so no email is typed) and made with user verification (a PIN
// or biometric), so that one assertion proves possession and the user: two factors. A
// credential is a passkey when it was registered through BeginPasskeyRegistration; security
// keys registered as second factors stay second factors only (as Flask-Security's "first" and
// "secondary" usages), and every passkey also serves as a second factor after a password.

// MethodPasskey names a passkey sign-in in audit details and in the login answer.
const MethodPasskey = "passkey"

// passkeyDefaultName names a passkey registered without a name.
const passkeyDefaultName = "Passkey"

// errPasskeysOff answers passkey sign-ins when SECURITY_WAN_ALLOW_AS_FIRST_FACTOR is off.
var errPasskeysOff = gatehouse.Errorf(gatehouse.EForbidden, "signing in with a passkey is turned off on this server (SECURITY_WAN_ALLOW_AS_FIRST_FACTOR)").WithReason("feature_disabled")

// PasskeySignInEnabled reports whether passkeys may sign in on their own
// (SECURITY_WAN_ALLOW_AS_FIRST_FACTOR): the pages then offer "Sign in with a passkey" and
// autofill.
func (s *Service) PasskeySignInEnabled() bool { return s.opts.PasskeyFirstFactor }

// passkeyRegistration are the creation options of a passkey: a discoverable credential
// (resident key required), user verification required, and the credProps extension so that
// the browser says whether it really made a discoverable one.
func passkeyRegistration() []webauthn.RegistrationOption {
	return []webauthn.RegistrationOption{
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   protocol.VerificationRequired,
		}),
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()),
	}
}

// checkPasskeyCreated refuses an answer without user verification, or whose browser reports
// that the credential is not discoverable (credProps.rk false): it could never sign in without
// an email typed. Browsers
// that do not report the property are trusted to have honoured "resident key required", which
// makes them fail the ceremony rather than make a non-discoverable credential.
func checkPasskeyCreated(parsed *protocol.ParsedCredentialCreationData) error {
	if cp := parsed.ClientExtensionResults.CredProps; cp != nil && cp.RK != nil && !*cp.RK {
		return gatehouse.FieldError("credential", "the authenticator did not make a passkey (a discoverable credential); add it as a security key instead")
	}
	if !parsed.Response.AttestationObject.AuthData.Flags.HasUserVerified() {
		// go-webauthn refuses it too (user verification required); checked here to say why.
		return gatehouse.FieldError("credential", "the authenticator did not verify the user (PIN or biometric); a passkey needs it")
	}
	return nil
}

// BeginPasskeyRegistration starts registering a passkey for the caller, like
// BeginWebAuthnRegistration but asking for a discoverable credential with user verification.
// The answer is completed by FinishWebAuthnRegistration, which stores the credential as a
// passkey. Security keys the account has are excluded, as for any registration: to make one of
// them a passkey, remove it first.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, p *gatehouse.Principal, currentPassword string, c Client) (json.RawMessage, error) {
	return s.beginRegistration(ctx, p, currentPassword, c, true)
}
