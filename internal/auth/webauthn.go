package auth

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
	"github.com/gatehousehq/gatehouse/internal/store"
)

// MethodWebAuthn is the second-factor method name of security keys and passkeys.
const MethodWebAuthn = "webauthn"

const (
	// webAuthnCeremonyTTL is how long a registration's options stay valid; the browser is told
	// the same timeout.
	webAuthnCeremonyTTL = 5 * time.Minute
	// WebAuthnNameMax is the longest credential name, in characters.
	WebAuthnNameMax = 64
	// webAuthnMaxCredentials bounds the credentials of one user: enough for every device a
	// person owns, small enough that the login options stay small.
	webAuthnMaxCredentials = 20
	// webAuthnDefaultName names a credential registered without a name.
	webAuthnDefaultName = "Security key"
)

// WebAuthnCredentialInfo describes a registered security key or passkey to its owner.
type WebAuthnCredentialInfo struct {
	// ID is the credential id, base64url without padding (as browsers show it).
	ID         string
	Name       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	// BackupEligible marks a passkey that can be synced between devices; BackupState that it is
	// backed up now.
	BackupEligible, BackupState bool
	// Passkey marks a credential registered as a passkey: it also signs in on its own.
	Passkey bool
}

func webAuthnInfo(c *store.WebAuthnCredential) WebAuthnCredentialInfo {
	return WebAuthnCredentialInfo{
		ID: base64.RawURLEncoding.EncodeToString(c.CredentialID), Name: c.Name, CreatedAt: c.CreatedAt,
		LastUsedAt: c.LastUsedAt, BackupEligible: c.BackupEligible, BackupState: c.BackupState,
		Passkey: c.Passkey,
	}
}

// webAuthnUser adapts a user and their stored credentials to go-webauthn.
type webAuthnUser struct {
	u     *gatehouse.User
	creds []*store.WebAuthnCredential
}

// WebAuthnID is the user handle: the account id as 8 big-endian bytes. It is opaque and holds
// no personal data, as the specification asks, and never changes (unlike the email). An
// account imported from Flask-Security keeps the handle it had there.
func (w webAuthnUser) WebAuthnID() []byte {
	if w.u.WebAuthnUserHandle != "" {
		// Imported from Flask-Security: its passkeys carry the handle it chose.
		return []byte(w.u.WebAuthnUserHandle)
	}
	return binary.BigEndian.AppendUint64(nil, uint64(w.u.ID)) //nolint:gosec // ids are positive
}

func (w webAuthnUser) WebAuthnName() string        { return w.u.Email }
func (w webAuthnUser) WebAuthnDisplayName() string { return w.u.Email }

func (w webAuthnUser) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, len(w.creds))
	for i, c := range w.creds {
		transports := make([]protocol.AuthenticatorTransport, len(c.Transports))
		for j, t := range c.Transports {
			transports[j] = protocol.AuthenticatorTransport(t)
		}
		var aaguid []byte
		if id, err := uuid.Parse(c.AAGUID); err == nil {
			aaguid = id[:]
		}
		out[i] = webauthn.Credential{
			ID: c.CredentialID, PublicKey: c.PublicKey, AttestationType: c.AttestationType,
			AttestationFormat: c.AttestationFormat, Transport: transports,
			Flags: webauthn.CredentialFlags{
				UserPresent: c.UserPresent, UserVerified: c.UserVerified,
				BackupEligible: c.BackupEligible, BackupState: c.BackupState,
			},
			Authenticator: webauthn.Authenticator{AAGUID: aaguid, SignCount: c.SignCount},
		}
	}
	return out
}

// relyingParty returns the WebAuthn relying party from the options, deriving what is not set
// from PUBLIC_URL. It is cheap to build, so it is made per ceremony rather than kept.
func (s *Service) relyingParty() (*webauthn.WebAuthn, error) {
	rpID, origins, name := s.opts.WebAuthnRPID, s.opts.WebAuthnOrigins, s.opts.WebAuthnRPName
	if rpID == "" || len(origins) == 0 {
		u, err := url.Parse(s.opts.PublicURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("webauthn: PUBLIC_URL %q gives no relying party: %w", s.opts.PublicURL, err)
		}
		if rpID == "" {
			rpID = u.Hostname()
		}
		if len(origins) == 0 {
			origins = []string{u.Scheme + "://" + u.Host}
		}
	}
	if name == "" {
		name = s.opts.BrandName
	}
	if name == "" {
		name = "Gatehouse"
	}
	return webauthn.New(&webauthn.Config{
		RPID: rpID, RPDisplayName: name, RPOrigins: origins,
		// Attestation would identify the authenticator model; as a second factor we do not
		// restrict models, so asking for it would only cost the user a privacy prompt.
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			// Passkeys (discoverable credentials) when the authenticator offers them, so the
			// same credential can later serve passwordless sign-in; plain security keys work too.
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: webAuthnCeremonyTTL, TimeoutUVD: webAuthnCeremonyTTL},
			Registration: webauthn.TimeoutConfig{Timeout: webAuthnCeremonyTTL, TimeoutUVD: webAuthnCeremonyTTL},
		},
	})
}

// webAuthnError turns a go-webauthn verification failure into a client-safe error naming the
// field that carried the response; the library's developer detail goes to the log only.
func webAuthnError(code gatehouse.Code, field string, err error) error {
	detail := "verification failed"
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Details != "" {
		// The library's details read "Error validating origin"; lower-cased they follow the
		// "field: problem" form of every other message.
		detail = strings.ToLower(pe.Details[:1]) + pe.Details[1:]
	}
	return &gatehouse.Error{Code: code, Message: field + ": " + detail, Fields: map[string]string{field: detail}, Err: err}
}

// webAuthnCredentials lists a user's security keys and passkeys, oldest first.
func (s *Service) webAuthnCredentials(ctx context.Context, userID int64) ([]WebAuthnCredentialInfo, error) {
	creds, err := s.store.WebAuthnCredentials(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]WebAuthnCredentialInfo, len(creds))
	for i, c := range creds {
		out[i] = webAuthnInfo(c)
	}
	return out, nil
}

// WebAuthnCredentials lists the caller's security keys and passkeys, oldest first.
func (s *Service) WebAuthnCredentials(ctx context.Context, p *gatehouse.Principal) ([]WebAuthnCredentialInfo, error) {
	if err := rbac.Decide(p, rbac.ActUserReadSelf, ""); err != nil { // as TwoFactorState
		return nil, err
	}
	return s.webAuthnCredentials(ctx, p.User.ID)
}

// BeginWebAuthnRegistration starts registering a security key or passkey for the caller: it
// returns the PublicKeyCredentialCreationOptions (the publicKey argument of
// navigator.credentials.create, binary fields base64url-encoded) and keeps the ceremony's
// session data server-side for FinishWebAuthnRegistration. Asking again replaces the pending
// ceremony.
func (s *Service) BeginWebAuthnRegistration(ctx context.Context, p *gatehouse.Principal, currentPassword string, c Client) (json.RawMessage, error) {
	return s.beginRegistration(ctx, p, currentPassword, c, false)
}

// registrationSession is what a pending registration keeps: go-webauthn's session data and
// whether a passkey was asked for, which decides how the answer is stored whichever endpoint
// completes it. The marker sits beside the library's fields, so older rows still decode.
type registrationSession struct {
	webauthn.SessionData
	Passkey bool `json:"gatehouse_passkey,omitempty"`
}

// beginRegistration starts a registration; passkey asks for a discoverable credential with
// user verification (see BeginPasskeyRegistration).
func (s *Service) beginRegistration(ctx context.Context, p *gatehouse.Principal, currentPassword string, c Client, passkey bool) (json.RawMessage, error) {
	if err := s.requireCredentialChange(ctx, p, "second factors", currentPassword, c); err != nil {
		return nil, err
	}
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	creds, err := s.store.WebAuthnCredentials(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	if len(creds) >= webAuthnMaxCredentials {
		return nil, gatehouse.Errorf(gatehouse.EConflict, "at most %d security keys can be registered; remove one first", webAuthnMaxCredentials)
	}
	user := webAuthnUser{u: p.User, creds: creds}
	// Excluding the registered credentials makes the browser refuse a key that is registered
	// already, instead of creating a second credential on it.
	exclude := webauthn.Credentials(user.WebAuthnCredentials()).CredentialDescriptors()
	opts := []webauthn.RegistrationOption{webauthn.WithExclusions(exclude)}
	if passkey {
		opts = append(opts, passkeyRegistration()...)
	}
	creation, session, err := rp.BeginRegistration(user, opts...)
	if err != nil {
		return nil, fmt.Errorf("webauthn: begin registration: %w", err)
	}
	data, err := json.Marshal(registrationSession{SessionData: *session, Passkey: passkey})
	if err != nil {
		return nil, fmt.Errorf("webauthn: encode session: %w", err)
	}
	if err := s.store.SaveWebAuthnRegistration(ctx, p.User.ID, session.Challenge, string(data), s.now().Add(webAuthnCeremonyTTL)); err != nil {
		return nil, err
	}
	return json.Marshal(creation.Response)
}

// webAuthnName checks and tidies a credential name; empty gets the default name.
func webAuthnName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return webAuthnDefaultName, nil
	case utf8.RuneCountInString(name) > WebAuthnNameMax:
		return "", gatehouse.FieldError("name", fmt.Sprintf("must be at most %d characters", WebAuthnNameMax))
	case gatehouse.DisplayTextProblem(name, false) != "":
		return "", gatehouse.FieldError("name", gatehouse.DisplayTextProblem(name, false))
	}
	return name, nil
}

// FinishWebAuthnRegistration verifies the authenticator's answer (the PublicKeyCredential from
// navigator.credentials.create, as JSON) against the pending ceremony and stores the new
// credential under name. When it is the caller's first second factor, recovery codes are made
// and returned (shown once); otherwise the codes are nil. Enrolling ends the user's other
// sessions and sends a notice (see factorAdded).
func (s *Service) FinishWebAuthnRegistration(ctx context.Context, p *gatehouse.Principal, name string, response json.RawMessage, currentPassword string, c Client) (*WebAuthnCredentialInfo, []string, error) {
	if err := s.requireCredentialChange(ctx, p, "second factors", currentPassword, c); err != nil {
		return nil, nil, err
	}
	if _, err := webAuthnName(name); err != nil {
		return nil, nil, err
	}
	if len(response) == 0 || string(response) == "null" {
		return nil, nil, gatehouse.FieldError("credential", "is required")
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, nil, webAuthnError(gatehouse.EInvalid, "credential", err)
	}
	rp, err := s.relyingParty()
	if err != nil {
		return nil, nil, err
	}
	data, err := s.store.WebAuthnRegistration(ctx, p.User.ID)
	if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
		return nil, nil, gatehouse.FieldError("credential", "no registration is pending or it has expired; request new options")
	} else if err != nil {
		return nil, nil, err
	}
	var pending registrationSession
	if err := json.Unmarshal([]byte(data), &pending); err != nil {
		return nil, nil, fmt.Errorf("webauthn: decode session: %w", err)
	}
	session := pending.SessionData
	if pending.Passkey {
		if err := checkPasskeyCreated(parsed); err != nil {
			return nil, nil, err
		}
		if strings.TrimSpace(name) == "" {
			name = passkeyDefaultName
		}
	}
	creds, err := s.store.WebAuthnCredentials(ctx, p.User.ID)
	if err != nil {
		return nil, nil, err
	}
	cred, err := rp.CreateCredential(webAuthnUser{u: p.User, creds: creds}, session, parsed)
	if err != nil {
		return nil, nil, webAuthnError(gatehouse.EInvalid, "credential", err)
	}
	if name, err = webAuthnName(name); err != nil {
		return nil, nil, err
	}
	transports := make([]string, len(cred.Transport))
	for i, t := range cred.Transport {
		transports[i] = string(t)
	}
	aaguid := ""
	if id, err := uuid.FromBytes(cred.Authenticator.AAGUID); err == nil {
		aaguid = id.String()
	}
	sc := &store.WebAuthnCredential{
		UserID: p.User.ID, CredentialID: cred.ID, PublicKey: cred.PublicKey,
		AttestationType: cred.AttestationType, AttestationFormat: cred.AttestationFormat, Transports: transports,
		AAGUID: aaguid, SignCount: cred.Authenticator.SignCount,
		UserPresent: cred.Flags.UserPresent, UserVerified: cred.Flags.UserVerified,
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState, Name: name,
		Passkey: pending.Passkey,
	}
	if err := s.store.CompleteWebAuthnRegistration(ctx, session.Challenge, sc, webAuthnMaxCredentials); err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
			return nil, nil, gatehouse.FieldError("credential", "no registration is pending or it has expired; request new options")
		}
		return nil, nil, err
	}
	codes, err := s.factorAdded(ctx, p, MethodWebAuthn, c)
	if err != nil {
		return nil, nil, err
	}
	info := webAuthnInfo(sc)
	return &info, codes, nil
}

// parseWebAuthnID decodes a credential id from a URL; anything undecodable names no credential.
func parseWebAuthnID(id string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(id, "="))
	if err != nil || len(raw) == 0 {
		return nil, errWebAuthnNotFound
	}
	return raw, nil
}

var errWebAuthnNotFound = &gatehouse.Error{Code: gatehouse.ENotFound, Message: "id: no such security key",
	Fields: map[string]string{"id": "no such security key"}}

// RenameWebAuthnCredential renames one of the caller's credentials. Another user's credential
// is not found.
func (s *Service) RenameWebAuthnCredential(ctx context.Context, p *gatehouse.Principal, id, name string) (*WebAuthnCredentialInfo, error) {
	if err := s.requireWriteSession(ctx, p, "second factors"); err != nil {
		return nil, err
	}
	raw, err := parseWebAuthnID(id)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(name) == "" {
		return nil, gatehouse.FieldError("name", "is required")
	}
	if name, err = webAuthnName(name); err != nil {
		return nil, err
	}
	c, err := s.store.RenameWebAuthnCredential(ctx, p.User.ID, raw, name)
	if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
		return nil, errWebAuthnNotFound
	} else if err != nil {
		return nil, err
	}
	info := webAuthnInfo(c)
	return &info, nil
}

// RemoveWebAuthnCredential removes one of the caller's credentials after checking their
// password. Another user's credential is not found. Removal ends the user's other sessions and
// sends a notice (see factorRemoved).
func (s *Service) RemoveWebAuthnCredential(ctx context.Context, p *gatehouse.Principal, id, password string, c Client) error {
	raw, err := parseWebAuthnID(id)
	if err != nil {
		return err
	}
	if err := s.requirePasswordChange(ctx, p, "second factors", password, c); err != nil {
		return err
	}
	if _, err := s.store.DeleteWebAuthnCredential(ctx, p.User.ID, raw); gatehouse.ErrorCode(err) == gatehouse.ENotFound {
		return errWebAuthnNotFound
	} else if err != nil {
		return err
	}
	return s.factorRemoved(ctx, p, MethodWebAuthn, c)
}
