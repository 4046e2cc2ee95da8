package httpapi

import (
	"net/http"

	"github.com/gatehousehq/gatehouse"
)

// Usernames (SECURITY_USERNAME_ENABLE): the owner's change and recovery by email. Signing in,
// registering and the administrators' changes take `username` in their own bodies.

// changeUsernameRequest is POST /api/v1/me/username. Username "" removes it.
type changeUsernameRequest struct {
	Username string `json:"username"`
	// CurrentPassword renews a session whose sign-in is older than SECURITY_FRESHNESS.
	CurrentPassword string `json:"current_password,omitzero"`
}

// handleChangeUsername is POST /api/v1/me/username: the caller's account after the change.
func (s *server) handleChangeUsername(w http.ResponseWriter, r *http.Request) error {
	var req changeUsernameRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	p := gatehouse.PrincipalFrom(r.Context())
	if _, err := s.auth.ChangeUsername(r.Context(), p, req.Username, req.CurrentPassword, s.client(r)); err != nil {
		return err
	}
	return s.writeMe(w, r, p)
}

// handleRecoverUsername is POST /api/v1/auth/username/recover: the same 202 for every address.
func (s *server) handleRecoverUsername(w http.ResponseWriter, r *http.Request) error {
	var req emailRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	if err := s.auth.RecoverUsername(r.Context(), req.Email, s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusAccepted, messageResponse{Message: sameAnswer})
}
