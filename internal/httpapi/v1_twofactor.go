package httpapi

import (
	"encoding/json/jsontext"
	"net/http"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
)

// Wire types of the second factors.

// twoFactorChallengeResponse is the login answer when a second factor is needed: no tokens yet.
type twoFactorChallengeResponse struct {
	TwoFactorRequired bool      `json:"two_factor_required"`
	Challenge         string    `json:"challenge"`
	Methods           []string  `json:"methods"`
	ExpiresAt         time.Time `json:"expires_at"`
}

type twoFactorLoginRequest struct {
	Challenge      string         `json:"challenge"`
	Method         string         `json:"method"`
	Code           string         `json:"code,omitempty"`
	Assertion      jsontext.Value `json:"assertion,omitempty"`
	RememberDevice bool           `json:"remember_device,omitempty"`
	Remember       bool           `json:"remember,omitempty"`
	DeviceToken    string         `json:"device_token,omitempty"`
}

type challengeRequest struct {
	Challenge string `json:"challenge"`
}

type codeRequest struct {
	Code string `json:"code"`
	// CurrentPassword re-authenticates a session whose sign-in is not fresh (SECURITY_FRESHNESS).
	CurrentPassword string `json:"current_password,omitempty"`
}

// reauthRequest is the optional body of the credential changes that otherwise take none:
// current_password re-authenticates a session whose sign-in is not fresh.
type reauthRequest struct {
	CurrentPassword string `json:"current_password,omitempty"`
}

type passwordRequest struct {
	Password string `json:"password"`
}

type twoFactorStateResponse struct {
	TOTP              bool                         `json:"totp"`
	Email             bool                         `json:"email"`
	EmailAvailable    bool                         `json:"email_available"`
	WebAuthn          []webAuthnCredentialResponse `json:"webauthn"`
	RecoveryCodesLeft int                          `json:"recovery_codes_left"`
	Required          bool                         `json:"required"`
	SetupRequired     bool                         `json:"setup_required"`
}

type totpEnrolmentResponse struct {
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauth_uri"`
	QRPNG      string `json:"qr_png"`
	QRSVG      string `json:"qr_svg"`
}

// recoveryCodesResponse carries recovery codes, shown this once. Enabling a factor answers it
// too, with codes only when it was the account's first factor.
type recoveryCodesResponse struct {
	Message string   `json:"message,omitempty"`
	Codes   []string `json:"codes"`
}

func (s *server) handleTwoFactorState(w http.ResponseWriter, r *http.Request) error {
	st, err := s.auth.TwoFactorState(r.Context(), gatehouse.PrincipalFrom(r.Context()))
	if err != nil {
		return err
	}
	creds := make([]webAuthnCredentialResponse, len(st.WebAuthn))
	for i, c := range st.WebAuthn {
		creds[i] = webAuthnData(c)
	}
	return Respond(w, r, http.StatusOK, twoFactorStateResponse{
		TOTP: st.TOTP, Email: st.Email, EmailAvailable: s.auth.EmailCodesAvailable(), WebAuthn: creds,
		RecoveryCodesLeft: st.RecoveryCodesLeft, Required: st.Required, SetupRequired: st.SetupRequired,
	})
}

func (s *server) handleBeginTOTP(w http.ResponseWriter, r *http.Request) error {
	var req reauthRequest
	if _, err := DecodeOptional(r, &req); err != nil {
		return err
	}
	e, err := s.auth.BeginTOTP(r.Context(), gatehouse.PrincipalFrom(r.Context()), req.CurrentPassword, s.client(r))
	if err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, totpEnrolmentResponse{Secret: e.Secret, OTPAuthURI: e.OTPAuthURI, QRPNG: e.QRPNG, QRSVG: e.QRSVG})
}

func (s *server) handleConfirmTOTP(w http.ResponseWriter, r *http.Request) error {
	var req codeRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	codes, err := s.auth.ConfirmTOTP(r.Context(), gatehouse.PrincipalFrom(r.Context()), req.Code, req.CurrentPassword, s.client(r))
	if err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, enabledAnswer("authenticator app enabled", codes))
}

// enabledAnswer is the answer to enabling a factor: recovery codes when this made them.
func enabledAnswer(msg string, codes []string) recoveryCodesResponse {
	if codes == nil {
		codes = []string{}
	} else {
		msg += "; store these recovery codes somewhere safe: they are shown only now"
	}
	return recoveryCodesResponse{Message: msg, Codes: codes}
}

func (s *server) handleDisableTOTP(w http.ResponseWriter, r *http.Request) error {
	var req passwordRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	if err := s.auth.DisableTOTP(r.Context(), gatehouse.PrincipalFrom(r.Context()), req.Password, s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, messageResponse{Message: "authenticator app removed"})
}

func (s *server) handleRegenerateRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	var req reauthRequest
	if _, err := DecodeOptional(r, &req); err != nil {
		return err
	}
	codes, err := s.auth.RegenerateRecoveryCodes(r.Context(), gatehouse.PrincipalFrom(r.Context()), req.CurrentPassword, s.client(r))
	if err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, recoveryCodesResponse{
		Message: "new recovery codes; the old ones no longer work. Store these somewhere safe: they are shown only now", Codes: codes,
	})
}

func (s *server) handleEnableEmailTwoFactor(w http.ResponseWriter, r *http.Request) error {
	var req reauthRequest
	if _, err := DecodeOptional(r, &req); err != nil {
		return err
	}
	codes, err := s.auth.EnableEmailTwoFactor(r.Context(), gatehouse.PrincipalFrom(r.Context()), req.CurrentPassword, s.client(r))
	if err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, enabledAnswer("sign-in codes by email enabled", codes))
}

func (s *server) handleDisableEmailTwoFactor(w http.ResponseWriter, r *http.Request) error {
	var req passwordRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	if err := s.auth.DisableEmailTwoFactor(r.Context(), gatehouse.PrincipalFrom(r.Context()), req.Password, s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, messageResponse{Message: "sign-in codes by email disabled"})
}

// loginAnswer is the answer to a login step: the tokens, or the challenge of a second step.
func loginAnswer(w http.ResponseWriter, r *http.Request, pair *auth.TokenPair) error {
	if ch := pair.TwoFactor; ch != nil {
		return Respond(w, r, http.StatusOK, twoFactorChallengeResponse{
			TwoFactorRequired: true, Challenge: ch.Challenge, Methods: ch.Methods, ExpiresAt: ch.ExpiresAt,
		})
	}
	return Respond(w, r, http.StatusOK, tokenData(pair))
}

func (s *server) handleLoginTwoFactor(w http.ResponseWriter, r *http.Request) error {
	var req twoFactorLoginRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	pair, err := s.auth.LoginTwoFactor(r.Context(), auth.TwoFactorInput{
		Challenge: req.Challenge, Method: req.Method, Code: req.Code, Assertion: req.Assertion,
		RememberDevice: req.RememberDevice, Remember: req.Remember, DeviceToken: req.DeviceToken, Client: s.client(r),
	})
	if err != nil {
		return err
	}
	return loginAnswer(w, r, pair)
}

func (s *server) handleTwoFactorEmailCode(w http.ResponseWriter, r *http.Request) error {
	var req challengeRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	if err := s.auth.SendTwoFactorEmailCode(r.Context(), req.Challenge, s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusAccepted, messageResponse{Message: "a sign-in code is on its way; check your inbox"})
}

func (s *server) handleTwoFactorWebAuthnOptions(w http.ResponseWriter, r *http.Request) error {
	var req challengeRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	opts, err := s.auth.WebAuthnLoginOptions(r.Context(), req.Challenge)
	if err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, opts)
}

func (s *server) handleResetUserTwoFactor(w http.ResponseWriter, r *http.Request) error {
	if err := s.users.ResetTwoFactor(r.Context(), gatehouse.PrincipalFrom(r.Context()), userID(r), s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, messageResponse{Message: "every second factor of the user was removed and their sessions ended"})
}
