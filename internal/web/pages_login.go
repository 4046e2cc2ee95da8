package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
)

// loginData is what the login page shows besides the form.
type loginData struct {
	Recovery bool // the "Forgot password?" link: SMTP and SECURITY_RECOVERABLE
	Register bool // the registration link: SECURITY_REGISTERABLE
	SSO      []SSOButton
	Passkey  bool // "Sign in with a passkey" and autofill: SECURITY_WAN_ALLOW_AS_FIRST_FACTOR

	// EmailCode offers "Email me a sign-in code" below the form (SECURITY_PASSWORDLESS_EMAIL).
	EmailCode bool
	// Authenticator offers "Use a code from your authenticator app" below the form
	// (SECURITY_PASSWORDLESS_AUTHENTICATOR).
	Authenticator bool
	// Username: the identity field takes an address or a username (SECURITY_USERNAME_ENABLE);
	// UsernameRecovery offers "Forgot your username?" below the form.
	Username, UsernameRecovery bool
}

// invalidCredentials is the login page's one answer to every failed password, whatever failed,
// so that it tells nobody which accounts exist.
const invalidCredentials = "Invalid email or password."

// invalidIdentityCredentials is invalidCredentials where the field also takes usernames.
const invalidIdentityCredentials = "Invalid email, username or password." // #nosec G101 -- a message, not a credential

func (w *Web) loginPage(r *http.Request, p *page) *page {
	if p == nil {
		p = &page{}
	}
	p.Title = "Sign in"
	d := loginData{Recovery: w.auth.RecoveryEnabled(), Register: w.auth.Options().Registerable,
		Passkey: w.auth.PasskeySignInEnabled(), EmailCode: w.auth.EmailSignInEnabled(),
		Authenticator: w.auth.AuthenticatorSignInEnabled(),
		Username:      w.auth.UsernamesEnabled(), UsernameRecovery: w.auth.UsernameRecoveryEnabled()}
	if b := w.sso.Load(); b != nil {
		d.SSO = (*b).Buttons(r.Context())
		// The sign-in through the identity provider ends where a password sign-in would have.
		if p.Next != "" {
			with := make([]SSOButton, len(d.SSO))
			for i, btn := range d.SSO {
				sep := "?"
				if strings.Contains(btn.URL, "?") {
					sep = "&"
				}
				with[i] = SSOButton{Label: btn.Label, URL: btn.URL + sep + "next=" + url.QueryEscape(p.Next)}
			}
			d.SSO = with
		}
	}
	p.Data = d
	return p
}

func (w *Web) handleLoginForm(rw http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if principal(r) != nil {
		http.Redirect(rw, r, nextOr(next, defaultNext), http.StatusSeeOther) // #nosec G710 -- nextOr passes only paths of this server
		return
	}
	// Whatever the query says (?email=…, ?password=…), no credential is ever put in the form.
	w.render(rw, r, http.StatusOK, "login", w.loginPage(r, &page{Next: next}))
}

func (w *Web) handleLogin(rw http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	if principal(r) != nil {
		http.Redirect(rw, r, nextOr(next, defaultNext), http.StatusSeeOther)
		return
	}
	remember := r.PostFormValue("remember") != ""
	email, name := w.loginIdentity(r.PostFormValue("email"))
	pair, err := w.auth.Login(r.Context(), auth.LoginInput{
		Email: email, Username: name, Password: r.PostFormValue("password"), Remember: remember,
		RememberDeviceToken: w.deviceToken(r), DeviceToken: w.signinDeviceToken(r), Client: w.client(r),
	})
	if err != nil {
		w.loginFailed(rw, r, next, err)
		return
	}
	if pair.TwoFactor != nil {
		// The password was right; the session opens only after the second step. The page
		// session keeps the challenge (never the password), with a new token.
		if err := manager(r).RenewToken(r.Context()); err != nil {
			w.serverError(rw, r, err)
			return
		}
		w.setPending(r, &pendingLogin{Challenge: pair.TwoFactor.Challenge, Methods: pair.TwoFactor.Methods,
			ExpiresAt: pair.TwoFactor.ExpiresAt, Remember: remember, Next: next})
		http.Redirect(rw, r, "/login/2fa", http.StatusSeeOther)
		return
	}
	w.signedIn(rw, r, pair, remember, next)
}

// signedIn finishes a sign-in: the page session now points at the auth session.
func (w *Web) signedIn(rw http.ResponseWriter, r *http.Request, pair *auth.TokenPair, remember bool, next string) {
	if err := w.EstablishSession(rw, r, pair, remember); err != nil {
		w.serverError(rw, r, err)
		return
	}
	w.setSigninDeviceToken(rw, r, pair.DeviceToken)
	if pair.PasswordChangeRequired {
		http.Redirect(rw, r, "/change-password", http.StatusSeeOther)
		return
	}
	http.Redirect(rw, r, nextOr(next, defaultNext), http.StatusSeeOther)
}

// loginFailed shows the login page again with the one generic message for wrong credentials;
// only answers that come after a right password (confirmation needed) or that say nothing
// about the account (slow down) differ. The fields stay empty.
func (w *Web) loginFailed(rw http.ResponseWriter, r *http.Request, next string, err error) {
	status, msg := http.StatusUnauthorized, invalidCredentials
	if w.auth.UsernamesEnabled() {
		msg = invalidIdentityCredentials
	}
	var ge *gatehouse.Error
	errors.As(err, &ge)
	switch gatehouse.ErrorCode(err) {
	case gatehouse.EInternal, gatehouse.EUnavailable:
		w.serverError(rw, r, err)
		return
	case gatehouse.ERateLimited:
		status, msg = http.StatusTooManyRequests, "Too many failed sign-in attempts. Please wait a while and try again."
		if ge != nil && ge.RetryAfter > 0 {
			rw.Header().Set("Retry-After", retryAfter(ge.RetryAfter))
		}
	case gatehouse.EForbidden:
		if ge != nil && ge.Reason != "" {
			status, msg = http.StatusForbidden, sentence(ge.Message)
		}
	}
	w.render(rw, r, status, "login", w.loginPage(r, &page{Next: next, Error: msg}))
}

func (w *Web) handleLogout(rw http.ResponseWriter, r *http.Request) {
	if p := principal(r); p != nil {
		if err := w.auth.Logout(r.Context(), "", p, w.client(r)); err != nil {
			w.serverError(rw, r, err)
			return
		}
	}
	if err := w.endSession(r, flashSuccess, "You have signed out."); err != nil {
		w.serverError(rw, r, err)
		return
	}
	http.Redirect(rw, r, "/login", http.StatusSeeOther)
}

// deviceToken is the remember-this-device token the browser holds, if any.
func (w *Web) deviceToken(r *http.Request) string {
	name := deviceCookie
	if w.secureRequest(r) {
		name = secureDeviceCookie
	}
	if c, err := r.Cookie(name); err == nil {
		return c.Value
	}
	return ""
}

// setDeviceToken stores a remember-this-device token in its own long-lived cookie: it outlives
// sign-outs on purpose, and works only for the account and security stamp it was made for.
func (w *Web) setDeviceToken(rw http.ResponseWriter, r *http.Request, tok string) {
	life := w.auth.Options().TwoFactorRememberFor
	if tok == "" || life <= 0 {
		return
	}
	secure := w.secureRequest(r)
	name := deviceCookie
	if secure {
		name = secureDeviceCookie
	}
	// Secure follows COOKIE_SECURE, as for the session cookie (plain HTTP in development).
	http.SetCookie(rw, &http.Cookie{ // #nosec G124 -- HttpOnly, SameSite=Lax, Secure per COOKIE_SECURE
		Name: name, Value: tok, Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
		MaxAge: int(life / time.Second), Expires: time.Now().Add(life),
	})
}

// retryAfter is a Retry-After value: whole seconds, rounded up.
func retryAfter(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}
