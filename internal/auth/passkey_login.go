package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/store"
)

// PasskeyLoginStart is the beginning of a passkey sign-in.
type PasskeyLoginStart struct {
	// Ceremony is the opaque token (256 random bits, stored only hashed) that binds the answer
	// to the client that asked: it comes back with the assertion, and works once.
	Ceremony string
	// Options are the PublicKeyCredentialRequestOptions (the publicKey argument of
	// navigator.credentials.get, binary fields base64url-encoded): no allowCredentials, so the
	// authenticator offers the passkeys it holds for this relying party, and userVerification
	// "required".
	Options   json.RawMessage
	ExpiresAt time.Time
}

// PasskeyLoginInput is the answer of a passkey sign-in.
type PasskeyLoginInput struct {
	Ceremony string
	// Assertion is the PublicKeyCredential from navigator.credentials.get, as JSON.
	Assertion   json.RawMessage
	Scope       string // as in LoginInput
	Remember    bool
	DeviceToken string // the client's device token (see device.go), if any
	Client      Client
}

var (
	errBadCeremony = &gatehouse.Error{Code: gatehouse.EUnauthenticated,
		Message: "ceremony: is invalid, used or expired; request new options",
		Fields:  map[string]string{"ceremony": "is invalid, used or expired; request new options"}}
	errPasskeyUnknown = &gatehouse.Error{Code: gatehouse.EUnauthenticated,
		Message: "assertion: this passkey is not registered here; sign in with your email and password",
		Fields:  map[string]string{"assertion": "this passkey is not registered here"}}
	errNotAPasskey = &gatehouse.Error{Code: gatehouse.EUnauthenticated,
		Message: "assertion: this security key is registered as a second factor only; sign in with your password and use it as the second step",
		Fields:  map[string]string{"assertion": "this security key is registered as a second factor only"}}
	errUserNotVerified = &gatehouse.Error{Code: gatehouse.EUnauthenticated,
		Message: "assertion: the authenticator did not verify the user (PIN or biometric); a passkey sign-in needs it",
		Fields:  map[string]string{"assertion": "the authenticator did not verify the user"}}
	// errPasskeyRefused is the one answer for a good passkey of an account that may not sign in
	// now (locked, inactive, SSO-only): the audit event says which.
	errPasskeyRefused = &gatehouse.Error{Code: gatehouse.EUnauthenticated,
		Message: "assertion: this passkey cannot sign in to its account now",
		Fields:  map[string]string{"assertion": "cannot sign in to its account now"}}
)

// BeginPasskeyLogin starts a passkey sign-in for a client that names no account: the request
// options of a discoverable login with user verification required, and the ceremony token
// that the answer must bring back within webAuthnCeremonyTTL.
func (s *Service) BeginPasskeyLogin(ctx context.Context, c Client) (*PasskeyLoginStart, error) {
	if !s.opts.PasskeyFirstFactor {
		return nil, errPasskeysOff
	}
	// An address in backoff gets no new ceremonies either: each one is a database row.
	if c.IP != "" {
		if _, err := s.checkThrottle(ctx, ipKey("login", c.IP)); err != nil {
			return nil, err
		}
	}
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	assertion, session, err := rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("webauthn: begin discoverable login: %w", err)
	}
	data, err := json.Marshal(session)
	if err != nil {
		return nil, fmt.Errorf("webauthn: encode session: %w", err)
	}
	options, err := json.Marshal(assertion.Response)
	if err != nil {
		return nil, fmt.Errorf("webauthn: encode options: %w", err)
	}
	tok, expires := randomToken(32), s.now().Add(webAuthnCeremonyTTL)
	if err := s.store.SavePasskeyLogin(ctx, hashToken(tok), string(data), expires); err != nil {
		return nil, err
	}
	return &PasskeyLoginStart{Ceremony: tok, Options: options, ExpiresAt: expires}, nil
}

// LoginPasskey signs in with a passkey: the assertion must answer the ceremony (which it
// spends, right or wrong), come from a credential registered as a passkey, carry user
// verification, and pass the counter and clone checks. Possession and user verification are
// two factors, so no second step follows. Failed assertions count against the account's login
// throttle and the client address, as wrong passwords do; an unknown credential against the
// address only.
func (s *Service) LoginPasskey(ctx context.Context, in PasskeyLoginInput) (*TokenPair, error) {
	if !s.opts.PasskeyFirstFactor {
		return nil, errPasskeysOff
	}
	switch {
	case in.Ceremony == "":
		return nil, gatehouse.FieldError("ceremony", "is required")
	case len(in.Assertion) == 0 || string(in.Assertion) == "null":
		return nil, gatehouse.FieldError("assertion", "is required")
	}
	requested, bad := gatehouse.ParseScopes(in.Scope)
	if len(bad) > 0 {
		return nil, gatehouse.FieldError("scope", fmt.Sprintf("unknown scope %q (use read, write, admin)", bad[0]))
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(in.Assertion)
	if err != nil {
		return nil, webAuthnError(gatehouse.EInvalid, "assertion", err)
	}
	if in.Client.IP != "" {
		if _, err := s.checkThrottle(ctx, ipKey("login", in.Client.IP)); err != nil {
			s.metrics.throttled()
			return nil, err
		}
	}
	session, err := s.takePasskeyLogin(ctx, in.Ceremony)
	if err != nil {
		return nil, err
	}
	stored, u, err := s.passkeyOwner(ctx, parsed.RawID)
	if err != nil {
		return nil, err
	}
	if u == nil {
		s.failAddress(ctx, in.Client)
		s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditLoginFailure,
			Detail: "passkey: unknown credential " + base64.RawURLEncoding.EncodeToString(parsed.RawID)}, in.Client)
		return nil, errPasskeyUnknown
	}
	gate, err := s.gateFor(ctx, u, in.Client, in.DeviceToken)
	if err != nil {
		return nil, err
	}
	locked, err := s.verdict(gate)
	if err != nil {
		return nil, err
	}
	refused := func(detail string, count bool) {
		if count {
			s.failLogin(ctx, gate, u.Email, in.Client, idPtr(u.ID))
		}
		s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditLoginFailure, SubjectID: idPtr(u.ID), Email: u.Email,
			Detail: "passkey: " + detail}, in.Client)
	}
	if !stored.Passkey {
		refused("security key registered as a second factor only", false)
		return nil, errNotAPasskey
	}
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	creds, err := s.store.WebAuthnCredentials(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if !parsed.Response.AuthenticatorData.Flags.HasUserVerified() {
		// go-webauthn refuses it too; checked here to say why.
		refused("user not verified", true)
		return nil, errUserNotVerified
	}
	owner := webAuthnUser{u: u, creds: creds}
	_, cred, err := rp.ValidatePasskeyLogin(func(_, _ []byte) (webauthn.User, error) { return owner, nil }, session, parsed)
	if err != nil {
		refused("assertion refused", true)
		return nil, webAuthnError(gatehouse.EUnauthenticated, "assertion", err)
	}
	switch {
	case locked:
		refused("account locked", false)
		return nil, errPasskeyRefused
	case !u.Active:
		refused("account inactive", false)
		return nil, errPasskeyRefused
	case u.SSOOnly:
		refused("the account signs in only through SSO", false)
		return nil, errPasskeyRefused
	}
	for _, c := range creds { // the row as ValidatePasskeyLogin saw it: its counter is the one verified
		if bytes.Equal(c.CredentialID, cred.ID) {
			stored = c
		}
	}
	if err := s.recordAssertion(ctx, u, stored, cred, parsed); err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.EUnauthenticated {
			refused("signature counter went backwards", true)
		}
		return nil, err
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
	return s.completeSignIn(ctx, gate, u, scopes, in.Remember, in.Client, MethodPasskey)
}

// takePasskeyLogin spends a ceremony and returns its session data.
func (s *Service) takePasskeyLogin(ctx context.Context, ceremony string) (webauthn.SessionData, error) {
	var session webauthn.SessionData
	if len(ceremony) > 128 {
		return session, errBadCeremony
	}
	data, err := s.store.TakePasskeyLogin(ctx, hashToken(ceremony))
	if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
		return session, errBadCeremony
	} else if err != nil {
		return session, err
	}
	if err := json.Unmarshal([]byte(data), &session); err != nil {
		return session, fmt.Errorf("webauthn: decode session: %w", err)
	}
	return session, nil
}

// passkeyOwner returns the credential with this id and its account; nil, nil when either is
// unknown.
func (s *Service) passkeyOwner(ctx context.Context, credentialID []byte) (*store.WebAuthnCredential, *gatehouse.User, error) {
	c, err := s.store.WebAuthnCredentialByID(ctx, credentialID)
	if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	u, err := s.store.UserByID(ctx, c.UserID)
	if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	return c, u, nil
}

// failAddress counts a failed sign-in against the client address only: the attempt named no
// account (an unknown passkey).
func (s *Service) failAddress(ctx context.Context, c Client) {
	if c.IP == "" {
		return
	}
	if _, err := s.store.RecordFailure(ctx, ipKey("login", c.IP), failureWindow, s.policyFor(s.opts.BackoffAfter*ipFactor, 0)); err != nil {
		s.log.Error("failure not counted", "action", "login", "error", err)
	}
}

// completeSignIn opens the session of a sign-in whose every step passed, as the password
// login does: the gate's counter is cleared, the login tracked, a device token issued and the
// success audited with how the account signed in.
func (s *Service) completeSignIn(ctx context.Context, gate *loginGate, u *gatehouse.User, scopes []gatehouse.Scope, remember bool, c Client, method string) (*TokenPair, error) {
	s.passed(ctx, gate)
	if s.opts.Trackable {
		if err := s.store.RecordLogin(ctx, u.ID, c.IP); err != nil {
			return nil, err
		}
	}
	pair, err := s.openSession(ctx, u, scopes, remember, c)
	if err != nil {
		return nil, err
	}
	pair.DeviceToken = s.issueDeviceToken(u)
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditLoginSuccess, SubjectID: idPtr(u.ID), ActorID: idPtr(u.ID), Email: u.Email,
		Detail: "method: " + method}, c)
	return pair, nil
}
