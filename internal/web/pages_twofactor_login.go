package web

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
)

// twoFactorLoginData is what the second sign-in step shows.
type twoFactorLoginData struct {
	Methods        []string
	TOTP           bool
	Recovery       bool
	Email          bool
	EmailSent      bool
	WebAuthn       bool
	RememberDevice bool // offer "remember this device" (SECURITY_TWO_FACTOR_REMEMBER_DURATION > 0)
	Method         string
}

func (w *Web) twoFactorPage(pl *pendingLogin, p *page) *page {
	if p == nil {
		p = &page{}
	}
	p.Title = "Two-step verification"
	has := func(m string) bool { return slices.Contains(pl.Methods, m) }
	p.Data = twoFactorLoginData{
		Methods: pl.Methods, TOTP: has(auth.MethodTOTP), Recovery: has(auth.MethodRecoveryCode),
		Email: has(auth.MethodEmail), EmailSent: pl.EmailSent, WebAuthn: has(auth.MethodWebAuthn),
		RememberDevice: w.auth.Options().TwoFactorRememberFor > 0,
	}
	return p
}

// pendingOrLogin returns the pending second step, or sends the browser back to the password
// step (the challenge expired, or there never was one).
func (w *Web) pendingOrLogin(rw http.ResponseWriter, r *http.Request) *pendingLogin {
	pl := w.pending(r)
	if pl == nil {
		w.setPending(r, nil)
		w.flash(r, flashInfo, "Your sign-in has expired. Please sign in again.")
		http.Redirect(rw, r, "/login", http.StatusSeeOther)
	}
	return pl
}

func (w *Web) handleTwoFactorForm(rw http.ResponseWriter, r *http.Request) {
	if principal(r) != nil {
		http.Redirect(rw, r, defaultNext, http.StatusSeeOther)
		return
	}
	pl := w.pendingOrLogin(rw, r)
	if pl == nil {
		return
	}
	w.render(rw, r, http.StatusOK, "login_2fa", w.twoFactorPage(pl, nil))
}

func (w *Web) handleTwoFactor(rw http.ResponseWriter, r *http.Request) {
	pl := w.pendingOrLogin(rw, r)
	if pl == nil {
		return
	}
	method := r.PostFormValue("method")
	in := auth.TwoFactorInput{
		Challenge: pl.Challenge, Method: method, Code: r.PostFormValue("code"),
		RememberDevice: r.PostFormValue("remember_device") != "", Remember: pl.Remember,
		DeviceToken: w.signinDeviceToken(r), Client: w.client(r),
	}
	if method == auth.MethodWebAuthn {
		in.Assertion = json.RawMessage(r.PostFormValue("assertion"))
	}
	pair, err := w.auth.LoginTwoFactor(r.Context(), in)
	if err != nil {
		switch gatehouse.ErrorCode(err) {
		case gatehouse.EInternal, gatehouse.EUnavailable:
			w.serverError(rw, r, err)
			return
		}
		if _, dead := gatehouse.ErrorFields(err)["challenge"]; dead {
			w.setPending(r, nil)
			w.flash(r, flashError, "That sign-in can no longer be completed. Please sign in again.")
			http.Redirect(rw, r, "/login", http.StatusSeeOther)
			return
		}
		p := w.twoFactorPage(pl, &page{})
		p.Data = withMethod(p.Data.(twoFactorLoginData), method)
		w.fail(rw, r, "login_2fa", p, err)
		return
	}
	w.setDeviceToken(rw, r, pair.RememberDeviceToken)
	w.signedIn(rw, r, pair, pl.Remember, pl.Next)
}

func withMethod(d twoFactorLoginData, m string) twoFactorLoginData {
	d.Method = m
	return d
}

// handleTwoFactorEmailCode mails a (new) sign-in code for the pending challenge.
func (w *Web) handleTwoFactorEmailCode(rw http.ResponseWriter, r *http.Request) {
	pl := w.pendingOrLogin(rw, r)
	if pl == nil {
		return
	}
	if err := w.auth.SendTwoFactorEmailCode(r.Context(), pl.Challenge, w.client(r)); err != nil {
		p := w.twoFactorPage(pl, &page{})
		p.Data = withMethod(p.Data.(twoFactorLoginData), auth.MethodEmail)
		w.fail(rw, r, "login_2fa", p, err)
		return
	}
	pl.EmailSent = true
	w.setPending(r, pl)
	w.flash(r, flashSuccess, "We sent a sign-in code to your email address. It is valid for a few minutes.")
	http.Redirect(rw, r, "/login/2fa#email", http.StatusSeeOther)
}

// handleTwoFactorWebAuthnOptions answers the security-key script with the options for
// navigator.credentials.get (JSON). Same-origin only: the cross-origin check covers it.
func (w *Web) handleTwoFactorWebAuthnOptions(rw http.ResponseWriter, r *http.Request) {
	pl := w.pending(r)
	if pl == nil {
		writeJSON(rw, http.StatusUnauthorized, map[string]string{"error": "Your sign-in has expired. Please sign in again."})
		return
	}
	opts, err := w.auth.WebAuthnLoginOptions(r.Context(), pl.Challenge)
	if err != nil {
		w.jsonError(rw, r, err)
		return
	}
	writeJSON(rw, http.StatusOK, map[string]json.RawMessage{"publicKey": opts})
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	noStore(rw)
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_, _ = rw.Write(b)
}

// jsonError answers the script with a message it can show.
func (w *Web) jsonError(rw http.ResponseWriter, r *http.Request, err error) {
	switch gatehouse.ErrorCode(err) {
	case gatehouse.EInternal, gatehouse.EUnavailable:
		w.log.Error("page request failed", "path", r.URL.Path, "error", err)
		writeJSON(rw, http.StatusInternalServerError, map[string]string{"error": "Something went wrong. Please try again."})
		return
	}
	writeJSON(rw, http.StatusBadRequest, map[string]string{"error": sentence(gatehouse.ErrorMessage(err))})
}
