package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/store"
)

// errWebAuthnCounter refuses an assertion whose signature counter did not go up.
var errWebAuthnCounter = (&gatehouse.Error{
	Code:    gatehouse.EUnauthenticated,
	Message: "assertion: the security key's signature counter went backwards; it may have been cloned, so it was refused",
	Fields:  map[string]string{"assertion": "signature counter went backwards"},
}).WithReason("webauthn_counter_regression")

// beginWebAuthnLogin starts the second login step with a security key for u: it returns the
// PublicKeyCredentialRequestOptions (the publicKey argument of navigator.credentials.get,
// binary fields base64url-encoded) and the ceremony's session data, which the caller keeps
// server-side with the login challenge and hands back to finishWebAuthnLogin.
func (s *Service) beginWebAuthnLogin(ctx context.Context, u *gatehouse.User) (options json.RawMessage, sessionData []byte, err error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, nil, err
	}
	creds, err := s.store.WebAuthnCredentials(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	if len(creds) == 0 {
		return nil, nil, gatehouse.FieldError("method", "no security key is registered for this account")
	}
	assertion, session, err := rp.BeginLogin(webAuthnUser{u: u, creds: creds})
	if err != nil {
		return nil, nil, fmt.Errorf("webauthn: begin login: %w", err)
	}
	if sessionData, err = json.Marshal(session); err != nil {
		return nil, nil, fmt.Errorf("webauthn: encode session: %w", err)
	}
	if options, err = json.Marshal(assertion.Response); err != nil {
		return nil, nil, fmt.Errorf("webauthn: encode options: %w", err)
	}
	return options, sessionData, nil
}

// finishWebAuthnLogin verifies an assertion (the PublicKeyCredential from
// navigator.credentials.get, as JSON) for u against the session data of beginWebAuthnLogin,
// then records the credential's new signature counter, flags and last use. A counter that did
// not go up (stored counter > 0 and new ≤ stored) means a cloned authenticator or a replay: it
// is refused and audited. Malformed input is EInvalid, a failed verification EUnauthenticated;
// both name the field "assertion".
func (s *Service) finishWebAuthnLogin(ctx context.Context, u *gatehouse.User, sessionData []byte, assertion json.RawMessage) error {
	if len(assertion) == 0 || string(assertion) == "null" {
		return gatehouse.FieldError("assertion", "is required")
	}
	var session webauthn.SessionData
	if err := json.Unmarshal(sessionData, &session); err != nil || session.Challenge == "" {
		return gatehouse.FieldError("assertion", "no security key sign-in was started for this challenge; request options first")
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(assertion)
	if err != nil {
		return webAuthnError(gatehouse.EInvalid, "assertion", err)
	}
	rp, err := s.relyingParty()
	if err != nil {
		return err
	}
	creds, err := s.store.WebAuthnCredentials(ctx, u.ID)
	if err != nil {
		return err
	}
	cred, err := rp.ValidateLogin(webAuthnUser{u: u, creds: creds}, session, parsed)
	if err != nil {
		return webAuthnError(gatehouse.EUnauthenticated, "assertion", err)
	}
	var stored *store.WebAuthnCredential
	for _, c := range creds {
		if bytes.Equal(c.CredentialID, cred.ID) {
			stored = c
		}
	}
	if stored == nil { // ValidateLogin only accepts the user's own credentials
		return webAuthnError(gatehouse.EUnauthenticated, "assertion", fmt.Errorf("webauthn: credential vanished"))
	}
	return s.recordAssertion(ctx, u, stored, cred, parsed)
}

// recordAssertion finishes a verified assertion with stored: a counter that did not go up
// (stored counter > 0 and new ≤ stored) means a cloned authenticator or a replay, so it is
// refused and audited; otherwise the new counter, flags and last use are recorded, under the
// condition that the counter is still the one verified against.
func (s *Service) recordAssertion(ctx context.Context, u *gatehouse.User, stored *store.WebAuthnCredential, cred *webauthn.Credential, parsed *protocol.ParsedCredentialAssertionData) error {
	if cred.Authenticator.CloneWarning {
		s.webAuthnCounterRegression(ctx, u, stored, parsed.Response.AuthenticatorData.Counter)
		return errWebAuthnCounter
	}
	err := s.store.RecordWebAuthnUse(ctx, store.WebAuthnUse{
		UserID: u.ID, CredentialID: cred.ID, PrevSignCount: stored.SignCount, SignCount: cred.Authenticator.SignCount,
		UserPresent: cred.Flags.UserPresent, UserVerified: cred.Flags.UserVerified, BackupState: cred.Flags.BackupState,
	})
	if gatehouse.ErrorCode(err) == gatehouse.EConflict {
		// Another assertion with this credential was accepted between our read and write: two
		// authenticators answered with the same counter, which again means a clone (or a replay).
		s.webAuthnCounterRegression(ctx, u, stored, parsed.Response.AuthenticatorData.Counter)
		return errWebAuthnCounter
	}
	return err
}

func (s *Service) webAuthnCounterRegression(ctx context.Context, u *gatehouse.User, c *store.WebAuthnCredential, got uint32) {
	s.log.Warn("webauthn signature counter regression: possible cloned authenticator",
		"user_id", u.ID, "credential", c.Name, "stored_count", c.SignCount, "count", got)
	s.audit(ctx, gatehouse.AuditEvent{
		Event: gatehouse.AuditWebAuthnCounterRegression, ActorID: idPtr(u.ID), SubjectID: idPtr(u.ID), Email: u.Email,
		Detail: fmt.Sprintf("credential=%s name=%q stored_count=%d count=%d",
			base64.RawURLEncoding.EncodeToString(c.CredentialID), c.Name, c.SignCount, got),
	}, Client{})
}
