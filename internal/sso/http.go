package sso

import (
	"fmt"
	"html/template"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/transport"
	"github.com/gatehousehq/gatehouse/rest"
)

type handlers struct {
	s        *Service
	pages    Pages
	sessions SessionStarter
}

// providerData is one provider in GET /api/v1/sso/providers.
type providerData struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Name     string `json:"name"`
	Label    string `json:"label"`
	LoginURL string `json:"login_url"`
}

// providers lists the sign-in providers usable now: configured, and licensed. It is public, as
// the login page is: it names no user.
func (h *handlers) providers(w http.ResponseWriter, r *http.Request) error {
	ps := h.s.Providers(r.Context())
	out := make([]providerData, len(ps))
	for i, p := range ps {
		out[i] = providerData(p)
	}
	return rest.Respond(w, r, http.StatusOK, map[string]any{"providers": out})
}

// gate refuses a browser endpoint of a feature that is off or not configured.
func (h *handlers) gate(r *http.Request, feature string, configured bool) error {
	if !h.s.enabled(r.Context(), feature) {
		return notLicensed(feature)
	}
	if !configured {
		return gatehouse.Errorf(gatehouse.ENotFound, "this sign-in method is not configured")
	}
	return nil
}

// finish completes a sign-in: LoginExternal, the browser session, and the redirect to next.
func (h *handlers) finish(w http.ResponseWriter, r *http.Request, in auth.ExternalLogin, next string) error {
	if h.sessions == nil {
		return gatehouse.Errorf(gatehouse.EUnavailable, "single sign-on needs the web pages, which are not enabled on this server")
	}
	pair, err := h.s.accounts.LoginExternal(r.Context(), in)
	if err != nil {
		return err
	}
	if err := h.sessions.EstablishSession(w, r, pair, in.Remember); err != nil {
		return err
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// defaultNext is where a completed sign-in lands without a next parameter.
const defaultNext = "/profile"

// safeNext returns next when it is a path on this server, and defaultNext otherwise, so that a
// sign-in link cannot send the browser elsewhere (an open redirect).
func safeNext(next string) string {
	if next == "" || len(next) > 1024 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n\t") {
		return defaultNext
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(u.Path, "/sso/") {
		return defaultNext
	}
	return next
}

// page answers a browser endpoint's error: the envelope for a client that asks for JSON, the
// pages' error page otherwise. Internal errors show a generic message; their cause is logged.
func (h *handlers) page(w http.ResponseWriter, r *http.Request, err error) error {
	if wantsJSON(r) {
		return err
	}
	code := gatehouse.ErrorCode(err)
	status := rest.StatusFor(code)
	msg := gatehouse.ErrorMessage(err)
	if status >= 500 {
		level := slog.LevelError
		if status == http.StatusServiceUnavailable {
			level = slog.LevelWarn
		}
		// A reference the person can quote, to find this line in the log.
		ref := randomString(6)
		h.s.log.Log(r.Context(), level, "SSO request failed", "path", r.URL.Path, "ref", ref, "error", err.Error())
		if code == gatehouse.EInternal || code == "" {
			msg = "Something went wrong on our side. Please try again; if it keeps happening, tell an administrator (reference " + ref + ")."
		}
	}
	// Stricter than the pages' own headers: these URLs can carry codes (no referrer), and the
	// page needs nothing but the pages' style sheet and logo.
	hd := w.Header()
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Content-Security-Policy", errorPagePolicy)
	h.pages.ErrorPage(w, r, status, "Sign-in did not complete", msg)
	return nil
}

// errorPagePolicy is the Content-Security-Policy of the error pages of the SSO endpoints.
const errorPagePolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// wantsJSON reports whether the client asked for JSON rather than a page.
func wantsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "text/html":
			return false
		case "application/json":
			return true
		}
	}
	return false
}

type pageData struct {
	Brand, Title, Message string
	// The bounce page's form.
	Action string
	Fields map[string]string
	Nonce  string
}

// html writes a page of SSO's own (the bounce page) with the headers every SSO page carries: no
// caching, no framing, no referrer (URLs here can carry codes), and a policy that allows no
// script but the page's own.
func (h *handlers) html(w http.ResponseWriter, status int, t *template.Template, d pageData) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	csp := "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
	if d.Nonce != "" {
		csp += "; script-src 'nonce-" + d.Nonce + "'; form-action 'self'"
	} else {
		csp += "; form-action 'none'"
	}
	hd.Set("Content-Security-Policy", csp)
	w.WriteHeader(status)
	if err := t.Execute(w, d); err != nil {
		h.s.log.Warn("SSO page not rendered", "error", err)
	}
}

// The administration of a user's SSO state.

type identityData struct {
	ID          int64   `json:"id"`
	Provider    string  `json:"provider"`
	Subject     string  `json:"subject"`
	Email       string  `json:"email"`
	CreatedAt   string  `json:"created_at"`
	LastLoginAt *string `json:"last_login_at"`
}

type ssoAccountData struct {
	SSOOnly    bool           `json:"sso_only"`
	Identities []identityData `json:"identities"`
}

func accountData(a *auth.SSOAccount) ssoAccountData {
	out := ssoAccountData{SSOOnly: a.SSOOnly, Identities: make([]identityData, len(a.Identities))}
	for i, id := range a.Identities {
		d := identityData{ID: id.ID, Provider: id.Provider, Subject: id.Subject, Email: id.Email, CreatedAt: id.CreatedAt.UTC().Format(timeFormat)}
		if id.LastLoginAt != nil {
			t := id.LastLoginAt.UTC().Format(timeFormat)
			d.LastLoginAt = &t
		}
		out.Identities[i] = d
	}
	return out
}

const timeFormat = "2006-01-02T15:04:05.999999Z07:00"

func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, gatehouse.FieldError(name, "must be a positive integer")
	}
	return id, nil
}

func (h *handlers) adminGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	a, err := h.s.accounts.AdminSSOAccount(r.Context(), gatehouse.PrincipalFrom(r.Context()), id)
	if err != nil {
		return err
	}
	return rest.Respond(w, r, http.StatusOK, accountData(a))
}

// ssoPut is the body of PUT /api/v1/users/{user_id}/sso.
type ssoPut struct {
	SSOOnly *bool `json:"sso_only"`
}

// Validate implements rest.Validatable.
func (p *ssoPut) Validate() error {
	if p.SSOOnly == nil {
		return gatehouse.FieldError("sso_only", "is required (true or false)")
	}
	return nil
}

func (h *handlers) adminPut(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	var in ssoPut
	if err := rest.Decode(r, &in); err != nil {
		return err
	}
	a, err := h.s.accounts.AdminSetSSOOnly(r.Context(), gatehouse.PrincipalFrom(r.Context()), id, *in.SSOOnly, h.s.client(r))
	if err != nil {
		return err
	}
	return rest.Respond(w, r, http.StatusOK, accountData(a))
}

// identityPost is the body of POST /api/v1/users/{user_id}/sso/identities.
type identityPost struct {
	// Provider is "saml" or "oidc:<name>", as GET /api/v1/sso/providers names them.
	Provider string `json:"provider"`
	// Subject is the provider's id for the person: the OIDC sub, the SAML NameID.
	Subject string `json:"subject"`
}

// Validate implements rest.Validatable.
func (p *identityPost) Validate() error {
	switch {
	case p.Provider == "":
		return gatehouse.FieldError("provider", "is required (saml or oidc:<name>)")
	case p.Subject == "" || len(p.Subject) > 255:
		return gatehouse.FieldError("subject", "must be 1 to 255 bytes")
	}
	return nil
}

// configured reports whether provider names a configured provider ("saml" or "oidc:<name>"),
// licensed now or not: linking is administration, which works while SSO is off.
func (s *Service) configured(provider string) bool {
	if provider == "saml" {
		return s.cfg.SAML.Enabled()
	}
	name, ok := strings.CutPrefix(provider, "oidc:")
	if !ok {
		return false
	}
	for _, p := range s.cfg.OIDC {
		if p.Name == name {
			return true
		}
	}
	return false
}

// adminLink links an identity to the user on an administrator's word: how an account that SSO
// does not link by itself (an admin account, or any account of a provider not trusted to link
// by email address) gets its identity. It answers 201 with the user's SSO state.
func (h *handlers) adminLink(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	var in identityPost
	invalid := rest.Decode(r, &in) // answered after the authorization
	link := auth.IdentityLink{Provider: in.Provider, Subject: in.Subject, Configured: h.s.configured(in.Provider), Invalid: invalid}
	a, err := h.s.accounts.AdminLinkIdentity(r.Context(), gatehouse.PrincipalFrom(r.Context()), id, link, h.s.client(r))
	if err != nil {
		return err
	}
	// A 201 names what it created (RFC 9110 §15.3.2): the new identity, whose URL is where it
	// is unlinked. The body stays the account's SSO state.
	for _, ident := range a.Identities {
		if ident.Provider == in.Provider && ident.Subject == in.Subject {
			w.Header().Set("Location", fmt.Sprintf("%s/%d", r.URL.Path, ident.ID))
		}
	}
	return rest.Respond(w, r, http.StatusCreated, accountData(a))
}

func (h *handlers) adminUnlink(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	identity, err := pathID(r, "identity_id")
	if err != nil {
		return err
	}
	p := gatehouse.PrincipalFrom(r.Context())
	if err := h.s.accounts.AdminUnlinkIdentity(r.Context(), p, id, identity, h.s.client(r)); err != nil {
		return err
	}
	a, err := h.s.accounts.AdminSSOAccount(r.Context(), p, id)
	if err != nil {
		return err
	}
	return rest.Respond(w, r, http.StatusOK, accountData(a))
}

// client describes the browser for audit and login tracking, as the API and the pages do.
func (s *Service) client(r *http.Request) auth.Client { return transport.Client(r, s.trusted) }
