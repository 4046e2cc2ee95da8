package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehousehq/gatehouse"
)

// reauthResponse is a new access token of the caller's session with the renewed auth_time.
type reauthResponse struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	ExpiresIn   int       `json:"expires_in"`
	Scope       string    `json:"scope"`
	AuthTime    time.Time `json:"auth_time"`
}

// handleReauth is POST /api/v1/auth/reauth: the caller proves the password again, so that the
// session is fresh for credential changes (SECURITY_FRESHNESS).
func (s *server) handleReauth(w http.ResponseWriter, r *http.Request) error {
	var req passwordRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	out, err := s.auth.Reauthenticate(r.Context(), gatehouse.PrincipalFrom(r.Context()), req.Password, s.client(r))
	if err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, reauthResponse{
		AccessToken: out.AccessToken, TokenType: "Bearer", ExpiresIn: out.ExpiresIn, Scope: out.Scope, AuthTime: out.AuthTime,
	})
}
