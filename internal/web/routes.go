package web

import (
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// routes is the whole page surface. API paths (/api/, /.well-known/, /healthz, /readyz,
// /metrics) never reach this handler: internal/app sends them to the API. Every form post goes
// through w.form, which bounds and parses its body.
func (w *Web) routes() {
	m := w.mux
	static := w.filesOnly(http.FileServerFS(w.static))
	m.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(static, "public, max-age=3600")))
	m.HandleFunc("GET /logo", w.handleLogo)
	m.HandleFunc("GET /logo/mark", w.handleLogoMark)
	m.HandleFunc("GET /{$}", w.handleRoot)

	// Signing in and out.
	m.HandleFunc("GET /login", w.handleLoginForm)
	m.HandleFunc("POST /login", w.form(w.handleLogin))
	m.HandleFunc("POST /logout", w.form(w.handleLogout))
	m.HandleFunc("GET /login/2fa", w.handleTwoFactorForm)
	m.HandleFunc("POST /login/2fa", w.form(w.handleTwoFactor))
	m.HandleFunc("POST /login/2fa/email-code", w.form(w.handleTwoFactorEmailCode))
	m.HandleFunc("POST /login/2fa/webauthn/options", w.form(w.handleTwoFactorWebAuthnOptions))

	// Recovery, confirmation and registration: one-time tokens are only consumed by POST.
	m.HandleFunc("GET /forgot-password", w.handleForgotForm)
	m.HandleFunc("POST /forgot-password", w.form(w.handleForgot))
	m.HandleFunc("GET /reset-password", w.handleResetForm)
	m.HandleFunc("POST /reset-password", w.form(w.handleReset))
	m.HandleFunc("GET /confirm", w.handleConfirmForm)
	m.HandleFunc("POST /confirm", w.form(w.handleConfirm))
	m.HandleFunc("POST /confirm/resend", w.form(w.handleConfirmResend))
	m.HandleFunc("GET /register", w.handleRegisterForm)
	m.HandleFunc("POST /register", w.form(w.handleRegister))

	// The signed-in account. Gates: anyAccount lets accounts that must change their password
	// in; setupAccount also lets in accounts that must first set up a second factor, and
	// fullAccount only accounts with neither restriction.
	m.HandleFunc("GET /change-password", w.anyAccount(w.handleMustChangeForm))
	m.HandleFunc("POST /change-password", w.form(w.anyAccount(w.handleMustChange)))
	m.HandleFunc("GET /verify", w.setupAccount(w.handleVerifyForm))
	m.HandleFunc("POST /verify", w.form(w.setupAccount(w.handleVerify)))
	m.HandleFunc("GET /profile", w.setupAccount(w.handleProfile))
	m.HandleFunc("POST /profile/password", w.form(w.setupAccount(w.handleProfilePassword)))
	m.HandleFunc("POST /profile/sessions/{id}/revoke", w.form(w.fullAccount(w.handleSessionRevoke)))
	m.HandleFunc("POST /profile/sessions/revoke-all", w.form(w.setupAccount(w.handleSessionsRevokeAll)))
	m.HandleFunc("POST /profile/api-keys", w.form(w.fullAccount(w.handleAPIKeyCreate)))
	m.HandleFunc("POST /profile/api-keys/{id}/revoke", w.form(w.fullAccount(w.handleAPIKeyRevoke)))
	w.twoFactorRoutes()
	w.emailChangeRoutes()
	w.emailSignInRoutes()

	// Team invitations: the mailed link opens this page.
	m.HandleFunc("GET /invitations/accept", w.fullAccount(w.handleInvitationForm))
	m.HandleFunc("POST /invitations/accept", w.form(w.fullAccount(w.handleInvitationAccept)))

	m.HandleFunc("/", w.notFound)
}

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
type gate int

const (
	gateAny   gate = iota // any signed-in account, even one that must change its password
	gateSetup             // also one that must set up a second factor first
	gateFull              // only an account without either restriction
)

func (w *Web) anyAccount(h http.HandlerFunc) http.HandlerFunc   { return w.account(gateAny, h) }
func (w *Web) setupAccount(h http.HandlerFunc) http.HandlerFunc { return w.account(gateSetup, h) }
func (w *Web) fullAccount(h http.HandlerFunc) http.HandlerFunc  { return w.account(gateFull, h) }

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
		if level > gateAny && p.User.MustChangePassword {
			http.Redirect(rw, r, "/change-password", http.StatusSeeOther)
			return
		}
		if level > gateSetup && p.TwoFactorSetupRequired {
			w.flash(r, flashInfo, "Set up a second factor to continue.")
			http.Redirect(rw, r, twoFactorSetupPath, http.StatusSeeOther)
			return
		}
		h(rw, r)
	}
}
