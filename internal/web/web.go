// Package web serves Gatehouse's server-rendered pages: sign-in (with the second step), sign-out,
// forgot and reset password, email confirmation, registration, the profile with password,
// two-factor, session and API key management, and team invitations.
//
// The pages call the same auth.Service methods as the JSON API, so every rule (throttling and
// lockout, two-factor, must-change-password, policy) holds identically. A page session is a
// server-side scs session in the database (web_sessions) holding only the id of the auth session
// it belongs to, the sign-in time and short-lived state (a pending two-factor challenge, flash
// messages); the principal is loaded from the auth session on every request, so logout-all,
// password changes and deactivation end page sessions too.
//
// Every page works without JavaScript; the only script (security keys) is an external file, as
// the Content-Security-Policy forbids inline script. Every POST passes
// http.CrossOriginProtection.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/teams"
	"github.com/gatehousehq/gatehouse/internal/transport"
	"github.com/gatehousehq/gatehouse/internal/users"
)

//go:embed templates static
var assets embed.FS

// SSOButton is one "Sign in with …" button of the login page (gatehouse.SSOButton, which the
// single sign-on package makes without importing the pages).
type SSOButton = gatehouse.SSOButton

// SSOButtons lists the single sign-on buttons to show on the login page now (it may change
// with the license and the configuration); an empty list shows none.
type SSOButtons interface {
	Buttons(ctx context.Context) []SSOButton
}

// Options are the dependencies and settings of the pages.
type Options struct {
	Auth  *auth.Service  // required
	Teams *teams.Service // required: invitations
	// Users serves the administration console (/admin, global admins only); nil leaves the
	// console out (every /admin page is then the 404). internal/app always sets it.
	Users *users.Service
	// System reports the instance's state for the console's system page (nil: no such page).
	System SystemInfo
	// Sessions keeps the page sessions, shared by every instance (store.WebSessionStore over
	// the web_sessions table). Required.
	Sessions scs.CtxStore
	// Logger receives the access log of the pages and the causes of their errors. Nil discards.
	Logger *slog.Logger
	// Now is the clock of sign-in times and freshness. Nil means time.Now.
	Now func() time.Time

	// BrandName names the product on every page (BRAND_NAME).
	BrandName string
	// LogoPath is a PNG, SVG or JPEG file served as the logo (BRAND_LOGO_PATH); empty: the
	// default logo, drawn with BrandName.
	LogoPath string
	// CookieSecure is COOKIE_SECURE: "auto" (TLS, or a trusted proxy saying https), "true" or
	// "false".
	CookieSecure string
	// TrustedProxies are the peers whose X-Forwarded-For and X-Forwarded-Proto are believed.
	TrustedProxies []netip.Prefix
	// RememberDuration is how long a "remember me" sign-in lasts (SECURITY_REMEMBER_DURATION).
	RememberDuration time.Duration
	// Freshness is how recent the sign-in must be for sensitive changes (SECURITY_FRESHNESS).
	Freshness time.Duration

	// Mail says whether email can be sent (SMTP_HOST): sign-in codes by email are offered only
	// then.
	Mail bool

	// SSO, when set, supplies the login page's single sign-on buttons.
	SSO SSOButtons

	// APIDocument is the path of the OpenAPI document the API reference page (/api/docs)
	// renders: the current API version's (internal/app sets it). Empty: DefaultAPIDocument.
	APIDocument string
}

// Web is the page handler. Create it with New.
type Web struct {
	auth      *auth.Service
	teams     *teams.Service
	users     *users.Service
	system    SystemInfo
	log       *slog.Logger
	now       func() time.Time
	brand     string
	logo      logo
	secure    string
	trusted   []netip.Prefix
	remember  time.Duration
	freshness time.Duration
	sso       atomic.Pointer[SSOButtons]
	mail      bool
	apiDocs   *apiDocs

	// Two session managers share the one store: the cookie of a secure request is Secure and
	// named with the __Host- prefix, that of a plain-HTTP request is neither, and COOKIE_SECURE
	// decides per request which applies.
	plainSessions  *scs.SessionManager
	secureSessions *scs.SessionManager

	pages  map[string]*template.Template
	static fs.FS
	mux    *http.ServeMux
	// assets are the patterns of the routes on the Asset chain, served without a session.
	assets map[string]bool
	// served lists the registered routes, in order.
	served  []transport.Route
	csrf    *http.CrossOriginProtection
	handler http.Handler
}

// Cookie names. The __Host- prefix makes browsers refuse the cookie unless it is Secure, has
// Path=/ and no Domain, so nothing on another subdomain or over plain HTTP can plant it.
const (
	sessionCookie       = "gatehouse_session"
	secureSessionCookie = "__Host-gatehouse_session"
	deviceCookie        = "gatehouse_device"
	secureDeviceCookie  = "__Host-gatehouse_device"
)

// New builds the page handler. It reads BRAND_LOGO_PATH now, so a missing or unreadable logo
// stops the start-up instead of showing a broken image.
func New(o Options) (*Web, error) {
	if o.Auth == nil || o.Sessions == nil || o.Teams == nil {
		return nil, errors.New("web: Auth, Sessions and Teams are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.BrandName == "" {
		o.BrandName = "Gatehouse"
	}
	if o.CookieSecure == "" {
		o.CookieSecure = "auto"
	}
	if o.RememberDuration <= 0 {
		o.RememberDuration = 30 * 24 * time.Hour
	}
	if o.Freshness <= 0 {
		o.Freshness = 24 * time.Hour
	}
	w := &Web{
		auth: o.Auth, teams: o.Teams, users: o.Users, system: o.System, log: o.Logger, now: o.Now, brand: o.BrandName, secure: o.CookieSecure,
		trusted: o.TrustedProxies, remember: o.RememberDuration, freshness: o.Freshness, mail: o.Mail,
		mux: http.NewServeMux(), assets: map[string]bool{},
	}
	if o.SSO != nil {
		w.SetSSOButtons(o.SSO)
	}
	var err error
	if w.logo, err = loadLogo(o.LogoPath, o.BrandName); err != nil {
		return nil, err
	}
	if w.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if w.static, err = fs.Sub(assets, "static"); err != nil {
		return nil, err
	}
	if w.apiDocs, err = newAPIDocs(o.APIDocument); err != nil {
		return nil, err
	}
	st := o.Sessions
	w.plainSessions = w.newSessionManager(st, sessionCookie, false)
	w.secureSessions = w.newSessionManager(st, secureSessionCookie, true)

	w.csrf = http.NewCrossOriginProtection()
	w.csrf.SetDenyHandler(http.HandlerFunc(w.crossOriginDenied))

	w.routes()
	// The recovery is inside the access log, so that a panic is logged as the 500 it is answered
	// with.
	w.handler = w.accessLog(w.recoverPanics(w.securityHeaders(w.csrf.Handler(http.HandlerFunc(w.serveSession)))))
	return w, nil
}

func (w *Web) newSessionManager(st scs.CtxStore, name string, secure bool) *scs.SessionManager {
	m := scs.New()
	m.Store = st
	m.HashTokenInStore = true
	m.Lifetime = w.remember
	m.Cookie.Name = name
	m.Cookie.HttpOnly = true
	m.Cookie.SameSite = http.SameSiteLaxMode
	m.Cookie.Secure = secure
	m.Cookie.Path = "/"
	// Without "remember me" the cookie ends with the browser; RememberMe(true) makes it persist.
	m.Cookie.Persist = false
	m.ErrorFunc = func(rw http.ResponseWriter, r *http.Request, err error) {
		w.serverError(rw, r, fmt.Errorf("page session: %w", err))
	}
	return m
}

// ServeHTTP implements http.Handler.
func (w *Web) ServeHTTP(rw http.ResponseWriter, r *http.Request) { w.handler.ServeHTTP(rw, r) }

// SetSSOButtons sets (or, with nil, removes) the source of the login page's single sign-on
// buttons, for wiring that creates the pages before the SSO service.
func (w *Web) SetSSOButtons(b SSOButtons) {
	if b == nil {
		w.sso.Store(nil)
		return
	}
	w.sso.Store(&b)
}

// sessions returns the session manager for the request: the secure one when the cookie is to
// be Secure.
func (w *Web) sessions(r *http.Request) *scs.SessionManager {
	if w.secureRequest(r) {
		return w.secureSessions
	}
	return w.plainSessions
}

// serveSession loads the page session and the principal, then routes. The routes of the Asset
// chain (static files, the logo) need neither: a page pulls several of them, and each would cost
// a session read and an authentication.
func (w *Web) serveSession(rw http.ResponseWriter, r *http.Request) {
	if _, pattern := w.mux.Handler(r); w.assets[pattern] {
		w.mux.ServeHTTP(rw, r)
		return
	}
	m := w.sessions(r)
	m.LoadAndSave(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		r = r.WithContext(context.WithValue(r.Context(), managerKey{}, m))
		r, ok := w.loadPrincipal(rw, r)
		if !ok {
			return
		}
		w.mux.ServeHTTP(rw, r)
	})).ServeHTTP(rw, r)
}
