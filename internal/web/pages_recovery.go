package web

import (
	"net/http"
	"strings"

	"github.com/gatehousehq/gatehouse"
)

// messageData is the body of a page that only says something (and maybe links on).
type messageData struct {
	Heading string
	Text    string
	Link    string
	LinkTo  string
}

func (w *Web) message(rw http.ResponseWriter, r *http.Request, title, text, link, linkTo string) {
	w.render(rw, r, http.StatusOK, "message", &page{Title: title, Data: messageData{Heading: title, Text: text, Link: link, LinkTo: linkTo}})
}

// passwordsMatch checks the repeated new password of a form.
func passwordsMatch(p *page, next, again, field string) bool {
	if next != "" && next != again {
		p.Error = "Please correct the field below."
		p.Fields = map[string]string{field: "The passwords do not match."}
		return false
	}
	return true
}

func (w *Web) handleForgotForm(rw http.ResponseWriter, r *http.Request) {
	if !w.auth.RecoveryEnabled() {
		w.notFound(rw, r)
		return
	}
	w.render(rw, r, http.StatusOK, "forgot", &page{Title: "Reset your password"})
}

func (w *Web) handleForgot(rw http.ResponseWriter, r *http.Request) {
	if !w.auth.RecoveryEnabled() {
		w.notFound(rw, r)
		return
	}
	err := w.auth.ForgotPassword(r.Context(), r.PostFormValue("email"), w.client(r))
	if err != nil {
		w.fail(rw, r, "forgot", &page{Title: "Reset your password"}, err)
		return
	}
	// The same answer whether or not the address has an account.
	w.message(rw, r, "Check your email",
		"If an account uses that address, we have sent it a link and a code to reset the password. The link works once and expires soon.",
		"Enter a code instead", "/reset-password")
}

// linkData carries the token of a mailed link (reset, confirmation, email change, invitation)
// into the form (hidden), or asks for the mailed code when the page was opened without one.
type linkData struct {
	Token string
}

// postedToken is the one-time token a link page posts: the link's (hidden) token, or else the
// code the user typed.
func postedToken(r *http.Request) string {
	if tok := strings.TrimSpace(r.PostFormValue("token")); tok != "" {
		return tok
	}
	return strings.TrimSpace(r.PostFormValue("code"))
}

func (w *Web) handleResetForm(rw http.ResponseWriter, r *http.Request) {
	if !w.auth.RecoveryEnabled() {
		w.notFound(rw, r)
		return
	}
	// Only the POST consumes the token: a mail scanner that opens the link changes nothing.
	w.render(rw, r, http.StatusOK, "reset", &page{Title: "Choose a new password", Data: linkData{Token: r.URL.Query().Get("token")}})
}

func (w *Web) handleReset(rw http.ResponseWriter, r *http.Request) {
	if !w.auth.RecoveryEnabled() {
		w.notFound(rw, r)
		return
	}
	tok := postedToken(r)
	next := r.PostFormValue("new_password")
	p := &page{Title: "Choose a new password", Data: linkData{Token: r.PostFormValue("token")}}
	if !passwordsMatch(p, next, r.PostFormValue("confirm_password"), "confirm_password") {
		w.render(rw, r, http.StatusBadRequest, "reset", p)
		return
	}
	if err := w.auth.ResetPassword(r.Context(), tok, next, w.client(r)); err != nil {
		if _, bad := gatehouse.ErrorFields(err)["token"]; bad {
			p.Data = linkData{} // a dead link: ask for the code, or a new link
		}
		w.fail(rw, r, "reset", p, err)
		return
	}
	w.flash(r, flashSuccess, "Your password has been changed. Sign in with the new password.")
	http.Redirect(rw, r, "/login", http.StatusSeeOther)
}

func (w *Web) handleConfirmForm(rw http.ResponseWriter, r *http.Request) {
	w.render(rw, r, http.StatusOK, "confirm", &page{Title: "Confirm your email address",
		Data: confirmData{Token: r.URL.Query().Get("token"), Resend: w.auth.Options().Confirmable}})
}

type confirmData struct {
	Token  string
	Resend bool
}

func (w *Web) handleConfirm(rw http.ResponseWriter, r *http.Request) {
	tok := postedToken(r)
	if err := w.auth.Confirm(r.Context(), tok, w.client(r)); err != nil {
		w.fail(rw, r, "confirm", &page{Title: "Confirm your email address", Data: confirmData{Resend: w.auth.Options().Confirmable}}, err)
		return
	}
	if principal(r) != nil {
		w.flash(r, flashSuccess, "Your email address is confirmed.")
		http.Redirect(rw, r, defaultNext, http.StatusSeeOther)
		return
	}
	w.flash(r, flashSuccess, "Your email address is confirmed. You can sign in now.")
	http.Redirect(rw, r, "/login", http.StatusSeeOther)
}

func (w *Web) handleConfirmResend(rw http.ResponseWriter, r *http.Request) {
	if err := w.auth.ResendConfirmation(r.Context(), r.PostFormValue("email"), w.client(r)); err != nil {
		w.fail(rw, r, "confirm", &page{Title: "Confirm your email address", Form: "resend", Data: confirmData{Resend: w.auth.Options().Confirmable}}, err)
		return
	}
	w.message(rw, r, "Check your email",
		"If that address has an account waiting for confirmation, we have sent it a new link and code.", "", "")
}

func (w *Web) handleRegisterForm(rw http.ResponseWriter, r *http.Request) {
	if !w.auth.Options().Registerable {
		w.notFound(rw, r)
		return
	}
	if principal(r) != nil {
		http.Redirect(rw, r, defaultNext, http.StatusSeeOther)
		return
	}
	w.render(rw, r, http.StatusOK, "register", &page{Title: "Create an account", Data: w.registerData()})
}

func (w *Web) handleRegister(rw http.ResponseWriter, r *http.Request) {
	if !w.auth.Options().Registerable {
		w.notFound(rw, r)
		return
	}
	p := &page{Title: "Create an account", Data: w.registerData()}
	password := r.PostFormValue("password")
	if !passwordsMatch(p, password, r.PostFormValue("confirm_password"), "confirm_password") {
		w.render(rw, r, http.StatusBadRequest, "register", p)
		return
	}
	if err := w.auth.RegisterWithUsername(r.Context(), r.PostFormValue("email"), r.PostFormValue("username"), password, w.client(r)); err != nil {
		w.fail(rw, r, "register", p, err)
		return
	}
	// The same answer whether or not the address was taken (its owner gets an email instead).
	if password == "" {
		// An account without a password (sign-in by email): signing in by email also
		// confirms the address.
		w.message(rw, r, "Account created", "Sign in with a code we send to your email address.", "Email me a sign-in code", "/login/email")
		return
	}
	if w.auth.Options().Confirmable {
		w.message(rw, r, "Check your email",
			"We have sent a link and a code to confirm your address. Follow the link, then sign in.",
			"Enter a code instead", "/confirm")
		return
	}
	w.message(rw, r, "Account created", "You can now sign in with your email address and password.", "Sign in", "/login")
}
