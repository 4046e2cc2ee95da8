package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/rest"
)

// emailCodeResponse answers every valid request alike, for addresses with and without an
// account: Binding is what the client keeps (secret) and sends back to finish.
type emailCodeResponse struct {
	Message   string    `json:"message"`
	Binding   string    `json:"binding"`
	ExpiresAt time.Time `json:"expires_at"`
}

type emailCodeVerifyRequest struct {
	Email   string `json:"email"`
	Binding string `json:"binding"`
	// Code is the mailed 6-digit code; without it, the sign-in finishes only when the mailed
	// link was opened in another browser and confirmed there.
	Code                string `json:"code,omitempty"`
	Scope               string `json:"scope,omitempty"`
	Remember            bool   `json:"remember,omitempty"`
	RememberDeviceToken string `json:"remember_device_token,omitempty"`
	DeviceToken         string `json:"device_token,omitempty"`
}

func (s *server) handleEmailCode(w http.ResponseWriter, r *http.Request) error {
	var req emailRequest
	if err := rest.Decode(r, &req); err != nil {
		return err
	}
	t, err := s.auth.RequestEmailSignIn(r.Context(), req.Email, s.client(r))
	if err != nil {
		return err
	}
	return rest.Respond(w, r, http.StatusAccepted, emailCodeResponse{Message: sameAnswer, Binding: t.Binding, ExpiresAt: t.ExpiresAt})
}

func (s *server) handleEmailCodeVerify(w http.ResponseWriter, r *http.Request) error {
	var req emailCodeVerifyRequest
	if err := rest.Decode(r, &req); err != nil {
		return err
	}
	pair, err := s.auth.VerifyEmailSignIn(r.Context(), auth.EmailSignInInput{
		Email: req.Email, Binding: req.Binding, Code: req.Code, Scope: req.Scope, Remember: req.Remember,
		RememberDeviceToken: req.RememberDeviceToken, DeviceToken: req.DeviceToken, Client: s.client(r),
	})
	if err != nil {
		return err
	}
	return loginAnswer(w, r, pair)
}
