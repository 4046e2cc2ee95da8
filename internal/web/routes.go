package web

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/transport"
	"github.com/gatehousehq/gatehouse/rest"
)

// handlers binds the page routes of the route table (internal/transport/table.go, where each
// route's chain, gate and body limit are written) to the handlers of this package. Single
// sign-on's browser routes come from internal/sso, through Handle. API paths never reach the
// pages: the split between them is computed from the table (transport.Dispatch).
func (w *Web) handlers() map[string]http.HandlerFunc {
	static := w.filesOnly(http.FileServerFS(w.static))
	return map[string]http.HandlerFunc{
		"GET /static/":   http.StripPrefix("/static/", cacheFor(static, "public, max-age=3600")).ServeHTTP,
		"GET /logo":      w.handleLogo,
		"GET /logo/mark": w.handleLogoMark,
		"GET /{$}":       w.handleRoot,

		// The API reference (pages_apidocs.go).
		"GET /api/docs":                      w.handleAPIDocs,
		"GET /api/docs/swagger-ui-bundle.js": w.apiDocs.bundle.ServeHTTP,
		"GET /api/docs/swagger-ui.css":       w.apiDocs.css.ServeHTTP,

		"GET /login":                       w.handleLoginForm,
		"POST /login":                      w.handleLogin,
		"POST /logout":                     w.handleLogout,
		"GET /login/2fa":                   w.handleTwoFactorForm,
		"POST /login/2fa":                  w.handleTwoFactor,
		"POST /login/2fa/email-code":       w.handleTwoFactorEmailCode,
		"POST /login/2fa/webauthn/options": w.handleTwoFactorWebAuthnOptions,

		// Sign-in by emailed code or link (pages_emailsignin.go).
		"GET /login/authenticator":  w.authenticatorOn(w.handleAuthenticatorForm),
		"POST /login/authenticator": w.authenticatorOn(w.handleAuthenticator),
		"GET /login/email":          w.emailSignInOn(w.handleEmailSignInForm),
		"POST /login/email":         w.emailSignInOn(w.handleEmailSignInRequest),
		"GET /login/email/code":     w.emailSignInOn(w.handleEmailCodeForm),
		"POST /login/email/code":    w.emailSignInOn(w.handleEmailCode),
		"GET /login/email/link":     w.emailSignInOn(w.handleEmailLinkForm),
		"POST /login/email/link":    w.emailSignInOn(w.handleEmailLink),

		"GET /forgot-password":  w.handleForgotForm,
		"POST /forgot-password": w.handleForgot,
		"GET /reset-password":   w.handleResetForm,
		"POST /reset-password":  w.handleReset,
		"GET /confirm":          w.handleConfirmForm,
		"POST /confirm":         w.handleConfirm,
		"POST /confirm/resend":  w.handleConfirmResend,
		"GET /register":         w.handleRegisterForm,
		"POST /register":        w.handleRegister,
		"GET /confirm-email":    w.handleEmailChangeForm,
		"POST /confirm-email":   w.handleEmailChangeConfirm,

		// Usernames (pages_username.go).
		"GET /recover-username":  w.handleRecoverUsernameForm,
		"POST /recover-username": w.handleRecoverUsername,
		"POST /profile/username": w.handleUsernameChange,

		"GET /change-password":                   w.handleMustChangeForm,
		"POST /change-password":                  w.handleMustChange,
		"GET /verify":                            w.handleVerifyForm,
		"POST /verify":                           w.handleVerify,
		"GET /profile":                           w.handleProfile,
		"POST /profile/password":                 w.handleProfilePassword,
		"POST /profile/email":                    w.handleEmailChangeRequest,
		"POST /profile/sessions/{id}/revoke":     w.handleSessionRevoke,
		"POST /profile/sessions/revoke-all":      w.handleSessionsRevokeAll,
		"POST /profile/api-keys":                 w.handleAPIKeyCreate,
		"POST /profile/api-keys/{id}/revoke":     w.handleAPIKeyRevoke,
		"GET /profile/2fa/totp":                  w.handleTOTPForm,
		"POST /profile/2fa/totp":                 w.handleTOTPConfirm,
		"POST /profile/2fa/totp/disable":         w.handleTOTPDisable,
		"POST /profile/2fa/recovery-codes":       w.handleRecoveryCodes,
		"POST /profile/2fa/email/enable":         w.handleEmailEnable,
		"POST /profile/2fa/email/disable":        w.handleEmailDisable,
		"POST /profile/2fa/webauthn/options":     w.handleWebAuthnOptions,
		"POST /profile/2fa/webauthn":             w.handleWebAuthnAdd,
		"POST /profile/2fa/webauthn/{id}/remove": w.handleWebAuthnRemove,
		"POST /login/passkey/options":            w.handlePasskeyLoginOptions,
		"POST /login/passkey":                    w.handlePasskeyLogin,
		"POST /profile/2fa/passkeys/options":     w.handlePasskeyRegisterOptions,
		"POST /profile/2fa/passkeys":             w.handlePasskeyAdd,

		"GET /invitations/accept":  w.handleInvitationForm,
		"POST /invitations/accept": w.handleInvitationAccept,

		"GET /admin":                                             w.adminOnly(w.handleAdminHome),
		"GET /admin/users":                                       w.adminOnly(w.handleAdminUsers),
		"GET /admin/users/new":                                   w.adminOnly(w.handleAdminNewUserForm),
		"POST /admin/users/new":                                  w.adminOnly(w.handleAdminNewUser),
		"GET /admin/users/{id}":                                  w.adminOnly(w.handleAdminUser),
		"POST /admin/users/{id}/{action}":                        w.adminOnly(w.handleAdminUserAction),
		"POST /admin/users/{id}/sessions/{session}/end":          w.adminOnly(w.handleAdminEndSession),
		"POST /admin/users/{id}/api-keys/{key}/revoke":           w.adminOnly(w.handleAdminRevokeKey),
		"POST /admin/users/{id}/identities":                      w.adminOnly(w.handleAdminLinkIdentity),
		"POST /admin/users/{id}/identities/{identity}/unlink":    w.adminOnly(w.handleAdminUnlinkIdentity),
		"GET /admin/teams":                                       w.adminOnly(w.handleAdminTeams),
		"GET /admin/teams/{id}":                                  w.adminOnly(w.handleAdminTeam),
		"POST /admin/teams/{id}/members":                         w.adminOnly(w.handleAdminAddMember),
		"POST /admin/teams/{id}/members/{user}/role":             w.adminOnly(w.handleAdminMemberRole),
		"POST /admin/teams/{id}/members/{user}/remove":           w.adminOnly(w.handleAdminRemoveMember),
		"POST /admin/teams/{id}/invitations/{invitation}/revoke": w.adminOnly(w.handleAdminRevokeInvitation),
		"POST /admin/teams/{id}/invitations/{invitation}/resend": w.adminOnly(w.handleAdminResendInvitation),
		"GET /admin/audit":                                       w.adminOnly(w.handleAdminAudit),
		"GET /admin/audit/export":                                w.adminOnly(w.handleAdminAuditExport),
		"GET /admin/mail":                                        w.adminOnly(w.handleAdminMail),
		"GET /admin/system":                                      w.adminOnly(w.handleAdminSystem),
		"POST /admin/system/keys/rotate":                         w.adminOnly(w.handleAdminRotateKey),
		"POST /admin/mail/{id}/retry":                            w.adminOnly(w.handleAdminMailRetry),
	}
}

// routes registers the pages' own routes, each behind its gate and (a form post) the form
// reading, and the HTML 404 of every other path that reaches the pages.
func (w *Web) routes() {
	for _, b := range transport.Bind(w.handlers(), transport.Page, transport.Asset) {
		h := b.Handler
		if b.Auth != rest.Public {
			h = w.account(gateFor(b.Route), h)
		}
		if b.Method() == http.MethodPost {
			// Every form post of the pages is read up front, within the route's limit.
			h = w.form(h, b.BodyLimit)
		}
		w.register(b.Route, h)
	}
	w.mux.HandleFunc("/", w.notFound)
}

// Handle serves a page route of the route table that another package provides (single sign-on)
// behind the pages' chain: panic recovery, access log, security headers, cross-origin protection
// of POSTs unless the table's chain is PageCrossSite, the page session and the principal, the
// route's gate, and its body limit (the handler reads its own body). Call it before serving. It
// panics when pattern is not a page route of the table.
func (w *Web) Handle(pattern string, h http.Handler) {
	b := transport.Bind(map[string]http.Handler{pattern: h}, transport.Page, transport.PageCrossSite)[0]
	if b.BodyLimit > 0 {
		next := h
		h = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(rw, r.Body, b.BodyLimit)
			next.ServeHTTP(rw, r)
		})
	}
	if b.Auth != rest.Public {
		h = w.account(gateFor(b.Route), h.ServeHTTP)
	}
	w.register(b.Route, h)
}

// register adds a route to the mux with what its chain asks of the layers around the mux.
func (w *Web) register(r transport.Route, h http.Handler) {
	w.mux.Handle(r.Pattern, noteRoute(r.Pattern, h))
	switch r.Chain {
	case transport.Asset:
		w.assets[r.Pattern] = true
	case transport.PageCrossSite:
		w.csrf.AddInsecureBypassPattern(r.Pattern)
	}
	w.served = append(w.served, r)
}

// Routes lists the routes the pages serve, their own and those added with Handle, in the order
// they were registered.
func (w *Web) Routes() []transport.Route { return slices.Clone(w.served) }

// filesOnly serves the static files and nothing else: a directory (including /static/ itself)
// is the HTML 404, not http.FileServer's listing, so the set of assets cannot be enumerated.
func (w *Web) filesOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name == "" || strings.HasSuffix(r.URL.Path, "/") {
			w.notFound(rw, r)
			return
		}
		if fi, err := fs.Stat(w.static, name); err != nil || fi.IsDir() {
			w.notFound(rw, r)
			return
		}
		h.ServeHTTP(rw, r)
	})
}

func cacheFor(h http.Handler, policy string) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Cache-Control", policy)
		h.ServeHTTP(rw, r)
	})
}

func (w *Web) handleRoot(rw http.ResponseWriter, r *http.Request) {
	switch p := principal(r); {
	case p == nil:
		http.Redirect(rw, r, "/login", http.StatusSeeOther)
	case p.User.MustChangePassword:
		http.Redirect(rw, r, "/change-password", http.StatusSeeOther)
	default:
		http.Redirect(rw, r, "/profile", http.StatusSeeOther)
	}
}

// gate levels of the account pages.
type gate = auth.Access

const (
	gateAny   = auth.AccessAny            // any signed-in account, even one that must change its password
	gateSetup = auth.AccessTwoFactorSetup // also one that must set up a second factor first
	gateFull  = auth.AccessFull           // only an account without either restriction
)

// gateFor is the gate of a route, from its authentication mode in the route table: the same
// modes that refuse a caller on the API send a browser where it must go first.
func gateFor(r transport.Route) gate {
	switch r.Auth {
	case rest.AuthenticatedMayChangePassword:
		return gateAny
	case rest.AuthenticatedTwoFactorSetup:
		return gateSetup
	case rest.Authenticated:
		return gateFull
	}
	panic(fmt.Sprintf("web: route %q has an authentication mode pages do not have (%d)", r.Pattern, r.Auth))
}

// twoFactorSetupPath is where an account that must set up a second factor is sent.
const twoFactorSetupPath = "/profile#two-factor"

// account lets a signed-in account through to h as far as its restrictions allow; others go
// to the sign-in page (and come back), or to the one thing they must do first.
func (w *Web) account(level gate, h http.HandlerFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		p := principal(r)
		if p == nil {
			target := "/login"
			if r.Method == http.MethodGet {
				target += "?next=" + urlQueryEscape(r.URL.RequestURI())
			}
			http.Redirect(rw, r, target, http.StatusSeeOther) // #nosec G710 -- /login, and next is this request's own path
			return
		}
		noStore(rw)
		switch err := auth.Gate(p, level); {
		case err == nil:
		case errors.Is(err, auth.ErrPasswordChangeRequired):
			http.Redirect(rw, r, "/change-password", http.StatusSeeOther)
			return
		default: // auth.ErrTwoFactorSetupRequired
			w.flash(r, flashInfo, "Set up a second factor to continue.")
			http.Redirect(rw, r, twoFactorSetupPath, http.StatusSeeOther)
			return
		}
		h(rw, r)
	}
}
