package httpapi

import (
	"encoding/json/jsontext"
	"net/http"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/rest"
)

// passkeyOptionsResponse starts a passkey sign-in: public_key is the argument of
// navigator.credentials.get({publicKey}) (binary fields base64url, so
// PublicKeyCredential.parseRequestOptionsFromJSON takes it as is); ceremony comes back with
// the assertion before expires_at.
type passkeyOptionsResponse struct {
	Ceremony  string         `json:"ceremony"`
	PublicKey jsontext.Value `json:"public_key"`
	ExpiresAt time.Time      `json:"expires_at"`
}

type passkeyLoginRequest struct {
	Ceremony string `json:"ceremony"`
	// Assertion is PublicKeyCredential.toJSON() of the credential navigator.credentials.get
	// returned.
	Assertion   jsontext.Value `json:"assertion"`
	Scope       string         `json:"scope,omitempty"`
	Remember    bool           `json:"remember,omitempty"`
	DeviceToken string         `json:"device_token,omitempty"`
}

type authenticatorLoginRequest struct {
	Email               string `json:"email"`
	Code                string `json:"code"`
	Scope               string `json:"scope,omitempty"`
	Remember            bool   `json:"remember,omitempty"`
	RememberDeviceToken string `json:"remember_device_token,omitempty"`
	DeviceToken         string `json:"device_token,omitempty"`
}

// handlePasskeyLoginOptions takes no body (an empty object is accepted too).
func (s *server) handlePasskeyLoginOptions(w http.ResponseWriter, r *http.Request) error {
	var req struct{}
	if _, err := rest.DecodeOptional(r, &req); err != nil {
		return err
	}
	start, err := s.auth.BeginPasskeyLogin(r.Context(), s.client(r))
	if err != nil {
		return err
	}
	return rest.Respond(w, r, http.StatusOK, passkeyOptionsResponse{
		Ceremony: start.Ceremony, PublicKey: jsontext.Value(start.Options), ExpiresAt: start.ExpiresAt,
	})
}

func (s *server) handlePasskeyLogin(w http.ResponseWriter, r *http.Request) error {
	var req passkeyLoginRequest
	if err := rest.Decode(r, &req); err != nil {
		return err
	}
	pair, err := s.auth.LoginPasskey(r.Context(), auth.PasskeyLoginInput{
		Ceremony: req.Ceremony, Assertion: []byte(req.Assertion), Scope: req.Scope, Remember: req.Remember,
		DeviceToken: req.DeviceToken, Client: s.client(r),
	})
	if err != nil {
		return err
	}
	return loginAnswer(w, r, pair)
}

func (s *server) handleAuthenticatorLogin(w http.ResponseWriter, r *http.Request) error {
	var req authenticatorLoginRequest
	if err := rest.Decode(r, &req); err != nil {
		return err
	}
	pair, err := s.auth.LoginAuthenticator(r.Context(), auth.AuthenticatorLoginInput{
		Email: req.Email, Code: req.Code, Scope: req.Scope, Remember: req.Remember,
		RememberDeviceToken: req.RememberDeviceToken, DeviceToken: req.DeviceToken, Client: s.client(r),
	})
	if err != nil {
		return err
	}
	return loginAnswer(w, r, pair)
}

// handlePasskeyRegisterOptions answers the PublicKeyCredentialCreationOptions of a passkey
// (resident key and user verification required); POST /api/v1/me/2fa/webauthn/register
// completes it as for a security key. The body is optional: {"current_password": "…"} for a
// session whose sign-in is not fresh.
func (s *server) handlePasskeyRegisterOptions(w http.ResponseWriter, r *http.Request) error {
	var req reauthRequest
	if _, err := rest.DecodeOptional(r, &req); err != nil {
		return err
	}
	opts, err := s.auth.BeginPasskeyRegistration(r.Context(), gatehouse.PrincipalFrom(r.Context()), req.CurrentPassword, s.client(r))
	if err != nil {
		return err
	}
	return rest.Respond(w, r, http.StatusOK, jsontext.Value(opts))
}
