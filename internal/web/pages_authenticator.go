package web

import (
	"net/http"
	"strings"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
)

// Sign-in with an authenticator-app code in the password's place (Flask-Security's unified
// sign-in with "authenticator"; SECURITY_PASSWORDLESS_AUTHENTICATOR): the login page links to
// /login/authenticator, which takes the email and the app's current code. The code is one
// factor, so the account's second step follows on /login/2fa (never the app again), unless
// this browser is a remembered device. Every failure gets one message, as on the login page.

// invalidEmailOrCode is the page's one answer to a failed code, whatever failed.
const invalidEmailOrCode = "Invalid email or code."

// authenticatorOn serves the page only while the setting is on.
func (w *Web) authenticatorOn(h http.HandlerFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		if !w.auth.AuthenticatorSignInEnabled() {
			w.notFound(rw, r)
			return
		}
		noStore(rw)
		h(rw, r)
	}
}

func authenticatorPage(next, msg string) *page {
	return &page{Title: "Sign in with an authenticator code", Next: next, Error: msg}
}

func (w *Web) handleAuthenticatorForm(rw http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if principal(r) != nil {
		http.Redirect(rw, r, nextOr(next, defaultNext), http.StatusSeeOther) // #nosec G710 -- nextOr passes only paths of this server
		return
	}
	// As on the login page, nothing from the query is put in the form.
	w.render(rw, r, http.StatusOK, "login_authenticator", authenticatorPage(next, ""))
}

func (w *Web) handleAuthenticator(rw http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	if principal(r) != nil {
		http.Redirect(rw, r, nextOr(next, defaultNext), http.StatusSeeOther) // #nosec G710 -- nextOr passes only paths of this server
		return
	}
	remember := r.PostFormValue("remember") != ""
	pair, err := w.auth.LoginAuthenticator(r.Context(), auth.AuthenticatorLoginInput{
		Email: r.PostFormValue("email"), Code: strings.TrimSpace(r.PostFormValue("code")), Remember: remember,
		RememberDeviceToken: w.deviceToken(r), DeviceToken: w.signinDeviceToken(r), Client: w.client(r),
	})
	if err != nil {
		w.authenticatorFailed(rw, r, next, err)
		return
	}
	// The same ending as a sign-in by email: the second step, or the session.
	w.emailSignedIn(rw, r, pair, remember, next)
}

// authenticatorFailed shows the form again, empty. A malformed field is named (it says nothing
// about any account); a wrong code, an unknown address or an account without an app all get
// the one message; the answers that come only after a right code (confirmation needed, no
// other second factor) or that say nothing about the account (slow down) are shown as they are.
func (w *Web) authenticatorFailed(rw http.ResponseWriter, r *http.Request, next string, err error) {
	p := authenticatorPage(next, "")
	if gatehouse.ErrorCode(err) == gatehouse.EUnauthenticated {
		p.Error = invalidEmailOrCode
		w.render(rw, r, http.StatusUnauthorized, "login_authenticator", p)
		return
	}
	w.fail(rw, r, "login_authenticator", p, err)
}
