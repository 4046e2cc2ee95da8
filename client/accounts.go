package client

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// RegisterRequest is a self-registration (POST /auth/register).
type RegisterRequest struct {
	Email string `json:"email"`
	// Username is optional, and taken only when the service has usernames on.
	Username string `json:"username,omitempty"`
	Password string `json:"password"`
}

// LoginRequest signs in with a password (POST /auth/login).
type LoginRequest struct {
	// Email or Username names the account (Username only when the service has usernames on).
	Email    string `json:"email,omitempty"`
	Username string `json:"username,omitempty"`
	Password string `json:"password"`
	// Scope asks for a narrower token: "read", or "read write" (the default is as wide as
	// the account's roles allow).
	Scope string `json:"scope,omitempty"`
	// Remember asks for a long-lived session.
	Remember bool `json:"remember,omitempty"`
	// RememberDeviceToken is the Tokens.RememberDeviceToken of an earlier second step, which
	// skips the second factor on this device while it is valid.
	RememberDeviceToken string `json:"remember_device_token,omitempty"`
	// DeviceToken is the Tokens.DeviceToken of the latest sign-in to this account from here.
	DeviceToken string `json:"device_token,omitempty"`
}

// Tokens is the answer of a completed sign-in, a refresh or a password change.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int    `json:"expires_in"`
	Scope     string `json:"scope"`
	// PasswordChangeRequired: the account must change its password before anything else.
	PasswordChangeRequired bool `json:"password_change_required,omitempty"`
	// RememberDeviceToken answers a second step that asked to remember the device.
	RememberDeviceToken string `json:"remember_device_token,omitempty"`
	// DeviceToken is sent back with later sign-ins (LoginRequest.DeviceToken).
	DeviceToken string `json:"device_token,omitempty"`
}

// TwoFactorChallenge is the answer of a sign-in that needs a second factor: no tokens yet.
type TwoFactorChallenge struct {
	// Challenge goes back with the second step (TwoFactorRequest.Challenge).
	Challenge string `json:"challenge"`
	// Methods are the factors the account can use: "totp", "email", "webauthn",
	// "recovery_code".
	Methods   []string  `json:"methods"`
	ExpiresAt time.Time `json:"expires_at"`
}

// LoginResult is the answer of a sign-in step: exactly one of Tokens and TwoFactor is set.
type LoginResult struct {
	Tokens    *Tokens
	TwoFactor *TwoFactorChallenge
}

// TwoFactorRequest is the second step of a sign-in (POST /auth/login/2fa).
type TwoFactorRequest struct {
	Challenge string `json:"challenge"`
	// Method is one of the challenge's Methods.
	Method string `json:"method"`
	// Code is the authenticator, email or recovery code.
	Code string `json:"code,omitempty"`
	// Assertion is a WebAuthn assertion (method "webauthn").
	Assertion json.RawMessage `json:"assertion,omitempty"`
	// RememberDevice asks for a Tokens.RememberDeviceToken.
	RememberDevice bool   `json:"remember_device,omitempty"`
	Remember       bool   `json:"remember,omitempty"`
	DeviceToken    string `json:"device_token,omitempty"`
}

// Account is the caller's own account (GET /me).
type Account struct {
	ID    ID     `json:"id"`
	Email string `json:"email"`
	// Username is nil when the account has none.
	Username           *string    `json:"username"`
	Roles              []string   `json:"roles"`
	Scopes             []string   `json:"scopes"`
	Active             bool       `json:"active"`
	ConfirmedAt        *time.Time `json:"confirmed_at"`
	MustChangePassword bool       `json:"must_change_password"`
	// PasswordSet is false for an account without a password (ChangePassword then sets one).
	PasswordSet bool `json:"password_set"`
	// TwoFactorSetupRequired: the account must set up a second factor before anything else.
	TwoFactorSetupRequired bool       `json:"two_factor_setup_required"`
	LastLoginAt            *time.Time `json:"last_login_at"`
	LastLoginIP            string     `json:"last_login_ip"`
	CurrentLoginAt         *time.Time `json:"current_login_at"`
	LoginCount             int64      `json:"login_count"`
	CreatedAt              time.Time  `json:"created_at"`
}

// Register creates an account that must confirm its address (202). The answer is the same
// whether or not the address already has an account.
func (c *Client) Register(ctx context.Context, req RegisterRequest) (*Message, error) {
	return message(ctx, c, http.MethodPost, "/auth/register", req)
}

// Confirm confirms an address with the token (or code) of the confirmation email.
func (c *Client) Confirm(ctx context.Context, token string) (*Message, error) {
	return message(ctx, c, http.MethodPost, "/auth/confirm", map[string]string{"token": token})
}

// ResendConfirmation mails a new confirmation message (the answer is the same for every
// address).
func (c *Client) ResendConfirmation(ctx context.Context, email string) (*Message, error) {
	return message(ctx, c, http.MethodPost, "/auth/confirm/resend", map[string]string{"email": email})
}

// Login signs in with a password. When the account has a second factor the result carries
// its challenge instead of tokens: complete it with LoginTwoFactor.
func (c *Client) Login(ctx context.Context, req LoginRequest) (*LoginResult, error) {
	return loginStep(ctx, c, "/auth/login", req)
}

// LoginTwoFactor completes a sign-in with its second factor.
func (c *Client) LoginTwoFactor(ctx context.Context, req TwoFactorRequest) (*LoginResult, error) {
	return loginStep(ctx, c, "/auth/login/2fa", req)
}

func loginStep(ctx context.Context, c *Client, path string, req any) (*LoginResult, error) {
	var raw json.RawMessage
	if _, err := c.call(ctx, http.MethodPost, path, nil, req, &raw); err != nil {
		return nil, err
	}
	var probe struct {
		TwoFactorRequired bool `json:"two_factor_required"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, err
	}
	if probe.TwoFactorRequired {
		var ch TwoFactorChallenge
		if err := json.Unmarshal(raw, &ch); err != nil {
			return nil, err
		}
		return &LoginResult{TwoFactor: &ch}, nil
	}
	var t Tokens
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, err
	}
	return &LoginResult{Tokens: &t}, nil
}

// Refresh exchanges a refresh token for a new pair; the old refresh token stops working (using
// it again ends the whole session).
func (c *Client) Refresh(ctx context.Context, refreshToken string) (*Tokens, error) {
	var t Tokens
	if _, err := c.call(ctx, http.MethodPost, "/auth/refresh", nil, map[string]string{"refresh_token": refreshToken}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Logout ends a session: the one of refreshToken when given, otherwise the one of the
// client's bearer token.
func (c *Client) Logout(ctx context.Context, refreshToken string) error {
	body := noBody
	if refreshToken != "" {
		body = map[string]string{"refresh_token": refreshToken}
	}
	_, err := c.call(ctx, http.MethodPost, "/auth/logout", nil, body, nil)
	return err
}

// LogoutAll ends every session and token of the caller's account.
func (c *Client) LogoutAll(ctx context.Context) error {
	_, err := c.call(ctx, http.MethodPost, "/auth/logout-all", nil, noBody, nil)
	return err
}

// Me returns the caller's own account.
func (c *Client) Me(ctx context.Context) (*Account, error) {
	var a Account
	if _, err := c.call(ctx, http.MethodGet, "/me", nil, noBody, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// ChangePassword changes the caller's password. Every other session and token of the account
// ends; the answer is a new pair for this client.
func (c *Client) ChangePassword(ctx context.Context, currentPassword, newPassword string) (*Tokens, error) {
	var t Tokens
	body := map[string]string{"current_password": currentPassword, "new_password": newPassword}
	if _, err := c.call(ctx, http.MethodPost, "/auth/password/change", nil, body, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// ForgotPassword mails a reset link and code to the address when it has an account (202; the
// answer is the same for every address).
func (c *Client) ForgotPassword(ctx context.Context, email string) (*Message, error) {
	return message(ctx, c, http.MethodPost, "/auth/password/forgot", map[string]string{"email": email})
}

// ResetPassword sets a new password with the token (or code) of the reset email.
func (c *Client) ResetPassword(ctx context.Context, token, newPassword string) (*Message, error) {
	return message(ctx, c, http.MethodPost, "/auth/password/reset", map[string]string{"token": token, "new_password": newPassword})
}

func message(ctx context.Context, c *Client, method, path string, body any) (*Message, error) {
	var m Message
	if _, err := c.call(ctx, method, path, nil, body, &m); err != nil {
		return nil, err
	}
	return &m, nil
}
