package web

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
)

// handlePasskeyLoginOptions answers the script with the options of a passkey sign-in and the
// ceremony token that its form posts back. Same-origin only: the cross-origin check covers it.
func (w *Web) handlePasskeyLoginOptions(rw http.ResponseWriter, r *http.Request) {
	start, err := w.auth.BeginPasskeyLogin(r.Context(), w.client(r))
	if err != nil {
		w.jsonError(rw, r, err)
		return
	}
	writeJSON(rw, http.StatusOK, map[string]any{"publicKey": json.RawMessage(start.Options), "ceremony": start.Ceremony})
}

func (w *Web) handlePasskeyLogin(rw http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	if principal(r) != nil {
		http.Redirect(rw, r, nextOr(next, defaultNext), http.StatusSeeOther) // #nosec G710 -- nextOr passes only paths of this server
		return
	}
	remember := r.PostFormValue("remember") != ""
	pair, err := w.auth.LoginPasskey(r.Context(), auth.PasskeyLoginInput{
		Ceremony: r.PostFormValue("ceremony"), Assertion: json.RawMessage(r.PostFormValue("assertion")),
		Remember: remember, DeviceToken: w.signinDeviceToken(r), Client: w.client(r),
	})
	if err != nil {
		w.passkeyLoginFailed(rw, r, next, err)
		return
	}
	w.signedIn(rw, r, pair, remember, next)
}

// passkeyLoginFailed shows the login page again with what went wrong with the passkey: unlike a
// wrong password, a refused passkey tells a stranger nothing about which accounts exist (the
// authenticator names its own credential).
func (w *Web) passkeyLoginFailed(rw http.ResponseWriter, r *http.Request, next string, err error) {
	status, msg := http.StatusUnauthorized, "Your passkey could not sign you in. Try again, or sign in with your email and password."
	var ge *gatehouse.Error
	errors.As(err, &ge)
	fields := gatehouse.ErrorFields(err)
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
		status = http.StatusForbidden
		if ge != nil {
			msg = sentence(ge.Message)
		}
	case gatehouse.EInvalid:
		status = http.StatusBadRequest
	default:
		switch {
		case fields["ceremony"] != "":
			msg = "The passkey sign-in took too long or was already used. Please try again."
		case fields["assertion"] != "":
			msg = "Your passkey could not sign you in: " + fields["assertion"] + ". Try again, or sign in with your email and password."
		}
	}
	// Form "passkey" keeps the autofill offer off on this page: a passkey picked from it was
	// just refused, and offering it again at once invites a loop of the same refusal.
	w.render(rw, r, status, "login", w.loginPage(r, &page{Next: next, Error: msg, Form: "passkey"}))
}

// handlePasskeyRegisterOptions answers the script with the creation options of a passkey. A
// stale sign-in gets the address of the password prompt, as for a security key.
func (w *Web) handlePasskeyRegisterOptions(rw http.ResponseWriter, r *http.Request) {
	if !w.fresh(r) {
		writeJSON(rw, http.StatusForbidden, map[string]string{
			"error":  "Please confirm your password first.",
			"verify": "/verify?next=" + urlQueryEscape(securityKeysPath),
		})
		return
	}
	opts, err := w.auth.BeginPasskeyRegistration(r.Context(), principal(r), "", w.client(r))
	if err != nil {
		w.jsonError(rw, r, err)
		return
	}
	writeJSON(rw, http.StatusOK, map[string]json.RawMessage{"publicKey": opts})
}

// handlePasskeyAdd receives the new passkey from the script: the recovery codes page when it is
// the account's first factor, else the profile.
func (w *Web) handlePasskeyAdd(rw http.ResponseWriter, r *http.Request) {
	if !w.requireFresh(rw, r, securityKeysPath) {
		return
	}
	_, codes, err := w.auth.FinishWebAuthnRegistration(r.Context(), principal(r), r.PostFormValue("name"),
		json.RawMessage(r.PostFormValue("credential")), "", w.client(r))
	if err != nil {
		w.failProfile(rw, r, "passkey", err)
		return
	}
	w.factorChanged(rw, r, "Your passkey has been added.", codes)
}
