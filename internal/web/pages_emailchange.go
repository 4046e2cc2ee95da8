package web

import (
	"net/http"
	"strings"
)

// Changing the account's email address: the profile's form asks (fresh sign-in and the
// password), and the link mailed to the new address opens the confirmation page, whose button
// makes the change. Without SMTP there is no way to prove the new address: no form, no page.

// emailChangeSection is the email part of the profile.
const emailChangeSection = "/profile#email"

func (w *Web) handleEmailChangeRequest(rw http.ResponseWriter, r *http.Request) {
	if !w.auth.EmailChangeEnabled() {
		w.notFound(rw, r)
		return
	}
	// Like the second-factor changes: a stale sign-in proves the password again first.
	if !w.requireFresh(rw, r, emailChangeSection) {
		return
	}
	next := strings.TrimSpace(r.PostFormValue("new_email"))
	if err := w.auth.RequestEmailChange(r.Context(), principal(r), next, r.PostFormValue("password"), w.client(r)); err != nil {
		w.failProfile(rw, r, "change-email", err)
		return
	}
	// The same message whether or not the address has an account already.
	w.flash(r, flashSuccess, "We have sent a link and a code to "+next+". Your address changes when you open the link or enter the code; until then, nothing changes.")
	http.Redirect(rw, r, emailChangeSection, http.StatusSeeOther)
}

func (w *Web) handleEmailChangeForm(rw http.ResponseWriter, r *http.Request) {
	if !w.auth.EmailChangeEnabled() {
		w.notFound(rw, r)
		return
	}
	// Only the POST consumes the token: a mail scanner that opens the link changes nothing.
	w.render(rw, r, http.StatusOK, "confirm_email", &page{Title: "Confirm your new email address", Data: linkData{Token: r.URL.Query().Get("token")}})
}

func (w *Web) handleEmailChangeConfirm(rw http.ResponseWriter, r *http.Request) {
	if !w.auth.EmailChangeEnabled() {
		w.notFound(rw, r)
		return
	}
	tok := postedToken(r)
	u, err := w.auth.ConfirmEmailChange(r.Context(), tok, w.client(r))
	if err != nil {
		w.fail(rw, r, "confirm_email", &page{Title: "Confirm your new email address", Data: linkData{}}, err)
		return
	}
	msg := "Your email address is now " + u.Email + ". You have been signed out everywhere: sign in with the new address."
	if principal(r) != nil {
		// The change ended this browser's session with all the others.
		if err := w.endSession(r, flashSuccess, msg); err != nil {
			w.serverError(rw, r, err)
			return
		}
	} else {
		w.flash(r, flashSuccess, msg)
	}
	http.Redirect(rw, r, "/login", http.StatusSeeOther)
}
