package mail

import "time"

// KindEmailSignIn is the message of a sign-in by email (SECURITY_PASSWORDLESS_EMAIL).
const KindEmailSignIn = "email_signin"

// EmailSignIn carries a sign-in link and a 6-digit code, which sign in only the browser or app
// that asked for them (it holds the request's binding secret): the message tells the reader
// so, and that opening the link elsewhere asks them to confirm first.
type EmailSignIn struct {
	Link     string        // absolute URL built from PUBLIC_URL
	Code     string        // the 6-digit code
	ValidFor time.Duration // how long link and code work; not shown when zero
}

// Kind implements Content.
func (EmailSignIn) Kind() string { return KindEmailSignIn }

func (c EmailSignIn) validate() error {
	return firstErr(checkLink("link", c.Link, true), checkCode(c.Code, true))
}
