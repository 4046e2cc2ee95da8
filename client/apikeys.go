package client

import (
	"context"
	"net/http"
	"time"
)

// APIKey describes a personal API key. Its secret is only in NewAPIKey, once.
type APIKey struct {
	ID     ID       `json:"id"`
	Name   string   `json:"name"`
	Prefix string   `json:"prefix"`
	Scopes []string `json:"scopes"`
	// Status is "active", "expired" or "invalidated" (the owner's security stamp changed).
	Status     string     `json:"status"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	// ParentKeyID is the key that created this one; nil when a signed-in session did.
	ParentKeyID *ID `json:"parent_key_id"`
}

// NewAPIKey is a key just created, with its secret: the bearer credential, shown this once.
type NewAPIKey struct {
	APIKey
	Secret string `json:"secret"`
}

// APIKeyInput is a new key.
type APIKeyInput struct {
	Name string `json:"name"`
	// Scopes are among the account's own ("read", "write", "admin").
	Scopes []string `json:"scopes"`
	// ExpiresAt is nil for a key that never expires.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// CurrentPassword re-authenticates a session whose sign-in is no longer fresh
	// (SECURITY_FRESHNESS); otherwise the service answers "reauthentication_required".
	CurrentPassword string `json:"current_password,omitempty"`
}

// CreateAPIKey creates a key of the caller's account. It needs a signed-in session (an API key
// cannot create keys).
func (c *Client) CreateAPIKey(ctx context.Context, in APIKeyInput) (*NewAPIKey, error) {
	var k NewAPIKey
	if _, err := c.call(ctx, http.MethodPost, "/api-keys", nil, in, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// APIKeys returns a page of the caller's keys, without their secrets.
func (c *Client) APIKeys(ctx context.Context, opts ListOptions) (*Page[APIKey], error) {
	return list[APIKey](ctx, c, "/api-keys", opts)
}

// RevokeAPIKey revokes one of the caller's keys.
func (c *Client) RevokeAPIKey(ctx context.Context, id ID) error {
	_, err := c.call(ctx, http.MethodDelete, "/api-keys/"+id.String(), nil, noBody, nil)
	return err
}
