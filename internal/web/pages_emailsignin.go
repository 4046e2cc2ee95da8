package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
)

// Sign-in by email on the pages (SECURITY_PASSWORDLESS_EMAIL): the login page's "Email me a
// sign-in code" asks for an address (/login/email); the browser keeps the request's binding in
// its page session and types the mailed code (/login/email/code); the mailed link opens
// /login/email/link, where a GET only shows a button (mail scanners open links) and the POST
// signs in when this browser asked, or, in any other browser, confirms that the one that asked
// may finish (it then presses "Continue" on its code page).

// keyEmailSignIn holds the pending sign-in by email of this browser (JSON of emailSignIn).
const keyEmailSignIn = "email_signin"

// emailSignIn is a sign-in by email this browser asked for.
type emailSignIn struct {
	Binding   string    `json:"b"` // secret: it is what makes the mailed code and link work here
	Email     string    `json:"e"`
	ExpiresAt time.Time `json:"x"`
	Remember  bool      `json:"r"`
	Next      string    `json:"n"`
}

// emailSignInOn serves the pages only while sign-in by email is on.
func (w *Web) emailSignInOn(h http.HandlerFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		if !w.auth.EmailSignInEnabled() {
			w.notFound(rw, r)
			return
		}
		noStore(rw)
		h(rw, r)
	}
}

func (w *Web) pendingEmailSignIn(r *http.Request) *emailSignIn {
	s := manager(r).GetString(r.Context(), keyEmailSignIn)
	if s == "" {
		return nil
	}
	var p emailSignIn
	if json.Unmarshal([]byte(s), &p) != nil || !w.now().Before(p.ExpiresAt) {
		return nil
	}
	return &p
}

func (w *Web) setPendingEmailSignIn(r *http.Request, p *emailSignIn) {
	if p == nil {
		manager(r).Remove(r.Context(), keyEmailSignIn)
		return
	}
	b, err := json.Marshal(p)
	if err != nil { // strings, a bool and a time: cannot happen
		w.log.Error("pending email sign-in not kept", "error", err)
		return
	}
	manager(r).Put(r.Context(), keyEmailSignIn, string(b))
}

// verifyByEmail reports whether the re-authentication prompt (/verify) offers a code by email
// instead of the password: for a signed-in account without one, which can sign in by email.
func (w *Web) verifyByEmail(r *http.Request) bool {
	p := principal(r)
	return p != nil && !p.User.PasswordSet() && !p.User.SSOOnly && w.auth.EmailSignInEnabled()
}

// emailRequestData is the form that asks for a code. A signed-in account (re-authenticating,
// as an account without a password must) is sent a code to its own address.
type emailRequestData struct {
	Email string
}

func (w *Web) emailRequestPage(r *http.Request, p *page) *page {
	p.Title = "Sign in with an email code"
	d := emailRequestData{}
	if pr := principal(r); pr != nil {
		d.Email = pr.User.Email
	}
	p.Data = d
	return p
}

func (w *Web) handleEmailSignInForm(rw http.ResponseWriter, r *http.Request) {
	w.render(rw, r, http.StatusOK, "login_email", w.emailRequestPage(r, &page{Next: safeNext(r.URL.Query().Get("next"))}))
}

func (w *Web) handleEmailSignInRequest(rw http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	email := r.PostFormValue("email")
	if pr := principal(r); pr != nil {
		email = pr.User.Email
	}
	t, err := w.auth.RequestEmailSignIn(r.Context(), email, w.client(r))
	if err != nil {
		w.fail(rw, r, "login_email", w.emailRequestPage(r, &page{Next: next}), err)
		return
	}
	w.setPendingEmailSignIn(r, &emailSignIn{Binding: t.Binding, Email: strings.TrimSpace(email), ExpiresAt: t.ExpiresAt,
		Remember: r.PostFormValue("remember") != "", Next: next})
	http.Redirect(rw, r, "/login/email/code", http.StatusSeeOther)
}

// emailCodeData is the page that takes the mailed code.
type emailCodeData struct {
	Email string
}

// pendingEmailOrAsk returns the pending sign-in by email, or sends the browser to ask again.
func (w *Web) pendingEmailOrAsk(rw http.ResponseWriter, r *http.Request) *emailSignIn {
	p := w.pendingEmailSignIn(r)
	if p == nil {
		w.setPendingEmailSignIn(r, nil)
		w.flash(r, flashInfo, "Your sign-in code has expired. Ask for a new one.")
		http.Redirect(rw, r, "/login/email", http.StatusSeeOther)
	}
	return p
}

func (w *Web) handleEmailCodeForm(rw http.ResponseWriter, r *http.Request) {
	p := w.pendingEmailOrAsk(rw, r)
	if p == nil {
		return
	}
	w.render(rw, r, http.StatusOK, "login_email_code", &page{Title: "Check your email", Data: emailCodeData{Email: p.Email}})
}

func (w *Web) handleEmailCode(rw http.ResponseWriter, r *http.Request) {
	p := w.pendingEmailOrAsk(rw, r)
	if p == nil {
		return
	}
	code := ""
	if r.PostFormValue("action") != "continue" { // continue: the link was confirmed elsewhere
		if code = strings.TrimSpace(r.PostFormValue("code")); code == "" {
			w.fail(rw, r, "login_email_code", &page{Title: "Check your email", Data: emailCodeData{Email: p.Email}}, gatehouse.FieldError("code", "is required"))
			return
		}
	}
	pair, err := w.auth.VerifyEmailSignIn(r.Context(), auth.EmailSignInInput{
		Email: p.Email, Binding: p.Binding, Code: code, Remember: p.Remember,
		RememberDeviceToken: w.deviceToken(r), DeviceToken: w.signinDeviceToken(r), Client: w.client(r),
	})
	if err != nil {
		w.fail(rw, r, "login_email_code", &page{Title: "Check your email", Data: emailCodeData{Email: p.Email}}, err)
		return
	}
	w.setPendingEmailSignIn(r, nil)
	w.emailSignedIn(rw, r, pair, p.Remember, p.Next)
}

// emailSignedIn finishes a sign-in by email like a password sign-in: the second step when the
// account has a second factor, else the session. A browser that was signed in already (an
// account without a password proving itself again) leaves its earlier session behind.
func (w *Web) emailSignedIn(rw http.ResponseWriter, r *http.Request, pair *auth.TokenPair, remember bool, next string) {
	if pair.TwoFactor != nil {
		if err := manager(r).RenewToken(r.Context()); err != nil {
			w.serverError(rw, r, err)
			return
		}
		w.setPending(r, &pendingLogin{Challenge: pair.TwoFactor.Challenge, Methods: pair.TwoFactor.Methods,
			ExpiresAt: pair.TwoFactor.ExpiresAt, Remember: remember, Next: next})
		http.Redirect(rw, r, "/login/2fa", http.StatusSeeOther)
		return
	}
	if pr := principal(r); pr != nil && pr.SessionID != pair.SessionID {
		if err := w.auth.Logout(r.Context(), "", pr, w.client(r)); err != nil {
			w.log.Warn("earlier session not ended", "error", err)
		}
	}
	w.signedIn(rw, r, pair, remember, next)
}

// emailLinkData is the page a mailed link opens.
type emailLinkData struct {
	Token string
	Info  *auth.EmailLinkInfo // nil: the link is invalid or expired
	Done  bool                // confirmed for the other browser just now
}

func (w *Web) binding(r *http.Request) string {
	if p := w.pendingEmailSignIn(r); p != nil {
		return p.Binding
	}
	return ""
}

func (w *Web) emailLinkPage(rw http.ResponseWriter, r *http.Request, status int, tok string, p *page) {
	d := emailLinkData{Token: tok}
	info, err := w.auth.EmailSignInLink(r.Context(), tok, w.binding(r), w.client(r))
	switch {
	case err == nil:
		d.Info = info
	case gatehouse.ErrorCode(err) == gatehouse.EInvalid:
		if status == http.StatusOK {
			status = http.StatusBadRequest
		}
	default:
		w.fail(rw, r, "login_email_link", &page{Title: "Sign in", Data: d}, err)
		return
	}
	p.Title, p.Data = "Sign in", d
	w.render(rw, r, status, "login_email_link", p)
}

func (w *Web) handleEmailLinkForm(rw http.ResponseWriter, r *http.Request) {
	// Only the POST acts: a mail scanner that opens the link changes nothing.
	w.emailLinkPage(rw, r, http.StatusOK, r.URL.Query().Get("token"), &page{})
}

func (w *Web) handleEmailLink(rw http.ResponseWriter, r *http.Request) {
	tok := r.PostFormValue("token")
	if r.PostFormValue("action") == "approve" {
		info, err := w.auth.ApproveEmailSignIn(r.Context(), tok, w.client(r))
		if err != nil {
			if gatehouse.ErrorCode(err) == gatehouse.EInvalid {
				w.emailLinkPage(rw, r, http.StatusBadRequest, tok, &page{})
				return
			}
			w.fail(rw, r, "login_email_link", &page{Title: "Sign in", Data: emailLinkData{Token: tok}}, err)
			return
		}
		w.render(rw, r, http.StatusOK, "login_email_link", &page{Title: "Sign in", Data: emailLinkData{Info: info, Done: true}})
		return
	}
	in := auth.EmailLinkInput{Token: tok, RememberDeviceToken: w.deviceToken(r), DeviceToken: w.signinDeviceToken(r), Client: w.client(r)}
	next := ""
	if p := w.pendingEmailSignIn(r); p != nil {
		in.Binding, in.Remember, next = p.Binding, p.Remember, p.Next
	}
	pair, err := w.auth.SignInWithEmailLink(r.Context(), in)
	switch {
	case errors.Is(err, auth.ErrEmailLinkOtherClient), gatehouse.ErrorCode(err) == gatehouse.EInvalid:
		w.emailLinkPage(rw, r, http.StatusOK, tok, &page{})
		return
	case err != nil:
		w.fail(rw, r, "login_email_link", &page{Title: "Sign in", Data: emailLinkData{Token: tok}}, err)
		return
	}
	w.setPendingEmailSignIn(r, nil)
	w.emailSignedIn(rw, r, pair, in.Remember, next)
}

// registerData is what the registration page needs to know.
type registerData struct {
	// PasswordOptional: accounts may be registered without a password (sign-in by email).
	PasswordOptional bool
	// Username asks for a username (SECURITY_USERNAME_ENABLE); UsernameRequired makes it required.
	Username, UsernameRequired bool
	UsernameHint               string
}

func (w *Web) registerData() registerData {
	return registerData{PasswordOptional: w.auth.PasswordlessSignIn(),
		Username: w.auth.UsernamesEnabled(), UsernameRequired: w.auth.UsernameRequired(), UsernameHint: w.usernameHint()}
}
