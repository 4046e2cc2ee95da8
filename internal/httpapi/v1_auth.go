package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
)

// Wire types of /api/v1/auth. Domain types never reach the wire directly.

type loginRequest struct {
	Email string `json:"email"`
	// Username names the account instead of Email (SECURITY_USERNAME_ENABLE).
	Username string `json:"username"`
	Password string `json:"password"`
	Scope    string `json:"scope,omitempty"`
	Remember bool   `json:"remember,omitempty"`
	// RememberDeviceToken is the remember_device_token of an earlier second login step.
	RememberDeviceToken string `json:"remember_device_token,omitempty"`
	// DeviceToken is the device_token of an earlier successful sign-in (device cookies).
	DeviceToken string `json:"device_token,omitempty"`
}

type tokenResponse struct {
	AccessToken            string `json:"access_token"`
	RefreshToken           string `json:"refresh_token"`
	TokenType              string `json:"token_type"`
	ExpiresIn              int    `json:"expires_in"`
	Scope                  string `json:"scope"`
	PasswordChangeRequired bool   `json:"password_change_required,omitzero"`
	// RememberDeviceToken answers a second login step that asked to remember the device.
	RememberDeviceToken string `json:"remember_device_token,omitzero"`
	// DeviceToken answers a successful sign-in: sent back with later logins, it keeps this
	// client signing in while the account is slowed down by failures from elsewhere.
	DeviceToken string `json:"device_token,omitzero"`
}

func tokenData(p *auth.TokenPair) tokenResponse {
	return tokenResponse{
		AccessToken: p.AccessToken, RefreshToken: p.RefreshToken, TokenType: "Bearer",
		ExpiresIn: p.ExpiresIn, Scope: p.Scope, PasswordChangeRequired: p.PasswordChangeRequired,
		RememberDeviceToken: p.RememberDeviceToken, DeviceToken: p.DeviceToken,
	}
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

type emailRequest struct {
	Email string `json:"email"`
}

type registerRequest struct {
	Email    string `json:"email"`
	Username string `json:"username"`
	Password string `json:"password"`
}

type tokenRequest struct {
	Token string `json:"token"`
}

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

type resetPasswordRequest struct {
	Token       string `json:"token"`
	NewPassword string `json:"new_password"`
}

type messageResponse struct {
	Message string `json:"message"`
}

func (s *server) handleLogin(w http.ResponseWriter, r *http.Request) error {
	var req loginRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	pair, err := s.auth.Login(r.Context(), auth.LoginInput{
		Email: req.Email, Username: req.Username, Password: req.Password, Scope: req.Scope, Remember: req.Remember,
		RememberDeviceToken: req.RememberDeviceToken, DeviceToken: req.DeviceToken, Client: s.client(r),
	})
	if err != nil {
		return err
	}
	return loginAnswer(w, r, pair)
}

func (s *server) handleRefresh(w http.ResponseWriter, r *http.Request) error {
	var req refreshRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	pair, err := s.auth.Refresh(r.Context(), req.RefreshToken, s.client(r))
	if err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, tokenData(pair))
}

func (s *server) handleLogout(w http.ResponseWriter, r *http.Request) error {
	// The body is optional: an empty one signs out the bearer token's session, whatever
	// Content-Type came with it (clients often send application/json on every POST).
	var req refreshRequest
	if _, err := DecodeOptional(r, &req); err != nil {
		return err
	}
	if err := s.auth.Logout(r.Context(), req.RefreshToken, gatehouse.PrincipalFrom(r.Context()), s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, messageResponse{Message: "signed out"})
}

func (s *server) handleLogoutAll(w http.ResponseWriter, r *http.Request) error {
	if err := s.auth.LogoutAll(r.Context(), gatehouse.PrincipalFrom(r.Context()), s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, messageResponse{Message: "signed out of every session"})
}

func (s *server) handleChangePassword(w http.ResponseWriter, r *http.Request) error {
	var req changePasswordRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	pair, err := s.auth.ChangePassword(r.Context(), gatehouse.PrincipalFrom(r.Context()), req.CurrentPassword, req.NewPassword, s.client(r))
	if err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, tokenData(pair))
}

// sameAnswer is what forgot, register and resend say whatever the address: anything more
// would tell a stranger which addresses have accounts.
const sameAnswer = "if the address can receive it, a message is on its way; check your inbox"

func (s *server) handleForgotPassword(w http.ResponseWriter, r *http.Request) error {
	var req emailRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	if err := s.auth.ForgotPassword(r.Context(), req.Email, s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusAccepted, messageResponse{Message: sameAnswer})
}

func (s *server) handleResetPassword(w http.ResponseWriter, r *http.Request) error {
	var req resetPasswordRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	if err := s.auth.ResetPassword(r.Context(), req.Token, req.NewPassword, s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, messageResponse{Message: "password changed; sign in with the new password"})
}

func (s *server) handleRegister(w http.ResponseWriter, r *http.Request) error {
	var req registerRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	if err := s.auth.RegisterWithUsername(r.Context(), req.Email, req.Username, req.Password, s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusAccepted, messageResponse{Message: sameAnswer})
}

func (s *server) handleConfirm(w http.ResponseWriter, r *http.Request) error {
	var req tokenRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	if err := s.auth.Confirm(r.Context(), req.Token, s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, messageResponse{Message: "email address confirmed"})
}

func (s *server) handleResendConfirmation(w http.ResponseWriter, r *http.Request) error {
	var req emailRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	if err := s.auth.ResendConfirmation(r.Context(), req.Email, s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusAccepted, messageResponse{Message: sameAnswer})
}

// meResponse is the caller's own account.
type meResponse struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	// Username is null when the account has none or usernames are off.
	Username           *string    `json:"username"`
	Roles              []string   `json:"roles"`
	Scopes             []string   `json:"scopes"`
	Active             bool       `json:"active"`
	ConfirmedAt        *time.Time `json:"confirmed_at"`
	MustChangePassword bool       `json:"must_change_password"`
	// PasswordSet is false for an account without a password (it signs in by email code,
	// passkey or SSO; POST /api/v1/auth/password/change sets a first one).
	PasswordSet bool `json:"password_set"`
	// TwoFactorSetupRequired: SECURITY_TWO_FACTOR_REQUIRED covers the account and it has no
	// second factor yet; until it sets one up under /api/v1/me/2fa, little else is allowed.
	TwoFactorSetupRequired bool       `json:"two_factor_setup_required"`
	LastLoginAt            *time.Time `json:"last_login_at"`
	LastLoginIP            string     `json:"last_login_ip"`
	CurrentLoginAt         *time.Time `json:"current_login_at"`
	LoginCount             int64      `json:"login_count"`
	CreatedAt              time.Time  `json:"created_at"`
}

// handleGetMe is GET /api/v1/me: the caller's own account, for a token with the read scope.
func (s *server) handleGetMe(w http.ResponseWriter, r *http.Request) error {
	p, err := s.auth.Me(r.Context(), gatehouse.PrincipalFrom(r.Context()))
	if err != nil {
		return err
	}
	return s.writeMe(w, r, p)
}

// writeMe writes the caller's own account; its callers have had the service decide that the
// caller may see it.
func (s *server) writeMe(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	u := p.User
	roles := make([]string, len(u.Roles))
	for i, x := range u.Roles {
		roles[i] = string(x)
	}
	scopes := make([]string, len(p.Scopes))
	for i, x := range p.Scopes {
		scopes[i] = string(x)
	}
	// A pointer, so that the encoder need not copy the response to make it addressable.
	return Respond(w, r, http.StatusOK, &meResponse{
		ID: u.ID, Email: u.Email, Username: s.usernameOf(u), Roles: roles, Scopes: scopes, Active: u.Active, ConfirmedAt: u.ConfirmedAt,
		MustChangePassword: u.MustChangePassword, PasswordSet: u.PasswordSet(), TwoFactorSetupRequired: p.TwoFactorSetupRequired, LastLoginAt: u.LastLoginAt, LastLoginIP: u.LastLoginIP,
		CurrentLoginAt: u.CurrentLoginAt, LoginCount: u.LoginCount, CreatedAt: u.CreatedAt,
	})
}

// handleJWKS publishes the public keys that verify access tokens (RFC 7517). It is a standard
// document, not an API resource, so it is served bare rather than in the envelope.
func (s *server) handleJWKS(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/jwk-set+json")
	// Short enough that a newly published key is learnt well before it starts signing.
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err := w.Write(s.auth.JWKS())
	return err
}

type sessionResponse struct {
	ID         string    `json:"id"`
	Current    bool      `json:"current"`
	Scope      string    `json:"scope"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

func (s *server) handleSessions(w http.ResponseWriter, r *http.Request) error {
	p := gatehouse.PrincipalFrom(r.Context())
	list, err := s.auth.Sessions(r.Context(), p)
	if err != nil {
		return err
	}
	out := make([]sessionResponse, len(list))
	for i, x := range list {
		out[i] = sessionResponse{ID: x.ID, Current: x.ID == p.SessionID, Scope: x.Scope, IP: x.IP, UserAgent: x.UserAgent,
			CreatedAt: x.CreatedAt, LastUsedAt: x.LastUsedAt, ExpiresAt: x.ExpiresAt}
	}
	return Respond(w, r, http.StatusOK, out)
}

func (s *server) handleRevokeSession(w http.ResponseWriter, r *http.Request) error {
	if err := s.auth.RevokeSession(r.Context(), gatehouse.PrincipalFrom(r.Context()), r.PathValue("id"), s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, messageResponse{Message: "session ended"})
}
