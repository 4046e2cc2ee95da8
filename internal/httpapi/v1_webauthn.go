package httpapi

import (
	"encoding/json/jsontext"
	"net/http"
	"net/url"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/rest"
)

// Wire types of /api/v1/me/2fa/webauthn.

// webAuthnRegisterRequest completes a registration: credential is the PublicKeyCredential the
// browser's navigator.credentials.create returned, as JSON (PublicKeyCredential.toJSON(), with
// base64url binary fields).
type webAuthnRegisterRequest struct {
	Name       string         `json:"name"`
	Credential jsontext.Value `json:"credential"`
	// CurrentPassword re-authenticates a session whose sign-in is not fresh.
	CurrentPassword string `json:"current_password,omitempty"`
}

type webAuthnRenameRequest struct {
	Name string `json:"name"`
}

type webAuthnRemoveRequest struct {
	Password string `json:"password"`
}

// webAuthnCredentialResponse describes a security key or passkey. ID is the credential id
// (base64url), the {id} of the rename and remove routes.
type webAuthnCredentialResponse struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	CreatedAt      time.Time  `json:"created_at"`
	LastUsedAt     *time.Time `json:"last_used_at"`
	BackupEligible bool       `json:"backup_eligible"`
	BackupState    bool       `json:"backup_state"`
	// Passkey: registered as a passkey, so it also signs in on its own.
	Passkey bool `json:"passkey"`
}

// webAuthnRegisteredResponse is the new credential and, as when enabling any factor, a message
// and the recovery codes made with it when it was the account's first second factor (shown
// this once; an empty list otherwise).
type webAuthnRegisteredResponse struct {
	webAuthnCredentialResponse `json:",inline"`
	recoveryCodesResponse      `json:",inline"`
}

func webAuthnData(c auth.WebAuthnCredentialInfo) webAuthnCredentialResponse {
	return webAuthnCredentialResponse{
		ID: c.ID, Name: c.Name, CreatedAt: c.CreatedAt, LastUsedAt: c.LastUsedAt,
		BackupEligible: c.BackupEligible, BackupState: c.BackupState, Passkey: c.Passkey,
	}
}

// handleWebAuthnRegisterOptions answers with PublicKeyCredentialCreationOptions: the object to
// pass as publicKey to navigator.credentials.create (binary fields base64url-encoded, so
// PublicKeyCredential.parseCreationOptionsFromJSON takes it as is). Its body is optional:
// {"current_password": "…"} for a session whose sign-in is not fresh.
func (s *server) handleWebAuthnRegisterOptions(w http.ResponseWriter, r *http.Request) error {
	var req reauthRequest
	if _, err := DecodeOptional(r, &req); err != nil {
		return err
	}
	opts, err := s.auth.BeginWebAuthnRegistration(r.Context(), gatehouse.PrincipalFrom(r.Context()), req.CurrentPassword, s.client(r))
	if err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, opts)
}

func (s *server) handleWebAuthnRegister(w http.ResponseWriter, r *http.Request) error {
	var req webAuthnRegisterRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	info, codes, err := s.auth.FinishWebAuthnRegistration(r.Context(), gatehouse.PrincipalFrom(r.Context()), req.Name,
		req.Credential, req.CurrentPassword, s.client(r))
	if err != nil {
		return err
	}
	return rest.RespondCreated(w, r, "/api/v1/me/2fa/webauthn/"+url.PathEscape(info.ID), webAuthnRegisteredResponse{
		webAuthnCredentialResponse: webAuthnData(*info), recoveryCodesResponse: enabledAnswer("security key registered", codes),
	})
}

func (s *server) handleWebAuthnCredentials(w http.ResponseWriter, r *http.Request) error {
	creds, err := s.auth.WebAuthnCredentials(r.Context(), gatehouse.PrincipalFrom(r.Context()))
	if err != nil {
		return err
	}
	out := make([]webAuthnCredentialResponse, len(creds))
	for i, c := range creds {
		out[i] = webAuthnData(c)
	}
	return Respond(w, r, http.StatusOK, out)
}

func (s *server) handleWebAuthnRename(w http.ResponseWriter, r *http.Request) error {
	var req webAuthnRenameRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	info, err := s.auth.RenameWebAuthnCredential(r.Context(), gatehouse.PrincipalFrom(r.Context()), r.PathValue("id"), req.Name)
	if err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, webAuthnData(*info))
}

func (s *server) handleWebAuthnRemove(w http.ResponseWriter, r *http.Request) error {
	var req webAuthnRemoveRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	if err := s.auth.RemoveWebAuthnCredential(r.Context(), gatehouse.PrincipalFrom(r.Context()), r.PathValue("id"), req.Password, s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, messageResponse{Message: "security key removed"})
}
