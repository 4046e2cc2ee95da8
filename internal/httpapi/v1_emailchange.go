package httpapi

import (
	"net/http"

	"github.com/gatehousehq/gatehouse"
)

type emailChangeRequest struct {
	NewEmail string `json:"new_email"`
	Password string `json:"password"`
}

type emailChangeConfirmRequest struct {
	Token string `json:"token"`
}

type emailChangeResponse struct {
	Message string `json:"message"`
	Email   string `json:"email,omitzero"`
}

func (s *server) handleRequestEmailChange(w http.ResponseWriter, r *http.Request) error {
	var req emailChangeRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	if err := s.auth.RequestEmailChange(r.Context(), gatehouse.PrincipalFrom(r.Context()), req.NewEmail, req.Password, s.client(r)); err != nil {
		return err
	}
	// The same answer whether or not the new address already has an account.
	return Respond(w, r, http.StatusAccepted, emailChangeResponse{
		Message: "if the new address can receive it, a confirmation link and code are on their way to it; the address changes when it is confirmed"})
}

func (s *server) handleConfirmEmailChange(w http.ResponseWriter, r *http.Request) error {
	var req emailChangeConfirmRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	u, err := s.auth.ConfirmEmailChange(r.Context(), req.Token, s.client(r))
	if err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, emailChangeResponse{Message: "email address changed; every session has ended, sign in with the new address", Email: u.Email})
}
