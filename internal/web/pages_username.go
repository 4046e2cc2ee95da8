package web

import (
	"fmt"
	"net/http"
	"strings"
)

// Usernames on the pages (SECURITY_USERNAME_ENABLE): the login page's identity field takes an
// address or a username, registration asks for one, the profile shows and changes it, and
// /recover-username mails it (SECURITY_USERNAME_RECOVERY).

// usernameSection is the profile's username form.
const usernameSection = "/profile#username"

// loginIdentity splits what the login page's one identity field holds: an address when it has
// an "@" (usernames never do) or usernames are off, else a username.
func (w *Web) loginIdentity(typed string) (email, username string) {
	if w.auth.UsernamesEnabled() && !strings.Contains(typed, "@") {
		return "", typed
	}
	return typed, ""
}

// handleUsernameChange sets, changes or removes the caller's username. Like the address, it is
// a change of a sign-in identifier: a stale sign-in proves the password again first.
func (w *Web) handleUsernameChange(rw http.ResponseWriter, r *http.Request) {
	if !w.auth.UsernamesEnabled() {
		w.notFound(rw, r)
		return
	}
	if !w.requireFresh(rw, r, usernameSection) {
		return
	}
	u, err := w.auth.ChangeUsername(r.Context(), principal(r), r.PostFormValue("username"), "", w.client(r))
	if err != nil {
		w.failProfile(rw, r, "username", err)
		return
	}
	if u.Username == "" {
		w.flash(r, flashSuccess, "Your username is removed: sign in with your email address.")
	} else {
		w.flash(r, flashSuccess, "Your username is now "+u.Username+".")
	}
	http.Redirect(rw, r, usernameSection, http.StatusSeeOther)
}

func (w *Web) handleRecoverUsernameForm(rw http.ResponseWriter, r *http.Request) {
	if !w.auth.UsernameRecoveryEnabled() {
		w.notFound(rw, r)
		return
	}
	w.render(rw, r, http.StatusOK, "recover_username", &page{Title: "Find your username"})
}

func (w *Web) handleRecoverUsername(rw http.ResponseWriter, r *http.Request) {
	if !w.auth.UsernameRecoveryEnabled() {
		w.notFound(rw, r)
		return
	}
	if err := w.auth.RecoverUsername(r.Context(), r.PostFormValue("email"), w.client(r)); err != nil {
		w.fail(rw, r, "recover_username", &page{Title: "Find your username"}, err)
		return
	}
	// The same answer whether or not the address has an account with a username.
	w.message(rw, r, "Check your email",
		"If an account with a username uses that address, we have sent it the username.", "Sign in", "/login")
}

// usernameHint describes the names the policy accepts, for the forms that ask for one.
func (w *Web) usernameHint() string {
	pol := w.auth.Options().Usernames.Policy
	chars := "letters and digits"
	if pol.Punctuation != "" {
		chars = "letters, digits and " + strings.Join(strings.Split(pol.Punctuation, ""), " ")
	}
	return fmt.Sprintf("%d to %d characters: %s, starting with a letter.", pol.MinLength, pol.MaxLength, chars)
}
