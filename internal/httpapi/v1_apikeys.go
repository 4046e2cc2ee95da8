package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/rest"
)

// Wire types of /api/v1/api-keys.

type apiKeyCreateRequest struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
	// ExpiresAt is an RFC 3339 time; absent or null for a key that never expires.
	ExpiresAt *time.Time `json:"expires_at"`
	// CurrentPassword re-authenticates a session whose sign-in is not fresh.
	CurrentPassword string `json:"current_password,omitempty"`
}

// apiKeyResponse describes a key. It never holds the secret, which exists only in the answer
// to the create request (apiKeyCreatedResponse).
type apiKeyResponse struct {
	ID     int64    `json:"id"`
	Name   string   `json:"name"`
	Prefix string   `json:"prefix"`
	Scopes []string `json:"scopes"`
	// Status is active, expired, or invalidated (the owner's security stamp changed since).
	Status     string     `json:"status"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	// ParentKeyID is the API key that created this one (keys could create keys before
	// Gatehouse refused it); null when a signed-in session created it.
	ParentKeyID *int64 `json:"parent_key_id"`
}

type apiKeyCreatedResponse struct {
	apiKeyResponse `json:",inline"`
	// Secret is the key itself, shown this once.
	Secret string `json:"secret"`
}

func (s *server) apiKeyData(owner *gatehouse.User, k *gatehouse.APIKey) apiKeyResponse {
	scopes := make([]string, len(k.Scopes))
	for i, sc := range k.Scopes {
		scopes[i] = string(sc)
	}
	return apiKeyResponse{
		ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: scopes, Status: s.auth.APIKeyStatus(owner, k),
		CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt, LastUsedAt: k.LastUsedAt, ParentKeyID: k.ParentKeyID,
	}
}

func (s *server) handleCreateAPIKey(w http.ResponseWriter, r *http.Request) error {
	var req apiKeyCreateRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	p := gatehouse.PrincipalFrom(r.Context())
	k, secret, err := s.auth.CreateAPIKey(r.Context(), p, auth.APIKeyInput{Name: req.Name, Scopes: req.Scopes, ExpiresAt: req.ExpiresAt, CurrentPassword: req.CurrentPassword}, s.client(r))
	if err != nil {
		return err
	}
	// The key's address is that of DELETE /api/v1/api-keys/{id}, which revokes it; it is listed
	// (without its secret) by GET /api/v1/api-keys.
	return rest.RespondCreated(w, r, "/api/v1/api-keys/"+strconv.FormatInt(k.ID, 10), apiKeyCreatedResponse{apiKeyResponse: s.apiKeyData(p.User, k), Secret: secret})
}

// apiKeyCursor is the position after the last key of a page.
type apiKeyCursor struct {
	CreatedAt time.Time `json:"c"`
	ID        int64     `json:"i"`
}

func (s *server) handleAPIKeys(w http.ResponseWriter, r *http.Request) error {
	page, err := ParsePage(r)
	if err != nil {
		return err
	}
	var after *gatehouse.APIKeyPosition
	if page.Cursor != nil {
		var c apiKeyCursor
		if err := page.DecodeCursor(&c); err != nil {
			return err
		}
		after = &gatehouse.APIKeyPosition{CreatedAt: c.CreatedAt, ID: c.ID}
	}
	p := gatehouse.PrincipalFrom(r.Context())
	keys, err := s.auth.APIKeys(r.Context(), p, after, page.Limit)
	if err != nil {
		return err
	}
	keys, next := rest.Paginate(keys, page.Limit, func(k *gatehouse.APIKey) any { return apiKeyCursor{CreatedAt: k.CreatedAt, ID: k.ID} })
	out := make([]apiKeyResponse, len(keys))
	for i, k := range keys {
		out[i] = s.apiKeyData(p.User, k)
	}
	return RespondPage(w, r, out, page.Limit, next)
}

func (s *server) handleRevokeAPIKey(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return gatehouse.Errorf(gatehouse.ENotFound, "API key not found")
	}
	if err := s.auth.RevokeAPIKey(r.Context(), gatehouse.PrincipalFrom(r.Context()), id, s.client(r)); err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, messageResponse{Message: "API key revoked"})
}
