package sso

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/license"
)

// The OpenID Connect relying party: the authorization-code flow with PKCE (S256), state and
// nonce. GET /sso/oidc/{provider}/login seals state, nonce, the PKCE verifier and where to go
// afterwards into a cookie and redirects to the provider; the callback opens the cookie (once),
// checks state, exchanges the code with the verifier, verifies the ID token (signature by the
// provider's published keys, issuer, audience, expiry) and its nonce, and signs the person in.

// oidcProvider is one configured provider, discovered when first used.
type oidcProvider struct {
	cfg config.OIDCProvider

	mu       sync.Mutex
	provider *oidc.Provider
	lastErr  error
	lastTry  time.Time
}

// rediscoverAfter spaces discovery attempts while a provider fails, so that a provider that is
// down is not asked again by every sign-in attempt.
const rediscoverAfter = 15 * time.Second

// discover returns the provider's discovered endpoints, fetching them on first use.
func (s *Service) discover(ctx context.Context, p *oidcProvider) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.provider != nil {
		return p.provider, nil
	}
	if p.lastErr != nil && s.now().Sub(p.lastTry) < rediscoverAfter {
		return nil, p.lastErr
	}
	p.lastTry = s.now()
	// The provider keeps this context's client (s.http, with its timeout) for the later fetches
	// of the signing keys, not its cancellation.
	prov, err := oidc.NewProvider(oidc.ClientContext(ctx, s.http), p.cfg.Issuer)
	if err != nil {
		s.log.Warn("OIDC discovery failed", "provider", p.cfg.Name, "issuer", p.cfg.Issuer, "error", err)
		p.lastErr = gatehouse.Wrap(gatehouse.EUnavailable, err, "the identity provider %s cannot be reached right now; try again in a moment", p.cfg.Name)
		return nil, p.lastErr
	}
	p.provider, p.lastErr = prov, nil
	return prov, nil
}

func (s *Service) oauthConfig(p *oidcProvider, prov *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret,
		Endpoint: prov.Endpoint(), RedirectURL: s.url("/sso/oidc/" + p.cfg.Name + "/callback"),
		Scopes: p.cfg.Scopes,
	}
}

// oidcFlow is what the sign-in cookie holds between login and callback.
type oidcFlow struct {
	Provider string `json:"p"`
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"x"`
	Remember bool   `json:"r,omitempty"`
}

func oidcCookie(name string) string { return "gh_sso_oidc_" + name }

func (h *handlers) oidcProvider(r *http.Request) (*oidcProvider, error) {
	p := h.s.oidc[r.PathValue("provider")]
	if err := h.gate(r, license.FeatureSSOOAuth, p != nil); err != nil {
		return nil, err
	}
	return p, nil
}

func (h *handlers) oidcLogin(w http.ResponseWriter, r *http.Request) error {
	p, err := h.oidcProvider(r)
	if err != nil {
		return h.page(w, r, err)
	}
	prov, err := h.s.discover(r.Context(), p)
	if err != nil {
		return h.page(w, r, err)
	}
	f := oidcFlow{
		Provider: p.cfg.Name, State: randomString(32), Nonce: randomString(32), Verifier: oauth2.GenerateVerifier(),
		Next: safeNext(r.URL.Query().Get("next")), Remember: r.URL.Query().Get("remember") == "1",
	}
	if err := h.s.setFlowCookie(w, oidcCookie(p.cfg.Name), f); err != nil {
		return h.page(w, r, err)
	}
	target := h.s.oauthConfig(p, prov).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound) // #nosec G710 -- the provider's configured authorization endpoint
	return nil
}

func (h *handlers) oidcCallback(w http.ResponseWriter, r *http.Request) error {
	p, err := h.oidcProvider(r)
	if err != nil {
		return h.page(w, r, err)
	}
	provider := "oidc:" + p.cfg.Name
	c := h.s.client(r)
	refuse := func(status gatehouse.Code, msg, detail string) error {
		h.s.accounts.AuditSSOFailure(r.Context(), provider, detail, c)
		return h.page(w, r, gatehouse.Errorf(status, "%s", msg).WithReason("sso_failed"))
	}
	var f oidcFlow
	if err := h.s.takeFlowCookie(w, r, oidcCookie(p.cfg.Name), &f); err != nil || f.Provider != p.cfg.Name {
		return refuse(gatehouse.EInvalid, "This sign-in has expired or was started in another browser. Please start again.", "no valid sign-in cookie")
	}
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(f.State)) != 1 {
		return refuse(gatehouse.EInvalid, "This sign-in could not be verified (the state does not match). Please start again.", "state mismatch")
	}
	if e := q.Get("error"); e != "" {
		return refuse(gatehouse.EUnauthenticated, "The identity provider did not sign you in ("+truncate(e, 64)+").", "the provider answered "+truncate(e, 64))
	}
	code := q.Get("code")
	if code == "" {
		return refuse(gatehouse.EInvalid, "The identity provider's answer has no authorization code. Please start again.", "no code")
	}
	prov, err := h.s.discover(r.Context(), p)
	if err != nil {
		return h.page(w, r, err)
	}
	ctx := oidc.ClientContext(r.Context(), h.s.http)
	tok, err := h.s.oauthConfig(p, prov).Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		h.s.log.Info("OIDC code exchange refused", "provider", p.cfg.Name, "error", err)
		return refuse(gatehouse.EUnauthenticated, "The identity provider did not accept this sign-in. Please start again.", "code exchange failed: "+truncate(err.Error(), 200))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return refuse(gatehouse.EUnauthenticated, "The identity provider sent no ID token.", "no id_token in the token response")
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: p.cfg.ClientID, Now: h.s.now}).Verify(ctx, raw)
	if err != nil {
		return refuse(gatehouse.EUnauthenticated, "The identity provider's ID token is not valid.", "ID token refused: "+truncate(err.Error(), 200))
	}
	if idt.Nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return refuse(gatehouse.EUnauthenticated, "The identity provider's ID token does not belong to this sign-in.", "nonce mismatch")
	}
	in, err := h.s.oidcIdentity(ctx, p, prov, tok, idt)
	if err != nil {
		return refuse(gatehouse.EUnauthenticated, "The identity provider's ID token could not be read.", err.Error())
	}
	in.Provider, in.Remember, in.Client = provider, f.Remember, c
	if err := h.finish(w, r, in, safeNext(f.Next)); err != nil {
		return h.page(w, r, err)
	}
	return nil
}

// oidcIdentity reads the person from the verified ID token: the subject, the email address
// (from the user-info endpoint when the token has none) and the groups.
func (s *Service) oidcIdentity(ctx context.Context, p *oidcProvider, prov *oidc.Provider, tok *oauth2.Token, idt *oidc.IDToken) (auth.ExternalLogin, error) {
	in := auth.ExternalLogin{Subject: idt.Subject}
	var claims map[string]json.RawMessage
	if err := idt.Claims(&claims); err != nil {
		return in, fmt.Errorf("claims: %w", err)
	}
	if idt.Subject == "" || len(idt.Subject) > 255 {
		return in, errors.New("the subject is empty or longer than 255 bytes")
	}
	in.Email, in.EmailVerified = emailClaims(claims)
	if in.Email == "" && prov.UserInfoEndpoint() != "" {
		ui, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		switch {
		case err != nil:
			s.log.Info("OIDC user info not read", "provider", p.cfg.Name, "error", err)
		case ui.Subject != idt.Subject:
			return in, errors.New("the user info is about another subject")
		default:
			var uc map[string]json.RawMessage
			if err := ui.Claims(&uc); err == nil {
				in.Email, in.EmailVerified = emailClaims(uc)
			}
		}
	}
	// email_verified lets a first sign-in create an account with the address; linking to an
	// existing account with it takes the operator's trust in the provider (trust_email).
	if p.cfg.TrustEmail && in.Email != "" {
		in.EmailVerified, in.LinkByEmail = true, true
	}
	in.Groups = stringsClaim(claims[p.cfg.GroupsClaim])
	return in, nil
}

// emailClaims reads email and email_verified. Some providers send email_verified as a string.
func emailClaims(c map[string]json.RawMessage) (string, bool) {
	var email string
	_ = json.Unmarshal(c["email"], &email)
	var verified bool
	if err := json.Unmarshal(c["email_verified"], &verified); err != nil {
		var s string
		if json.Unmarshal(c["email_verified"], &s) == nil {
			verified = strings.EqualFold(s, "true")
		}
	}
	return strings.TrimSpace(email), verified
}

// stringsClaim reads a claim that is a list of strings, or one string.
func stringsClaim(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var one string
	if json.Unmarshal(raw, &one) == nil && one != "" {
		return []string{one}
	}
	return nil
}

// truncate shortens s to at most n bytes plus an ellipsis, cutting at a character boundary so
// that text echoed from a request (an IdP's error parameter) stays valid UTF-8.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
